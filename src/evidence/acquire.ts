import {createHash, type Hash} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import {type FileHandle, open} from 'node:fs/promises'
import path from 'node:path'

import {Decompress} from 'fzstd'

import type {SourceRef} from '../detect/finding-types.js'
import {ExitCode, IrError} from '../errors.js'
import type {Source} from './discover.js'
import {meta} from './discover.js'
import {isTextName} from './policy.js'
import type {LineRedactor, Redactor} from './redact.js'
import {
  envSecretValues,
  type KnownSecrets,
  maskConfigText,
  maskEnvText,
  maskJsonText,
  type Masked,
  storeTextSecretValues,
} from './secret-values.js'
import {ChunkQueue, openSource, readChunks, SourceError, sourceError} from './source-io.js'
import type {ItemRecord} from './collect-types.js'

/**
 * Step 3 of collect, for one file: read it once, read-only, and from the same bytes hash it
 * (SHA-256), feed the scanner, redact it and write the bundle copy into the staging area. Source
 * problems (vanished, unreadable, swapped for a symlink) become the item's outcome; problems of
 * the staging area (disk full) stop the run with a clear error.
 */

export interface StagedFile {
  bundlePath: string
  stagedPath: string
  size: number
  sha256: string
  /** Archive entry time: the source's mtime. */
  mtime: Date
  mode: number
}

export interface AcquireEnv {
  staging: string
  includeSecrets: boolean
  known: KnownSecrets
  redactor: Redactor
  signal?: AbortSignal
  onBytes?: (n: number) => void
  chunkBytes?: number
}

export interface ScanTarget {
  scanJsonl(chunks: AsyncIterable<Uint8Array>, source: SourceRef): Promise<void>
}

export interface Acquired {
  records: ItemRecord[]
  staged: StagedFile[]
}

/** Files masked in memory up to this size; bigger ones are streamed and redacted like any text. */
const MASK_MAX = 32 << 20
/** Secret stores read into memory for their values up to this size. */
const VALUES_MAX = 4 << 20
const SECRET_REASON =
  'secret-bearing: metadata only (path, mode, size, times, SHA-256); contents only with --include-secrets'

export async function acquireFile(src: Source, env: AcquireEnv, scanner?: ScanTarget): Promise<Acquired> {
  let opened
  try {
    opened = await openSource(src.path)
  } catch (err) {
    return {records: [failure(src, err)], staged: []}
  }
  const {fh, stat} = opened
  const base: ItemRecord = {
    ...meta(src.path, stat),
    kind: src.kind,
    outcome: 'collected',
    agentId: src.agentId,
    sessionId: src.sessionId,
  }
  if (opened.atimeMayChange) base.note = 'O_NOATIME refused (not the owner): the access time may have moved'
  try {
    let result: Acquired
    if (src.policy === 'metadata') result = await metadataOnly(src, fh, stat.size, base, env)
    else if (src.policy === 'zst') result = await zstArchive(src, fh, stat.size, base, env, scanner)
    else if (
      (src.policy === 'masked-config' || src.policy === 'masked-json' || src.policy === 'masked-env') &&
      stat.size <= MASK_MAX
    ) {
      result = await masked(src, fh, stat.size, base, env)
    } else result = await copy(src, fh, stat.size, base, env, scanner)
    const after = await fh.stat()
    if (after.size !== stat.size || after.mtimeMs !== stat.mtimeMs) {
      for (const r of result.records)
        if (r.path === src.path) {
          r.changedDuringCopy = true
          r.note = join(
            r.note,
            `changed while being read (${stat.size} → ${after.size} bytes): the copy holds the ${stat.size} bytes present at open`,
          )
        }
    }
    return result
  } catch (err) {
    if (err instanceof IrError || (err as Error).name === 'AbortError') throw err
    return {records: [{...base, outcome: 'failed', error: sourceError(err).message}], staged: []}
  } finally {
    await fh.close()
  }
}

function failure(src: Source, err: unknown): ItemRecord {
  const e = err instanceof SourceError ? err : sourceError(err)
  const r: ItemRecord = {
    path: src.path,
    kind: src.kind,
    outcome: e.outcome,
    agentId: src.agentId,
    sessionId: src.sessionId,
  }
  if (e.outcome === 'failed') r.error = e.message
  else r.reason = e.message
  return r
}

/** Streamed copy: hash + scan + redact from the same chunks. */
async function copy(
  src: Source,
  fh: FileHandle,
  size: number,
  base: ItemRecord,
  env: AcquireEnv,
  scanner?: ScanTarget,
): Promise<Acquired> {
  let start = 0
  if (src.trimSince) {
    const offset = await offsetSince(fh, size, src.trimSince)
    if (offset !== undefined && offset > 0) {
      start = offset
      base.range = {
        start,
        end: size,
        reason: `--since: lines before ${src.trimSince.toISOString()} not read (found by binary search on line timestamps)`,
      }
    }
  }
  const hash = createHash('sha256')
  const out = new StagedWriter(env.staging, src.bundlePath)
  await out.open()
  const queue = scanner && src.scan ? new ChunkQueue() : undefined
  const ref: SourceRef = {
    file: src.bundlePath,
    rel: src.rel,
    kind: src.kind === 'transcript' ? 'transcript' : src.kind === 'config-audit' ? 'config-audit' : 'log',
    agentId: src.agentId,
    sessionId: src.sessionId,
  }
  let scanError: unknown
  const scanDone = queue
    ? scanner!.scanJsonl(queue, ref).catch((err) => {
        scanError = err
        queue.close()
      })
    : undefined
  let lr: LineRedactor | undefined
  let decided = env.includeSecrets
  try {
    for await (const chunk of readChunks(fh, start, size, env.chunkBytes, env.signal)) {
      hash.update(chunk)
      env.onBytes?.(chunk.length)
      if (!decided) {
        decided = true
        if (isTextName(path.basename(src.path)) || !chunk.subarray(0, 8192).includes(0)) lr = env.redactor.stream()
      }
      if (queue) await queue.push(chunk)
      // one write per chunk: the redactor hands back slices of it, and new bytes where it masked
      if (lr) await out.write(concat(lr.push(chunk)))
      else await out.write(chunk)
    }
    if (lr) await out.write(concat(lr.end()))
  } finally {
    queue?.end()
    await scanDone
    await out.close()
  }
  const sha256 = hash.digest('hex')
  const rec: ItemRecord = {
    ...base,
    bundlePath: src.bundlePath,
    sha256,
    method: lr && lr.count > 0 ? 'redacted-copy' : 'copy',
  }
  if (lr && lr.count > 0) Object.assign(rec, {redactions: lr.count, bundleSha256: out.sha256, bundleSize: out.size})
  if (scanError) rec.note = join(rec.note, `scan stopped: ${(scanError as Error).message}`)
  return {records: [rec], staged: [out.staged(base)]}
}

/** Config, JSON stores, unit files: read whole (small), mask secret values, learn them. */
async function masked(src: Source, fh: FileHandle, size: number, base: ItemRecord, env: AcquireEnv): Promise<Acquired> {
  const raw = await readAll(fh, size, env)
  const sha256 = createHash('sha256').update(raw).digest('hex')
  const text = raw.toString('utf8')
  const m: Masked =
    src.policy === 'masked-config'
      ? maskConfigText(text, env.known.list())
      : src.policy === 'masked-json'
        ? maskJsonText(text, env.known.list())
        : maskEnvText(text, env.known.list())
  env.known.add(m.values)
  const out = new StagedWriter(env.staging, src.bundlePath)
  await out.open()
  let rec: ItemRecord
  if (env.includeSecrets) {
    await out.write(raw)
    rec = {
      ...base,
      bundlePath: src.bundlePath,
      sha256,
      method: 'copy',
      note: join(base.note, 'secret values included (--include-secrets)'),
    }
  } else {
    const r = env.redactor.redactText(m.text)
    await out.write(Buffer.from(r.text, 'utf8'))
    rec = {...base, bundlePath: src.bundlePath, sha256, method: 'masked', redactions: m.count + r.count}
    if (m.unparsed) rec.note = join(rec.note, 'did not parse: masked line by line (key = value)')
  }
  await out.close()
  if (rec.method === 'masked') Object.assign(rec, {bundleSha256: out.sha256, bundleSize: out.size})
  return {records: [rec], staged: [out.staged(base)]}
}

/** Secret stores: hashed, values learned (to mask them everywhere else), contents only with --include-secrets. */
async function metadataOnly(
  src: Source,
  fh: FileHandle,
  size: number,
  base: ItemRecord,
  env: AcquireEnv,
): Promise<Acquired> {
  const hash = createHash('sha256')
  const keep: Buffer[] = []
  const out = env.includeSecrets ? new StagedWriter(env.staging, src.bundlePath) : undefined
  await out?.open()
  try {
    for await (const chunk of readChunks(fh, 0, size, env.chunkBytes, env.signal)) {
      hash.update(chunk)
      env.onBytes?.(chunk.length)
      if (size <= VALUES_MAX) keep.push(chunk)
      await out?.write(chunk)
    }
  } finally {
    await out?.close()
  }
  if (keep.length) {
    const text = Buffer.concat(keep).toString('utf8')
    env.known.add(src.kind === 'env' ? envSecretValues(text) : storeTextSecretValues(text))
  }
  const sha256 = hash.digest('hex')
  if (out)
    return {
      records: [
        {
          ...base,
          bundlePath: src.bundlePath,
          sha256,
          method: 'copy',
          note: join(base.note, 'secret store included (--include-secrets)'),
        },
      ],
      staged: [out.staged(base)],
    }
  return {records: [{...base, outcome: 'skipped', reason: SECRET_REASON, method: 'metadata', sha256}], staged: []}
}

/** Cold-storage transcript (.jsonl.zst): raw bytes are secret-bearing; exported decompressed, scanned and redacted. */
async function zstArchive(
  src: Source,
  fh: FileHandle,
  size: number,
  base: ItemRecord,
  env: AcquireEnv,
  scanner?: ScanTarget,
): Promise<Acquired> {
  const hash = createHash('sha256')
  const raw = env.includeSecrets ? new StagedWriter(env.staging, src.bundlePath) : undefined
  await raw?.open()
  const derivedPath = `derived/archives/${src.bundlePath.replace(/^evidence\//, '').replace(/\.zst$/, '')}`
  const out = new StagedWriter(env.staging, derivedPath)
  await out.open()
  const queue = scanner ? new ChunkQueue() : undefined
  const ref: SourceRef = {
    file: derivedPath,
    rel: src.rel,
    kind: 'transcript',
    agentId: src.agentId,
    sessionId: src.sessionId,
  }
  const scanDone = queue ? scanner!.scanJsonl(queue, ref).catch(() => queue.close()) : undefined
  const lr = env.includeSecrets ? undefined : env.redactor.stream()
  const pendingOut: Buffer[] = []
  const d = new Decompress((data) => {
    pendingOut.push(Buffer.from(data))
  })
  let lines = 0
  let error: string | undefined
  const drain = async () => {
    while (pendingOut.length) {
      const b = pendingOut.shift()!
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++
      if (queue) await queue.push(b)
      for (const o of lr ? lr.push(b) : [b]) await out.write(o)
    }
  }
  try {
    for await (const chunk of readChunks(fh, 0, size, env.chunkBytes, env.signal)) {
      hash.update(chunk)
      env.onBytes?.(chunk.length)
      await raw?.write(chunk)
      if (error) continue
      try {
        d.push(chunk)
      } catch (err) {
        error = `not valid zstd: ${(err as Error).message}`
      }
      await drain()
    }
    if (!error) {
      try {
        d.push(new Uint8Array(0), true)
      } catch (err) {
        error = `truncated zstd stream: ${(err as Error).message}`
      }
      await drain()
    }
    if (lr) for (const o of lr.end()) await out.write(o)
  } finally {
    queue?.end()
    await scanDone
    await raw?.close()
    await out.close()
  }
  const sha256 = hash.digest('hex')
  const rawRec: ItemRecord = raw
    ? {...base, bundlePath: src.bundlePath, sha256, method: 'copy'}
    : {
        ...base,
        outcome: 'skipped',
        method: 'metadata',
        sha256,
        reason:
          'compressed transcript archive: raw bytes kept out of the bundle (secrets cannot be masked inside zstd); exported decompressed and redacted to ' +
          derivedPath +
          '; raw bytes with --include-secrets',
      }
  const derived: ItemRecord = {
    path: `${src.path} (decompressed)`,
    kind: 'derived',
    outcome: error ? 'failed' : 'collected',
    bundlePath: derivedPath,
    method: 'export',
    sha256: out.sha256,
    size: out.size,
    events: lines,
    agentId: src.agentId,
    sessionId: src.sessionId,
    redactions: lr?.count,
  }
  if (error) derived.error = error
  return {records: [rawRec, derived], staged: [...(raw ? [raw.staged(base)] : []), out.staged(base)]}
}

async function readAll(fh: FileHandle, size: number, env: AcquireEnv): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of readChunks(fh, 0, size, env.chunkBytes, env.signal)) {
    parts.push(chunk)
    env.onBytes?.(chunk.length)
  }
  return Buffer.concat(parts)
}

/**
 * First byte of the first line whose time is at or after `since`, by binary search over line
 * starts (gateway logs are appended in time order). undefined when line times cannot be read:
 * then the whole file is copied.
 */
export async function offsetSince(fh: FileHandle, size: number, since: Date): Promise<number | undefined> {
  const target = since.getTime()
  const probe = async (pos: number): Promise<{start: number; time?: number} | undefined> => {
    const buf = Buffer.alloc(Math.min(256 << 10, size - pos))
    const {bytesRead} = await fh.read(buf, 0, buf.length, pos)
    let s = 0
    if (pos > 0) {
      const nl = buf.indexOf(10)
      if (nl < 0 || nl + 1 >= bytesRead) return undefined
      s = nl + 1
    }
    const e = buf.indexOf(10, s)
    const line = buf.toString('utf8', s, e < 0 ? bytesRead : e)
    return {start: pos + s, time: lineTime(line)}
  }
  const first = await probe(0)
  if (first?.time === undefined) return undefined
  if (first.time >= target) return 0
  let lo = 0
  let hi = size
  let found: number | undefined
  for (let i = 0; i < 64 && lo < hi; i++) {
    const mid = Math.floor((lo + hi) / 2)
    const p = await probe(mid)
    if (!p) {
      hi = mid
      continue
    }
    if (p.time === undefined) return undefined
    if (p.time >= target) {
      found = p.start
      hi = mid
    } else lo = p.start + 1
  }
  return found ?? size
}

export function lineTime(line: string): number | undefined {
  try {
    const rec = JSON.parse(line) as Record<string, unknown>
    const meta = rec._meta as Record<string, unknown> | undefined
    for (const v of [rec.time, meta?.date, rec.ts, rec.timestamp, rec.at]) {
      const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN
      if (Number.isFinite(t)) return t
    }
  } catch {
    const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/.exec(line)
    if (m?.[1]) return Date.parse(m[1])
  }
  return undefined
}

/** A file in the staging area (the bundle layout); write errors are fatal to the run. */
export class StagedWriter {
  readonly stagedPath: string
  private fh?: FileHandle
  private readonly hash: Hash = createHash('sha256')
  size = 0
  sha256 = ''

  constructor(
    root: string,
    readonly bundlePath: string,
  ) {
    this.stagedPath = path.join(root, bundlePath)
  }

  async open(): Promise<void> {
    try {
      mkdirSync(path.dirname(this.stagedPath), {recursive: true, mode: 0o700})
      this.fh = await open(this.stagedPath, 'w', 0o600)
    } catch (err) {
      throw stagingError(this.stagedPath, err)
    }
  }

  /** Small writes (one per transcript row) are gathered into ~1 MiB writes. */
  private pending: Buffer[] = []
  private pendingBytes = 0

  async write(b: Buffer | Uint8Array): Promise<void> {
    if (b.length === 0) return
    this.hash.update(b)
    this.size += b.length
    if (b.length < 64 << 10) {
      this.pending.push(Buffer.from(b))
      this.pendingBytes += b.length
      if (this.pendingBytes >= 1 << 20) await this.flush()
      return
    }
    await this.flush()
    await this.writeOut(b)
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return
    const b = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    await this.writeOut(b)
  }

  private async writeOut(b: Buffer | Uint8Array): Promise<void> {
    try {
      let off = 0
      while (off < b.length) {
        const {bytesWritten} = await this.fh!.write(b, off, b.length - off)
        off += bytesWritten
      }
    } catch (err) {
      throw stagingError(this.stagedPath, err)
    }
  }

  async close(): Promise<void> {
    if (!this.fh) return
    await this.flush()
    const fh = this.fh
    this.fh = undefined
    this.sha256 = this.hash.digest('hex')
    try {
      await fh.close()
    } catch (err) {
      throw stagingError(this.stagedPath, err)
    }
  }

  staged(base: {mtime?: string; mode?: string}): StagedFile {
    return {
      bundlePath: this.bundlePath,
      stagedPath: this.stagedPath,
      size: this.size,
      sha256: this.sha256,
      mtime: base.mtime ? new Date(base.mtime) : new Date(),
      mode: base.mode ? Number.parseInt(base.mode, 8) & 0o777 : 0o600,
    }
  }
}

export function stagingError(file: string, err: unknown): IrError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new IrError(
      `The disk holding the case is full (writing ${file}).`,
      ExitCode.Failure,
      [
        'Free space there (or point IR_HOME at a bigger disk), then re-run with the same --case: files already copied are not read again.',
      ],
      'DISK_FULL',
    )
  }
  return new IrError(
    `Cannot write the evidence copy ${file} (${code ?? (err as Error).message}).`,
    ExitCode.Failure,
    ['Check the case directory and re-run with the same --case.'],
    `STAGING_${code ?? 'FAILED'}`,
  )
}

function concat(parts: Buffer[]): Buffer {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}

function join(a: string | undefined, b: string): string {
  return a ? `${a}; ${b}` : b
}
