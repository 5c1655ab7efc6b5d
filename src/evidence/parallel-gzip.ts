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
  /** The block being filled: input is copied in as it comes, so upstream chunks are free at once. */
  private block?: Buffer
  private filled = 0
  private members = 0
  private readonly queue: Array<{out: Promise<Buffer>; block: Buffer}> = []
  /** Blocks whose compression is done, filled again: no new buffer per block for the GC to free. */
  private readonly spare: Buffer[] = []
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
    this.fill(chunk, 0).then(() => cb(), cb)
  }

  override _flush(cb: TransformCallback): void {
    // an empty input still makes one (empty) member: a gzip file has at least one
    if (this.filled || this.members === 0) this.dispatch()
    this.drainTo(0).then(() => cb(), cb)
  }

  private async fill(chunk: Buffer, from: number): Promise<void> {
    while (from < chunk.length) {
      this.block ??= this.spare.pop() ?? Buffer.allocUnsafe(this.blockSize)
      const n = chunk.copy(this.block, this.filled, from)
      this.filled += n
      from += n
      if (this.filled < this.blockSize) return
      this.dispatch()
      await this.drainTo(this.inFlight - 1)
    }
  }

  private dispatch(): void {
    const block = this.block ?? Buffer.alloc(0)
    const out = gzipAsync(block.subarray(0, this.filled), {level: this.level, chunkSize: 256 << 10})
    // awaited in order below; a failure while an earlier member is awaited must not go unhandled
    out.catch(() => undefined)
    this.queue.push({out, block})
    this.block = undefined
    this.filled = 0
    this.members++
  }

  private async drainTo(n: number): Promise<void> {
    while (this.queue.length > n) {
      const {out, block} = this.queue.shift()!
      this.push(await out)
      // the compressor has finished with its input
      if (block.length === this.blockSize) this.spare.push(block)
    }
  }
}
