import {closeSync, constants, openSync, readFileSync, type Stats} from 'node:fs'
import {type FileHandle, open} from 'node:fs/promises'

/**
 * Reading a source without changing it: O_RDONLY, O_NOFOLLOW (a file swapped for a symlink after
 * discovery is refused, never followed) and O_NOATIME where the kernel allows it (owner or
 * CAP_FOWNER), so not even the access time moves. Reads stop at the size seen at open: a file a
 * writer is appending to is copied as it was then.
 */

export interface OpenedSource {
  fh: FileHandle
  stat: Stats
  /** O_NOATIME was refused (not the owner): the atime may move (relatime rules). */
  atimeMayChange: boolean
}

const NOATIME = (constants as Record<string, number>).O_NOATIME ?? 0
const NOFOLLOW = constants.O_NOFOLLOW ?? 0
const NONBLOCK = constants.O_NONBLOCK ?? 0

/** A small file read whole, without moving its access time where the kernel allows (follows symlinks). */
export function readNoAtime(file: string): Buffer {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | NOATIME)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM' || !NOATIME) throw err
    fd = openSync(file, constants.O_RDONLY)
  }
  try {
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

export class SourceError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly outcome: 'missing' | 'skipped' | 'failed',
  ) {
    super(message)
  }
}

export async function openSource(file: string): Promise<OpenedSource> {
  // O_NONBLOCK: a FIFO swapped in after discovery must not block the run
  const base = constants.O_RDONLY | NOFOLLOW | NONBLOCK
  let fh: FileHandle
  let atimeMayChange = false
  try {
    try {
      fh = await open(file, base | NOATIME)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM' || !NOATIME) throw err
      fh = await open(file, base)
      atimeMayChange = true
    }
  } catch (err) {
    throw sourceError(err)
  }
  const stat = await fh.stat()
  if (!stat.isFile()) {
    await fh.close()
    throw new SourceError(`not a regular file (${fileType(stat)})`, 'ENOTREG', 'skipped')
  }
  return {fh, stat, atimeMayChange}
}

export function sourceError(err: unknown): SourceError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
  if (code === 'ENOENT') return new SourceError('vanished before it could be read', code, 'missing')
  if (code === 'ELOOP') return new SourceError('became a symlink after discovery (not followed)', code, 'skipped')
  if (code === 'EACCES' || code === 'EPERM')
    return new SourceError(`not readable by this user (${code})`, code, 'failed')
  return new SourceError(`${(err as Error).message ?? code}`, code, 'failed')
}

/**
 * Chunks of [start, end) of an open file; a fresh buffer per chunk (consumers may keep them). 256 KiB:
 * a dead chunk's memory is only freed by a GC, and smaller chunks held the peak RSS lower at no CPU cost
 * (bench/collect-figures.md).
 */
export async function* readChunks(
  fh: FileHandle,
  start: number,
  end: number,
  chunkBytes = 256 << 10,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  let pos = start
  while (pos < end) {
    if (signal?.aborted) throw abortError()
    const want = Math.min(chunkBytes, end - pos)
    const buf = Buffer.allocUnsafe(want)
    const {bytesRead} = await fh.read(buf, 0, want, pos)
    if (bytesRead === 0) break // truncated meanwhile
    pos += bytesRead
    yield bytesRead === want ? buf : buf.subarray(0, bytesRead)
  }
}

/**
 * Chunks of [start, end) read into one buffer, reused: each chunk is valid only until the next is
 * asked for (hashing, a copy written before the next read). Nothing is left for the GC to free.
 */
export async function* readReusing(
  fh: FileHandle,
  start: number,
  end: number,
  chunkBytes = 1 << 20,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, end - start)))
  let pos = start
  while (pos < end) {
    if (signal?.aborted) throw abortError()
    const {bytesRead} = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos)
    if (bytesRead === 0) break // truncated meanwhile
    pos += bytesRead
    yield buf.subarray(0, bytesRead)
  }
}

export function abortError(): Error {
  return Object.assign(new Error('interrupted by the operator'), {code: 'ABORT_ERR', name: 'AbortError'})
}

export function fileType(st: Stats): string {
  if (st.isSymbolicLink()) return 'symlink'
  if (st.isDirectory()) return 'directory'
  if (st.isFIFO()) return 'FIFO'
  if (st.isSocket()) return 'socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device'
  return 'file'
}

/** A small async queue that turns pushes into an AsyncIterable (the scanner's input) with backpressure. */
export class ChunkQueue implements AsyncIterable<Buffer> {
  private items: Buffer[] = []
  private done = false
  private waiter?: () => void
  private space?: () => void

  constructor(private readonly max = 4) {}

  private closed = false

  async push(b: Buffer): Promise<void> {
    while (this.items.length >= this.max && !this.closed) await new Promise<void>((r) => (this.space = r))
    if (this.closed) return
    this.items.push(b)
    this.wake()
  }

  /** The consumer gave up: pushes return at once and are dropped. */
  close(): void {
    this.closed = true
    this.items = []
    const s = this.space
    this.space = undefined
    s?.()
  }

  end(): void {
    this.done = true
    this.wake()
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      if (this.items.length > 0) {
        const b = this.items.shift()!
        const s = this.space
        this.space = undefined
        s?.()
        yield b
        continue
      }
      if (this.done) return
      await new Promise<void>((r) => (this.waiter = r))
    }
  }
}
