import {createHash} from 'node:crypto'
import {closeSync, createReadStream, existsSync, lstatSync, openSync, readFileSync, readSync} from 'node:fs'
import path from 'node:path'

import {ChainCheck} from '../case/journal.js'
import {ExitCode, IrError} from '../errors.js'
import {decryptStream, isAgeFile, readIdentities} from './bundle-crypt.js'
import {BundleFormatError, type EntryHandler, isArchiveHead, readBundle, readTarGz} from './bundle-read.js'
import {MANIFEST, parseManifest} from './manifest.js'

/**
 * `ir verify BUNDLE`: the sibling `<archive>.sha256`, every manifest entry (present, same SHA-256),
 * files present but not in the manifest, case.json readable, and the journal's hash chain. Works
 * on a tar.gz, a zip, or an extracted bundle directory; nothing is extracted, memory stays flat:
 * every member is streamed, the journal checked line by line, the manifest and case.json read
 * only up to a bound (a hostile bundle is reported, never a crash).
 */

export interface VerifyProblem {
  path: string
  problem: string
}

export interface VerifyResult {
  ok: boolean
  /** Files whose hash was checked against the manifest (plus the archive against its sibling). */
  checked: number
  problems: VerifyProblem[]
  bundle: string
  root?: string
  sha256?: string
  /** An age-encrypted bundle; contentsChecked false: only the ciphertext hash was checked (no identity). */
  encrypted?: boolean
  contentsChecked?: boolean
}

/** Members read into memory, each with its bound (a bundle written by ir is far below them). */
const KEEP = new Map([
  [MANIFEST, 64 << 20],
  ['case.json', 64 << 20],
])
/** A journal line longer than this is not parsed (its hash still chains). */
const JOURNAL_LINE_MAX = 4 << 20

export async function verifyBundle(bundle: string, opts: {identity?: string} = {}): Promise<VerifyResult> {
  const file = path.resolve(bundle)
  if (!existsSync(file)) {
    throw new IrError(
      `Bundle ${bundle} does not exist.`,
      ExitCode.Usage,
      ['Pass the .tar.gz / .zip written by `ir collect` (or its extracted folder).'],
      'BUNDLE_MISSING',
    )
  }
  const problems: VerifyProblem[] = []
  const isDir = lstatSync(file).isDirectory()
  const head = isDir ? undefined : readHead(file)
  const encrypted = head !== undefined && isAgeFile(head)
  if (head && !encrypted && !isArchiveHead(head)) {
    throw new IrError(
      `${bundle} is not an ir bundle (not a tar.gz, zip or .age archive, nor a bundle folder).`,
      ExitCode.PreconditionFailed,
      ['Pass the .tar.gz / .zip (or .tar.gz.age) written by `ir collect`, or its extracted folder.'],
      'NOT_A_BUNDLE',
    )
  }
  const identity = encrypted && opts.identity ? readIdentities(opts.identity) : undefined
  if (encrypted && !identity) return ciphertextOnly(file)
  let checked = 0
  const archiveHash = createHash('sha256')
  const hashes = new Map<string, string>()
  const kept = new Map<string, Buffer>()
  const roots = new Set<string>()
  let journalSeen = false
  try {
    const read = identity
      ? async (h: EntryHandler) => readTarGz(await decryptStream(createReadStream(file), identity), h)
      : (h: EntryHandler) => readBundle(file, h)
    await read(async (e) => {
      const slash = e.name.indexOf('/')
      const root = slash < 0 ? e.name : e.name.slice(0, slash)
      const rel = slash < 0 ? '' : e.name.slice(slash + 1).replace(/\/$/, '')
      roots.add(root)
      if (e.type === 'directory') return
      if (e.type !== 'file' || rel === '') {
        problems.push({
          path: e.name,
          problem:
            e.type === 'symlink'
              ? 'a symlink inside the bundle'
              : 'an unexpected entry (not a regular file under the bundle root)',
        })
        return
      }
      const h = createHash('sha256')
      const bound = KEEP.get(rel)
      let keep: Buffer[] | undefined = bound === undefined ? undefined : []
      let keptBytes = 0
      const chain = rel === 'journal.jsonl' && !journalSeen ? new ChainCheck(JOURNAL_LINE_MAX) : undefined
      for await (const c of e.body) {
        h.update(c)
        chain?.push(c)
        if (!keep) continue
        keptBytes += c.length
        if (keptBytes > bound!) {
          keep = undefined
          problems.push({
            path: rel,
            problem: `larger than ${bound! >> 20} MiB: not read (ir never writes one this big)`,
          })
        } else keep.push(c)
      }
      if (hashes.has(rel)) problems.push({path: rel, problem: 'present twice in the archive'})
      hashes.set(rel, h.digest('hex'))
      if (keep) kept.set(rel, Buffer.concat(keep))
      if (chain) {
        journalSeen = true
        for (const p of chain.end()) problems.push({path: 'journal.jsonl', problem: `line ${p.line}: ${p.problem}`})
      }
    })
  } catch (err) {
    if (err instanceof IrError) throw err
    const what =
      err instanceof BundleFormatError
        ? err.message
        : encrypted
          ? `cannot be decrypted and read with ${opts.identity} (${(err as Error).message})`
          : `cannot be read (${(err as Error).message})`
    problems.push({path: path.basename(file), problem: `archive ${what}`})
  }

  let sha256: string | undefined
  if (!isDir) {
    for await (const c of createReadStream(file, {highWaterMark: 1 << 20})) archiveHash.update(c as Buffer)
    sha256 = archiveHash.digest('hex')
    const sibling = siblingProblems(file, sha256)
    if (!sibling.some((p) => /missing|format/.test(p.problem))) checked++
    problems.push(...sibling)
  }
  if (roots.size > 1) problems.push({path: [...roots].join(', '), problem: 'more than one top-level folder'})
  const root = roots.size === 1 ? [...roots][0] : undefined

  const manifest = kept.get(MANIFEST)
  if (!manifest) {
    if (!hashes.has(MANIFEST)) problems.push({path: MANIFEST, problem: 'missing'})
  } else {
    const parsed = parseManifest(manifest.toString('utf8'))
    for (const p of parsed.problems) problems.push({path: MANIFEST, problem: `line ${p.line}: ${p.problem}`})
    for (const [p, want] of parsed.entries) {
      const got = hashes.get(p)
      if (got === undefined) problems.push({path: p, problem: 'listed in the manifest, missing from the bundle'})
      else {
        checked++
        if (got !== want) problems.push({path: p, problem: `SHA-256 ${got} differs from the manifest (${want})`})
      }
    }
    for (const p of hashes.keys())
      if (p !== MANIFEST && !parsed.entries.has(p))
        problems.push({path: p, problem: 'present in the bundle, not in the manifest'})
  }

  if (!journalSeen) problems.push({path: 'journal.jsonl', problem: 'missing'})

  const caseJson = kept.get('case.json')
  if (!caseJson) {
    if (!hashes.has('case.json')) problems.push({path: 'case.json', problem: 'missing'})
  } else {
    try {
      JSON.parse(caseJson.toString('utf8'))
    } catch {
      problems.push({path: 'case.json', problem: 'not valid JSON'})
    }
  }
  const result = {ok: problems.length === 0, checked, problems, bundle: file, root, sha256}
  return encrypted ? {...result, encrypted, contentsChecked: true} : result
}

/** Without an identity only the ciphertext can be checked: against its sibling .sha256, and nothing more is claimed. */
async function ciphertextOnly(file: string): Promise<VerifyResult> {
  const problems: VerifyProblem[] = []
  const h = createHash('sha256')
  for await (const c of createReadStream(file, {highWaterMark: 1 << 20})) h.update(c as Buffer)
  const sha256 = h.digest('hex')
  problems.push(...siblingProblems(file, sha256))
  return {
    ok: problems.length === 0,
    checked: 1,
    problems,
    bundle: file,
    sha256,
    encrypted: true,
    contentsChecked: false,
  }
}

function siblingProblems(file: string, sha256: string): VerifyProblem[] {
  const sibling = `${file}.sha256`
  if (!existsSync(sibling)) return [{path: path.basename(sibling), problem: 'sibling hash file missing'}]
  const m = /^([0-9a-f]{64})\s+\*?(.+)$/m.exec(readFileSync(sibling, 'utf8').slice(0, 4096))
  if (!m) return [{path: path.basename(sibling), problem: 'not in sha256sum format'}]
  const out: VerifyProblem[] = []
  if (m[1] !== sha256)
    out.push({
      path: path.basename(file),
      problem: `archive SHA-256 ${sha256} differs from ${path.basename(sibling)} (${m[1]})`,
    })
  if (m[2]!.trim() !== path.basename(file))
    out.push({path: path.basename(sibling), problem: `names ${m[2]!.trim()}, not ${path.basename(file)}`})
  return out
}

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r')
  try {
    const b = Buffer.alloc(512)
    return b.subarray(0, readSync(fd, b, 0, 512, 0))
  } finally {
    closeSync(fd)
  }
}
