import {createReadStream, lstatSync, readdirSync} from 'node:fs'
import {open} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {createGunzip, createInflateRaw} from 'node:zlib'

/**
 * Streaming readers for bundles, so `ir verify` never extracts anything and memory stays flat:
 * tar (ustar + pax + GNU long names, header checksums verified) through gunzip, zip (central
 * directory, zip64, stored/deflated), or an extracted directory.
 */

export interface BundleEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'other'
  size: number
  /** Read it fully (or the verifier skips it): the next entry comes after. */
  body: AsyncIterable<Buffer>
}

export type EntryHandler = (e: BundleEntry) => Promise<void>

export class BundleFormatError extends Error {}

/** Bounds on what is read into memory: a tar extended header (long name, pax) and a zip central directory. */
const HEADER_MAX = 1 << 20
const CD_MAX = 64 << 20

async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  for await (const c of createReadStream(file, {highWaterMark: 1 << 20})) yield c as Buffer
}

/** The first bytes (512) of a file read as a bundle: gzip, zip or a ustar tar header. */
export function isArchiveHead(head: Buffer): boolean {
  return (
    (head[0] === 0x1f && head[1] === 0x8b) ||
    (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) ||
    head.toString('latin1', 257, 262) === 'ustar'
  )
}

export async function readBundle(file: string, onEntry: EntryHandler): Promise<void> {
  const st = lstatSync(file)
  if (st.isDirectory()) return readDirectory(file, onEntry)
  const head = Buffer.alloc(4)
  const fh = await open(file, 'r')
  try {
    await fh.read(head, 0, 4, 0)
  } finally {
    await fh.close()
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return readTarGz(createReadStream(file, {highWaterMark: 1 << 20}), onEntry)
  if (head.readUInt32LE(0) === 0x04034b50) return readZip(file, onEntry)
  return readTar(fileChunks(file), onEntry)
}

/** A tar.gz from a stream (a file, or an age decryption as it is read). */
export async function readTarGz(input: Readable, onEntry: EntryHandler): Promise<void> {
  const gunzip = createGunzip()
  input.on('error', (err) => gunzip.destroy(err))
  input.pipe(gunzip)
  try {
    await readTar(gunzip as AsyncIterable<Buffer>, onEntry)
  } finally {
    input.destroy()
    gunzip.destroy()
  }
}

/** Exact-size reads over an async iterator of chunks. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0)
  private readonly it: AsyncIterator<Buffer>
  private ended = false

  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]()
  }

  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n && !this.ended) await this.more()
    const out = this.buf.subarray(0, Math.min(n, this.buf.length))
    this.buf = this.buf.subarray(out.length)
    return out
  }

  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n
    while (left > 0) {
      if (this.buf.length === 0) {
        if (this.ended) throw new BundleFormatError('archive ends inside a file')
        await this.more()
        continue
      }
      const take = this.buf.subarray(0, Math.min(left, this.buf.length))
      this.buf = this.buf.subarray(take.length)
      left -= take.length
      yield take
    }
  }

  private async more(): Promise<void> {
    const r = await this.it.next()
    if (r.done) this.ended = true
    else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value
  }
}

export async function readTar(src: AsyncIterable<Buffer>, onEntry: EntryHandler): Promise<void> {
  const r = new ByteReader(src)
  let pax: Record<string, string> = {}
  let longName: string | undefined
  for (;;) {
    const h = await r.read(512)
    if (h.length === 0) throw new BundleFormatError('archive ends without its end-of-archive blocks (truncated)')
    if (h.length < 512) throw new BundleFormatError('archive ends inside a header (truncated)')
    if (h.every((b) => b === 0)) return
    if (!checksumOk(h)) throw new BundleFormatError('a tar header checksum does not match (corrupted archive)')
    const type = String.fromCharCode(h[156] ?? 0x30)
    const size = octal(h.subarray(124, 136))
    const padded = Math.ceil(size / 512) * 512
    if (type === 'x' || type === 'g' || type === 'L') {
      if (size > HEADER_MAX) throw new BundleFormatError(`a tar extended header of ${size} bytes (over 1 MiB: hostile)`)
      const data = await r.read(padded)
      const body = data.subarray(0, size)
      if (type === 'x') pax = parsePax(body)
      else if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '')
      continue
    }
    const prefix = cstr(h.subarray(345, 500))
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(h.subarray(0, 100))}` : cstr(h.subarray(0, 100)))
    const realSize = pax.size !== undefined ? Number(pax.size) : size
    pax = {}
    longName = undefined
    const kind: BundleEntry['type'] =
      type === '0' || type === '\0' || type === '7'
        ? 'file'
        : type === '5'
          ? 'directory'
          : type === '2'
            ? 'symlink'
            : 'other'
    const body = r.stream(realSize)
    let consumed = false
    const guarded: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        consumed = true
        return body[Symbol.asyncIterator]()
      },
    }
    await onEntry({name, type: kind, size: realSize, body: guarded})
    if (!consumed)
      for await (const _ of body) {
        /* skip */
      }
    const pad = Math.ceil(realSize / 512) * 512 - realSize
    if (pad) await r.read(pad)
  }
}

function checksumOk(h: Buffer): boolean {
  const want = octal(h.subarray(148, 156))
  let sum = 0
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!
  return sum === want
}

function octal(b: Buffer): number {
  if ((b[0] ?? 0) & 0x80) {
    // base-256 (GNU) for big sizes
    let n = 0
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!
    return n
  }
  const s = cstr(b).trim()
  return s ? Number.parseInt(s, 8) : 0
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0)
  return b.toString('utf8', 0, z < 0 ? b.length : z)
}

function parsePax(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let p = 0
  while (p < b.length) {
    const sp = b.indexOf(0x20, p)
    if (sp < 0) break
    const len = Number(b.toString('ascii', p, sp))
    if (!len) break
    const rec = b.toString('utf8', sp + 1, p + len - 1)
    const eq = rec.indexOf('=')
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1)
    p += len
  }
  return out
}

export async function readZip(file: string, onEntry: EntryHandler): Promise<void> {
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const tailLen = Math.min(size, 65_557)
    const tail = Buffer.alloc(tailLen)
    await fh.read(tail, 0, tailLen, size - tailLen)
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
    if (eocd < 0) throw new BundleFormatError('zip end-of-central-directory record not found (truncated)')
    let count = tail.readUInt16LE(eocd + 10)
    let cdSize = tail.readUInt32LE(eocd + 12)
    let cdOffset = tail.readUInt32LE(eocd + 16)
    const loc = eocd - 20
    if (loc >= 0 && tail.readUInt32LE(loc) === 0x07064b50) {
      const z64 = Number(tail.readBigUInt64LE(loc + 8))
      const rec = Buffer.alloc(56)
      await fh.read(rec, 0, 56, z64)
      if (rec.readUInt32LE(0) !== 0x06064b50) throw new BundleFormatError('zip64 end record is damaged')
      count = Number(rec.readBigUInt64LE(32))
      cdSize = Number(rec.readBigUInt64LE(40))
      cdOffset = Number(rec.readBigUInt64LE(48))
    }
    if (cdSize > CD_MAX || cdOffset + cdSize > size)
      throw new BundleFormatError(
        `zip central directory of ${cdSize} bytes does not fit the archive (hostile or damaged)`,
      )
    const cd = Buffer.alloc(cdSize)
    await fh.read(cd, 0, cdSize, cdOffset)
    let p = 0
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new BundleFormatError('zip central directory is damaged')
      const method = cd.readUInt16LE(p + 10)
      let compSize = cd.readUInt32LE(p + 20)
      let uncompSize = cd.readUInt32LE(p + 24)
      const nameLen = cd.readUInt16LE(p + 28)
      const extraLen = cd.readUInt16LE(p + 30)
      const commentLen = cd.readUInt16LE(p + 32)
      const extAttr = cd.readUInt32LE(p + 38)
      let localOffset = cd.readUInt32LE(p + 42)
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen)
      const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen)
      for (let e = 0; e + 4 <= extra.length;) {
        const id = extra.readUInt16LE(e)
        const len = extra.readUInt16LE(e + 2)
        if (id === 0x0001) {
          let q = e + 4
          if (uncompSize === 0xffffffff) {
            uncompSize = Number(extra.readBigUInt64LE(q))
            q += 8
          }
          if (compSize === 0xffffffff) {
            compSize = Number(extra.readBigUInt64LE(q))
            q += 8
          }
          if (localOffset === 0xffffffff) localOffset = Number(extra.readBigUInt64LE(q))
        }
        e += 4 + len
      }
      p += 46 + nameLen + extraLen + commentLen
      const lh = Buffer.alloc(30)
      await fh.read(lh, 0, 30, localOffset)
      if (lh.readUInt32LE(0) !== 0x04034b50) throw new BundleFormatError(`zip local header of ${name} is damaged`)
      const dataStart = localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28)
      const unixType = (extAttr >>> 16) & 0o170000
      const type: BundleEntry['type'] = name.endsWith('/') ? 'directory' : unixType === 0o120000 ? 'symlink' : 'file'
      const raw =
        compSize === 0
          ? emptyIter()
          : (createReadStream('', {
              fd: fh.fd,
              start: dataStart,
              end: dataStart + compSize - 1,
              autoClose: false,
            }) as AsyncIterable<Buffer>)
      let body: AsyncIterable<Buffer>
      if (method === 0) body = raw
      else if (method === 8) body = inflate(raw)
      else throw new BundleFormatError(`zip entry ${name} uses compression method ${method}`)
      await onEntry({name, type, size: uncompSize, body})
    }
  } finally {
    await fh.close()
  }
}

async function* emptyIter(): AsyncGenerator<Buffer> {
  /* nothing */
}

async function* inflate(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createInflateRaw()
  const feed = (async () => {
    try {
      for await (const c of src) if (!z.write(c)) await new Promise((r) => z.once('drain', r))
      z.end()
    } catch (err) {
      z.destroy(err as Error)
    }
  })()
  for await (const c of z) yield c as Buffer
  await feed
}

async function readDirectory(dir: string, onEntry: EntryHandler): Promise<void> {
  const base = path.dirname(dir)
  const stack = [dir]
  while (stack.length) {
    const d = stack.pop()!
    for (const name of readdirSync(d).sort().reverse()) {
      const full = path.join(d, name)
      const st = lstatSync(full)
      const rel = path.relative(base, full).split(path.sep).join('/')
      if (st.isDirectory()) {
        stack.push(full)
        await onEntry({name: `${rel}/`, type: 'directory', size: 0, body: emptyIter()})
      } else {
        await onEntry({
          name: rel,
          type: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
          size: st.size,
          body: st.isFile() ? (createReadStream(full, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) : emptyIter(),
        })
      }
    }
  }
}
