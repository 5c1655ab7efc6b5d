import {closeSync, copyFileSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {Decompress} from 'fzstd'

import {errorMessage} from '../errors.js'
import type {Scanner} from './scanner.js'
import {codeOf} from './sources.js'
import type {Input} from './sources.js'

/* Reading one input into a scanner: no rule loading here, so worker threads start light. */

/**
 * SQLite rewrites (or creates) -wal/-shm next to a store even on a read-only open, so a source store
 * is never opened in place: it is copied with its -wal into a private temp dir, and that is read.
 */
async function scanStoreCopy(scanner: Scanner, input: Input): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ir-scan-store-'))
  try {
    const copy = path.join(dir, 'store.sqlite')
    try {
      copyFileSync(input.path, copy)
      if (existsSync(`${input.path}-wal`)) copyFileSync(`${input.path}-wal`, `${copy}-wal`)
    } catch (err) {
      const code = codeOf(err)
      scanner.skip(
        input.path,
        code === 'ENOENT'
          ? 'vanished before it could be read'
          : code === 'ENOSPC'
            ? `no space in ${os.tmpdir()} for a private copy of the store: set TMPDIR to a larger disk`
            : `unreadable (${code})`,
      )
      return
    }
    await scanner.scanSqliteStore(copy, input.source)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/** One input; whatever goes wrong with it is recorded as skipped and the scan goes on. */
export async function scanInput(scanner: Scanner, input: Input, chunkBytes = 1 << 20): Promise<void> {
  if (input.format === 'sqlite') {
    await scanStoreCopy(scanner, input)
    return
  }
  let fd: number
  try {
    fd = openSync(input.path, 'r')
  } catch (err) {
    const code = codeOf(err)
    scanner.skip(input.path, code === 'ENOENT' ? 'vanished before it could be read' : `unreadable (${code})`)
    return
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) {
      scanner.skip(input.path, 'not a regular file: not read')
      return
    }
    // read only the bytes present at the start: a growing file is scanned up to there and reported
    const size = st.size
    // fzstd keeps references to input it has not decoded yet: it gets fresh buffers
    const chunks =
      input.format === 'jsonl-zst'
        ? zstdChunks(readChunks(fd, size, chunkBytes, true))
        : readChunks(fd, size, chunkBytes, false)
    await scanner.scanJsonl(chunks, input.source)
    const after = fstatSync(fd)
    if (after.size > size)
      scanner.skip(input.path, `grew during the scan (${size} → ${after.size} bytes): scanned the first ${size} bytes`)
    else if (after.size < size)
      scanner.skip(input.path, `shrank during the scan (${size} → ${after.size} bytes): results may be incomplete`)
  } catch (err) {
    scanner.skip(
      input.path,
      input.format === 'jsonl-zst' && /zstd|invalid|unexpected/i.test(errorMessage(err))
        ? `not valid zstd (${errorMessage(err)}): scanned up to the error`
        : `read failed (${codeOf(err)}): scanned up to the error`,
    )
  } finally {
    closeSync(fd)
  }
}

/**
 * The first `size` bytes of a file, in one reused buffer unless `fresh` (the scanner copies what
 * it keeps). Synchronous reads: a scan reads thousands of files, and a thread-pool round trip per
 * read costs more than the read itself (worker threads keep the CPUs busy instead).
 */
async function* readChunks(fd: number, size: number, chunkBytes: number, fresh: boolean): AsyncGenerator<Buffer> {
  const length = Math.min(chunkBytes, Math.max(size, 1))
  let buf = Buffer.allocUnsafe(length)
  let pos = 0
  while (pos < size) {
    if (fresh && pos > 0) buf = Buffer.allocUnsafe(length)
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos)
    if (n === 0) return
    pos += n
    yield buf.subarray(0, n)
  }
}

/** Streaming zstd (`.jsonl.zst` cold storage) with fzstd: Node 20's zlib has no zstd. */
export async function* zstdChunks(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = []
  const d = new Decompress((data) => {
    out.push(data)
  })
  for await (const c of src) {
    d.push(c)
    while (out.length > 0) yield out.shift()!
  }
  d.push(new Uint8Array(0), true)
  while (out.length > 0) yield out.shift()!
}
