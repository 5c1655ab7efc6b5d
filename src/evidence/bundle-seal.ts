import {createHash} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {verifyChain} from '../case/journal.js'
import type {StagedFile} from './acquire.js'
import {bundleName} from './bundle-paths.js'
import {type BundleFormat, BundleWriter, type SealedArchive} from './bundle-write.js'
import {MANIFEST, manifestText} from './manifest.js'
import {abortError} from './source-io.js'
import {hashFile} from './sqlite.js'

/**
 * The bundle of one collect run, from the first staged file to the read-back: the archive is
 * opened as soon as files are final (compression overlaps the copying and the scan), each staged
 * file goes in once, and sealing adds case.json, the journal and the manifest, then renames the
 * archive into place with its .sha256.
 */

export interface AssemblyInit {
  caseId: string
  /** --out, else the case directory. */
  outDir: string
  startedAt: Date
  format: BundleFormat
  recipients?: string[]
  level?: number
  onBytes?: (processed: number) => void
}

export interface SealInput {
  staged: StagedFile[]
  /** Written by ir at the end (case.json, journal.jsonl): hashed here for the manifest. */
  generated: Array<{name: string; data: Buffer}>
  endedAt: Date
  signal?: AbortSignal
}

export class BundleAssembly {
  sealed?: SealedArchive
  manifestSha256?: string
  private writer?: BundleWriter
  private readonly archived = new Set<string>()
  private bundledJournal?: Buffer

  constructor(private readonly init: AssemblyInit) {}

  /** The archive under its temp name in the out dir; stale partials of this case from a killed run are removed. */
  open(): BundleWriter {
    if (this.writer) return this.writer
    const out = path.resolve(this.init.outDir)
    mkdirSync(out, {recursive: true, mode: 0o700})
    for (const f of readdirSync(out))
      if (f.startsWith(`.${this.init.caseId}-`) && f.includes('.partial-')) rmSync(path.join(out, f), {force: true})
    const root = bundleName(this.init.caseId, os.hostname(), this.init.startedAt)
    const onBytes = this.init.onBytes
    this.writer = new BundleWriter(out, root, this.init.format, {
      level: this.init.level,
      recipients: this.init.recipients,
      onBytes: onBytes && ((_compressed, processed) => onBytes(processed)),
    })
    return this.writer
  }

  /** Files that are final go in now (once each); before the archive is open, they wait for seal(). */
  add(files: StagedFile[]): void {
    if (!this.writer) return
    for (const f of files) {
      if (this.archived.has(f.bundlePath)) continue
      this.writer.add({name: f.bundlePath, stagedPath: f.stagedPath, mtime: f.mtime, mode: f.mode, sha256: f.sha256})
      this.archived.add(f.bundlePath)
    }
  }

  /** Drop the partial archive (error, Ctrl-C): a rerun starts it again. */
  discard(): void {
    this.writer?.discard()
    this.writer = undefined
    this.archived.clear()
  }

  /** The rest of the files, the generated ones and the manifest; then the temp name → the bundle's name. */
  async seal(input: SealInput): Promise<SealedArchive> {
    try {
      const writer = this.open()
      const manifest = Buffer.from(
        manifestText([
          ...input.staged.map((s) => ({bundlePath: s.bundlePath, sha256: s.sha256})),
          ...input.generated.map((g) => ({bundlePath: g.name, sha256: sha256(g.data)})),
        ]),
      )
      const onAbort = () => this.discard()
      input.signal?.addEventListener('abort', onAbort, {once: true})
      try {
        this.add(input.staged)
        for (const g of [...input.generated, {name: MANIFEST, data: manifest}])
          writer.add({
            name: g.name,
            data: g.data,
            mtime: input.endedAt,
            mode: 0o600,
            sha256: g.name === MANIFEST ? undefined : sha256(g.data),
          })
        this.bundledJournal = input.generated.find((g) => g.name === 'journal.jsonl')?.data
        this.manifestSha256 = sha256(manifest)
        this.sealed = await writer.seal()
      } finally {
        input.signal?.removeEventListener('abort', onAbort)
      }
      this.writer = undefined
      if (input.signal?.aborted) throw abortError()
      return this.sealed
    } catch (err) {
      this.discard()
      throw err
    }
  }

  /**
   * Proof that the sealed bundle is what the manifest says, without another decompression pass:
   * every file was hashed again as it went into the archive, the archive file on disk is re-read
   * and matches its .sha256, and the bundled journal's hash chain is intact. (`ir verify` re-reads
   * the whole archive independently.)
   */
  async verify(): Promise<{ok: boolean; detail: string; checked: number}> {
    const s = this.sealed
    if (!s) return {ok: false, detail: 'no bundle was written', checked: 0}
    const problems: string[] = []
    if (s.mismatches.length)
      problems.push(
        `${s.mismatches.length} file(s) changed between hashing and archiving: ${s.mismatches.slice(0, 3).join(', ')}`,
      )
    const onDisk = await hashFile(s.path)
    if (onDisk.sha256 !== s.sha256) problems.push('the archive on disk differs from the bytes written')
    const sibling = readFileSync(s.sibling, 'utf8')
    if (!sibling.startsWith(`${s.sha256}  `))
      problems.push(`${path.basename(s.sibling)} does not hold the archive hash`)
    const chain = verifyChain(this.bundledJournal?.toString('utf8') ?? '')
    if (chain.length) problems.push(`journal: ${chain.map((c) => `line ${c.line}: ${c.problem}`).join('; ')}`)
    return problems.length
      ? {ok: false, detail: problems.join('; '), checked: s.entries}
      : {
          ok: true,
          detail: `${s.entries} file(s) hashed again as archived and equal to the manifest; the archive re-read matches its .sha256; journal chain intact`,
          checked: s.entries,
        }
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}
