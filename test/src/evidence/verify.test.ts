import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync} from 'node:fs'
import {gzipSync} from 'node:zlib'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {collect, type CollectResult} from '../../../src/collect.js'
import {verifyBundle} from '../../../src/evidence/verify.js'
import {extract, fileEraState, noRunner, prompter, SESSION_A, tmp} from './helpers.js'

// One real bundle (tar.gz and zip) built once; every test tampers with its own copy.
let root: string
let tgz: CollectResult
let zip: CollectResult

beforeAll(async () => {
  root = tmp('ir-ev-verify-')
  const home = path.join(root, 'home')
  mkdirSync(home)
  const {stateDir} = fileEraState(root)
  const base = {
    target: {stateDir},
    dryRun: false,
    prompter,
    mayChange: true,
    runner: noRunner,
    irHome: path.join(root, 'irhome'),
    host: {env: {}, homedir: home, uid: 0},
    includeSecrets: false,
    seams: {home, tmpDir: path.join(root, 'tmp')},
  }
  tgz = await collect({...base, out: path.join(root, 'out-tgz')})
  zip = await collect({...base, out: path.join(root, 'out-zip'), format: 'zip'})
}, 60_000)

const scratch: string[] = []
afterAll(() => {
  for (const d of [root, ...scratch]) rmSync(d, {recursive: true, force: true})
})

/** extract() into a temp dir removed after the suite. */
function extracted(file: string): string {
  const x = extract(file)
  scratch.push(path.dirname(x))
  return x
}

/** A copy of the bundle and its sibling in a fresh dir. */
function copyOf(r: CollectResult): string {
  const dir = tmp('ir-ev-v-')
  scratch.push(dir)
  const file = path.join(dir, path.basename(r.bundle))
  copyFileSync(r.bundle, file)
  copyFileSync(`${r.bundle}.sha256`, `${file}.sha256`)
  return file
}

/**
 * Re-pack an extracted root as the collector would (tar czf), and re-write the sibling hash (an attacker covering
 * tracks).
 */
function repack(bundleRoot: string, file: string): void {
  execFileSync('tar', ['czf', file, '-C', path.dirname(bundleRoot), path.basename(bundleRoot)])
  const h = createHash('sha256').update(readFileSync(file)).digest('hex')
  writeFileSync(`${file}.sha256`, `${h}  ${path.basename(file)}\n`)
}

function flipByte(file: string, at = 10): void {
  const b = readFileSync(file)
  b[at] = b[at]! ^ 0x01
  writeFileSync(file, b)
}

describe('ir verify', () => {
  it('passes an intact bundle (tar.gz, zip and extracted folder) and counts what it checked', async () => {
    for (const r of [tgz, zip]) {
      const v = await verifyBundle(r.bundle)
      expect(v.problems).toEqual([])
      expect(v.ok).toBe(true)
      // every manifest entry (files - manifest itself) + the archive against its sibling
      expect(v.checked).toBe(r.files)
      expect(v.sha256).toBe(r.bundleSha256)
    }
    const v = await verifyBundle(extracted(tgz.bundle))
    expect(v.ok).toBe(true)
  })

  it('fails after one byte of a bundled file changes, even with the archive re-hashed', async () => {
    // Given a transcript with one byte flipped, re-packed, sibling recomputed
    const file = copyOf(tgz)
    const x = extracted(file)
    const rel = `evidence/state/agents/main/sessions/${SESSION_A}.jsonl`
    flipByte(path.join(x, rel))
    repack(x, file)
    // Then exactly that file is reported
    const v = await verifyBundle(file)
    expect(v.ok).toBe(false)
    expect(v.problems).toEqual([
      {path: rel, problem: expect.stringMatching(/^SHA-256 [0-9a-f]{64} differs from the manifest/)},
    ])
  })

  it('fails when the archive bytes change and no longer match the sibling .sha256', async () => {
    const file = copyOf(tgz)
    flipByte(file, 2000)
    const v = await verifyBundle(file)
    expect(v.ok).toBe(false)
    expect(v.problems.some((p) => p.path === path.basename(file) && /differs from .*\.sha256/.test(p.problem))).toBe(
      true,
    )
  })

  it('reports files added to or removed from the bundle, and a missing sibling', async () => {
    const file = copyOf(tgz)
    const x = extracted(file)
    writeFileSync(path.join(x, 'evidence', 'planted.txt'), 'not collected by ir\n')
    rmSync(path.join(x, 'findings', 'report.md'))
    repack(x, file)
    rmSync(`${file}.sha256`)
    const v = await verifyBundle(file)
    expect(v.problems).toEqual(
      expect.arrayContaining([
        {path: 'evidence/planted.txt', problem: 'present in the bundle, not in the manifest'},
        {path: 'findings/report.md', problem: 'listed in the manifest, missing from the bundle'},
        {path: `${path.basename(file)}.sha256`, problem: 'sibling hash file missing'},
      ]),
    )
  })

  it('reports a journal whose hash chain was broken, even when the manifest was rewritten to match', async () => {
    const file = copyOf(tgz)
    const x = extracted(file)
    const j = path.join(x, 'journal.jsonl')
    const lines = readFileSync(j, 'utf8').trim().split('\n')
    lines[1] = lines[1]!.replace('"status":"', '"status":"edited-')
    writeFileSync(j, lines.join('\n') + '\n')
    const m = path.join(x, 'manifest-sha256.txt')
    const jh = createHash('sha256').update(readFileSync(j)).digest('hex')
    writeFileSync(m, readFileSync(m, 'utf8').replace(/^[0-9a-f]{64}(  journal\.jsonl)$/m, `${jh}$1`))
    repack(x, file)
    const v = await verifyBundle(file)
    expect(v.ok).toBe(false)
    expect(v.problems).toEqual([
      {path: 'journal.jsonl', problem: 'line 3: hash chain broken: prev does not match the previous line'},
    ])
  })

  it('fails a zip with one changed byte inside an entry', async () => {
    const file = copyOf(zip)
    const dir = tmp('ir-ev-z-')
    scratch.push(dir)
    execFileSync('unzip', ['-q', file, '-d', dir])
    const [rootName] = execFileSync('ls', [dir], {encoding: 'utf8'}).trim().split('\n')
    flipByte(path.join(dir, rootName!, 'findings', 'report.md'))
    rmSync(file)
    execFileSync('zip', ['-qr', file, rootName!], {cwd: dir})
    const v = await verifyBundle(file)
    expect(v.problems.some((p) => p.path === 'findings/report.md' && /differs from the manifest/.test(p.problem))).toBe(
      true,
    )
  })

  it('reports a truncated archive instead of crashing', async () => {
    const file = copyOf(tgz)
    truncateSync(file, Math.floor(readFileSync(file).length / 2))
    const v = await verifyBundle(file)
    expect(v.ok).toBe(false)
    expect(v.problems.some((p) => /^archive /.test(p.problem))).toBe(true)
  })

  it('refuses a path that does not exist (usage error)', async () => {
    await expect(verifyBundle(path.join(root, 'nope.tar.gz'))).rejects.toMatchObject({
      code: 'BUNDLE_MISSING',
      exitCode: 2,
    })
  })
})

/** One tar header block (ustar, octal fields). */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512)
  h.write(name, 0, 'utf8')
  h.write('0000600\0', 100)
  h.write('0000000\0', 108)
  h.write('0000000\0', 116)
  h.write(size.toString(8).padStart(11, '0') + '\0', 124)
  h.write('00000000000\0', 136)
  h.write('        ', 148)
  h.write('0', 156)
  h.write('ustar\0' + '00', 257)
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  return h
}

describe('ir verify on a hostile bundle', () => {
  it('reports a 1 GiB journal.jsonl and an oversized case.json from a small archive, without reading them whole', async () => {
    // Given a 1-2 MB .tar.gz (concatenated gzip members of one repeated MiB) whose journal.jsonl is 1 GiB without a
    // newline and whose case.json is 65 MiB
    const dir = tmp('ir-ev-hostile-')
    scratch.push(dir)
    const file = path.join(dir, 'hostile.tar.gz')
    const mib = Buffer.alloc(1 << 20, 0x61)
    const mibGz = gzipSync(mib, {level: 9})
    const parts: Buffer[] = [gzipSync(tarHeader('b/journal.jsonl', 1 << 30))]
    for (let i = 0; i < 1024; i++) parts.push(mibGz)
    parts.push(gzipSync(tarHeader('b/case.json', 65 << 20)))
    for (let i = 0; i < 65; i++) parts.push(mibGz)
    parts.push(gzipSync(Buffer.alloc(1024)))
    writeFileSync(file, Buffer.concat(parts))
    expect(statSync(file).size).toBeLessThan(4 << 20)

    // When it is verified
    const r = await verifyBundle(file)

    // Then each problem is named, and nothing crashed
    expect(r.ok).toBe(false)
    expect(r.problems).toContainEqual({
      path: 'journal.jsonl',
      problem: `line 1: longer than ${4 << 20} bytes: not read (no ir entry is)`,
    })
    expect(r.problems).toContainEqual({
      path: 'case.json',
      problem: 'larger than 64 MiB: not read (ir never writes one this big)',
    })
    expect(r.problems).toContainEqual({path: 'manifest-sha256.txt', problem: 'missing'})
  })

  it('reports a tar long-name header of 1 GiB as a damaged archive', async () => {
    // Given an archive whose first header announces a 1 GiB GNU long name
    const dir = tmp('ir-ev-hostile-')
    scratch.push(dir)
    const file = path.join(dir, 'longname.tar.gz')
    const h = tarHeader('././@LongLink', 1 << 30)
    h.write('L', 156)
    let sum = 0
    h.write('        ', 148)
    for (const b of h) sum += b
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
    writeFileSync(file, gzipSync(Buffer.concat([h, Buffer.alloc(4096)])))
    // When it is verified
    const r = await verifyBundle(file)
    // Then the archive is reported unreadable with the reason
    expect(r.problems[0]).toEqual({
      path: 'longname.tar.gz',
      problem: `archive a tar extended header of ${1 << 30} bytes (over 1 MiB: hostile)`,
    })
  })
})
