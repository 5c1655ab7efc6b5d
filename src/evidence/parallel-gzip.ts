import {availableParallelism} from 'node:os'
import {Transform, type TransformCallback} from 'node:stream'
import {promisify} from 'node:util'
import {gzip} from 'node:zlib'

const gzipAsync = promisify(gzip)

/**
 * gzip on every core: the input is cut into blocks, each compressed on its own in zlib's
 * threadpool, and written out in order as one gzip member per block. A file of several members
 * is one gzip file (RFC 1952 §2.2): gunzip, `tar xzf` and Node's gunzip read it as one stream.
 * One compressor alone was what held a bundle back (the archive's tail waited on it); memory is
 * the blocks in flight (a few MiB), whatever the input size.
 */

export interface ParallelGzipOptions {
  level: number
  /** Bytes per member: big enough that restarting the 32 KiB window costs little ratio. */
  blockSize?: number
  /** Members compressed at a time (default: one per core, at least 2). */
  inFlight?: number
}

export class ParallelGzip extends Transform {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private members = 0
  private readonly queue: Array<Promise<Buffer>> = []
  private readonly level: number
  private readonly blockSize: number
  private readonly inFlight: number

  constructor(opts: ParallelGzipOptions) {
    super()
    this.level = opts.level
    this.blockSize = opts.blockSize ?? 1 << 20
    this.inFlight = opts.inFlight ?? Math.max(2, availableParallelism())
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    if (this.pendingBytes < this.blockSize) return cb()
    this.dispatch()
    this.drainTo(this.inFlight - 1).then(() => cb(), cb)
  }

  override _flush(cb: TransformCallback): void {
    // an empty input still makes one (empty) member: a gzip file has at least one
    if (this.pendingBytes || this.members === 0) this.dispatch()
    this.drainTo(0).then(() => cb(), cb)
  }

  private dispatch(): void {
    const block = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    this.members++
    const p = gzipAsync(block, {level: this.level, chunkSize: 256 << 10})
    // awaited in order below; a failure while an earlier member is awaited must not go unhandled
    p.catch(() => undefined)
    this.queue.push(p)
  }

  private async drainTo(n: number): Promise<void> {
    while (this.queue.length > n) this.push(await this.queue.shift()!)
  }
}
