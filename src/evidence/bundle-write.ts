import {createHash, randomBytes} from 'node:crypto'
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {type Readable, Transform} from 'node:stream'

import {TarArchive, ZipArchive} from 'archiver'

import {ExitCode, IrError} from '../errors.js'
import {encryptStream} from './bundle-crypt.js'
import {ParallelGzip} from './parallel-gzip.js'

/**
 * The bundle archive, written through archiver (tar.gz by default, zip on request) under a temp
 * name in the output dir, hashed as it is written, fsynced, then renamed: a bundle that exists
 * under its final name is complete. A tar.gz is compressed on every core (ParallelGzip), in zlib's
 * threadpool, off the main thread.
 * The sibling `<archive>.sha256` (sha256sum format) is written before the archive is renamed.
 * With recipients the archive is age-encrypted on its way to the disk (`<name>.tar.gz.age`).
 */

export type BundleFormat = 'tar.gz' | 'zip'

export interface ArchiveEntry {
  /** Path inside the bundle root. */
  name: string
  stagedPath?: string
  data?: Buffer
  mtime: Date
  mode: number
  /** Expected SHA-256 (the manifest's): the bytes are hashed again as they go into the archive. */
  sha256?: string
}

export interface SealedArchive {
  path: string
  sha256: string
  size: number
  sibling: string
  /** Files whose bytes, hashed as they went into the archive, differ from the manifest. */
  mismatches: string[]
  entries: number
}

/** deflate level of a bundle (see bench/collect-figures.md for why). */
export const GZIP_LEVEL = 4

/** Entries handed to archiver at a time: files are opened only when their turn comes (no fd storm). */
const IN_FLIGHT = 2

export class BundleWriter {
  readonly final: string
  readonly tmp: string
  private archive: TarArchive | ZipArchive
  private done: Promise<void>
  private readonly hash = createHash('sha256')
  private bytes = 0
  private failure?: unknown
  private readonly queue: ArchiveEntry[] = []
  private inFlight = 0
  private drained?: () => void
  private readonly mismatches: string[] = []
  entries = 0

  constructor(
    outDir: string,
    readonly root: string,
    readonly format: BundleFormat,
    opts: {level?: number; onBytes?: (compressed: number, processed: number) => void; recipients?: string[]} = {},
  ) {
    const ext = opts.recipients?.length ? `${format}.age` : format
    this.final = path.join(outDir, `${root}.${ext}`)
    this.tmp = path.join(outDir, `.${root}.${ext}.partial-${randomBytes(4).toString('hex')}`)
    const level = opts.level ?? GZIP_LEVEL
    this.archive = format === 'zip' ? new ZipArchive({zlib: {level}}) : plainTar()
    let out
    try {
      out = createWriteStream(this.tmp, {mode: 0o600, flags: 'wx'})
    } catch (err) {
      throw archiveError(this.final, err)
    }
    const packed: Readable = format === 'zip' ? this.archive : this.archive.pipe(new ParallelGzip({level}))
    const hasher = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.hash.update(chunk)
        this.bytes += chunk.length
        cb(null, chunk)
      },
    })
    this.done = new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        this.failure ??= err
        this.drained?.()
        reject(err)
      }
      out.on('error', fail)
      out.on('close', () => (this.failure ? reject(this.failure) : resolve()))
      this.archive.on('error', fail)
      this.archive.on('warning', fail)
      hasher.on('error', fail)
      packed.on('error', fail)
    })
    this.done.catch(() => undefined)
    this.archive.on('entry', () => {
      this.inFlight--
      this.pump()
    })
    if (opts.onBytes) this.archive.on('progress', (p) => opts.onBytes!(this.bytes, p.fs.processedBytes))
    if (!opts.recipients?.length) packed.pipe(hasher).pipe(out)
    else {
      // encrypted as it is written: only ciphertext reaches the disk; the .sha256 covers the ciphertext
      encryptStream(packed, opts.recipients).then(
        (cipher) => {
          cipher.on('error', (err) => this.archive.emit('error', err))
          cipher.pipe(hasher).pipe(out)
        },
        (err: unknown) => this.archive.emit('error', err),
      )
    }
  }

  add(e: ArchiveEntry): void {
    if (this.failure) throw archiveError(this.final, this.failure)
    this.queue.push(e)
    this.entries++
    this.pump()
  }

  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.queue.length && !this.failure) {
      const e = this.queue.shift()!
      this.inFlight++
      const data = {name: `${this.root}/${e.name}`, date: e.mtime, mode: e.mode}
      try {
        if (e.stagedPath) {
          const stats = statSync(e.stagedPath)
          const h = createHash('sha256')
          const check = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              h.update(chunk)
              cb(null, chunk)
            },
            flush: (cb) => {
              if (e.sha256 && h.digest('hex') !== e.sha256) this.mismatches.push(e.name)
              cb()
            },
          })
          // a read stream allocates its high-water mark for every read, whatever the file's size
          const rs = createReadStream(e.stagedPath, {highWaterMark: Math.max(1, Math.min(256 << 10, stats.size))})
          rs.on('error', (err) => check.destroy(err))
          check.on('error', (err) => this.archive.emit('error', err))
          this.archive.append(rs.pipe(check), {...data, stats})
        } else {
          if (
            e.sha256 &&
            createHash('sha256')
              .update(e.data ?? Buffer.alloc(0))
              .digest('hex') !== e.sha256
          )
            this.mismatches.push(e.name)
          this.archive.append(e.data ?? Buffer.alloc(0), data)
        }
      } catch (err) {
        this.failure ??= err
      }
    }
    if (this.inFlight === 0 && this.queue.length === 0) this.drained?.()
  }

  /** Wait for the queue, finalize, fsync, write the sibling hash, rename into place (0600). */
  async seal(): Promise<SealedArchive> {
    try {
      if (!this.failure && (this.queue.length || this.inFlight)) {
        await new Promise<void>((r) => {
          this.drained = r
          if (this.failure) r()
        })
      }
      if (this.failure) throw this.failure
      // a failed output (disk full) stops the pipe: do not wait for finalize alone
      await Promise.all([this.archive.finalize(), this.done])
      const fd = openSync(this.tmp, 'r')
      try {
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      this.discard()
      throw archiveError(this.final, err)
    }
    const sha256 = this.hash.digest('hex')
    const sibling = `${this.final}.sha256`
    const siblingTmp = `${sibling}.partial-${randomBytes(4).toString('hex')}`
    try {
      writeFileSync(siblingTmp, `${sha256}  ${path.basename(this.final)}\n`, {mode: 0o600, flag: 'wx'})
      chmodSync(this.tmp, 0o600)
      renameSync(this.tmp, this.final)
      renameSync(siblingTmp, sibling)
      chmodSync(sibling, 0o600)
    } catch (err) {
      rmSync(siblingTmp, {force: true})
      this.discard()
      throw archiveError(this.final, err)
    }
    return {
      path: this.final,
      sha256,
      size: statSync(this.final).size,
      sibling,
      mismatches: [...this.mismatches],
      entries: this.entries,
    }
  }

  /** Drop the partial archive (error, Ctrl-C): nothing half-written keeps a bundle's name. */
  discard(): void {
    this.queue.length = 0
    try {
      this.archive.abort()
    } catch {
      /* already ended */
    }
    rmSync(this.tmp, {force: true})
  }
}

/**
 * archiver's tar without its own gzip (ours runs on every core): its abort() unpipes the tar
 * engine, a streamx stream that has no unpipe() (archiver 8.0.0), and would throw. Nothing is
 * piped from the engine but archiver itself, which abort() ends anyway: a no-op is enough.
 */
function plainTar(): TarArchive {
  const tar = new TarArchive({gzip: false})
  const engine = (tar as unknown as {_module?: {engine?: {unpipe?: () => unknown}}})._module?.engine
  if (engine && typeof engine.unpipe !== 'function') engine.unpipe = () => engine
  return tar
}

export function archiveError(file: string, err: unknown): IrError {
  if (err instanceof IrError) return err
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new IrError(
      `The output disk is full: the bundle ${path.basename(file)} was not written (its partial file was removed).`,
      ExitCode.Failure,
      [
        `Free space in ${path.dirname(file)} or pass --out on a bigger disk, then re-run with the same --case: files already copied are not read again.`,
      ],
      'DISK_FULL',
    )
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new IrError(
      `Cannot write the bundle into ${path.dirname(file)} (${code}).`,
      ExitCode.Failure,
      ['Pass --out with a writable directory.'],
      'OUT_NOT_WRITABLE',
    )
  }
  if (code === 'ENOENT') {
    return new IrError(
      `The output directory ${path.dirname(file)} does not exist.`,
      ExitCode.Usage,
      ['Create it or pass another --out.'],
      'OUT_MISSING',
    )
  }
  return new IrError(
    `Writing the bundle ${path.basename(file)} failed: ${(err as Error).message ?? String(err)}.`,
    ExitCode.Failure,
    ['Re-run with the same --case.'],
    'ARCHIVE_FAILED',
  )
}
