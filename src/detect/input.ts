import {copyFileSync, createReadStream, existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {open} from 'node:fs/promises'

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
      scanner.skip(input.path, code === 'ENOENT' ? 'vanished before it could be read'
        : code === 'ENOSPC' ? `no space in ${os.tmpdir()} for a private copy of the store: set TMPDIR to a larger disk` : `unreadable (${code})`)
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
  let fh
  try {
    fh = await open(input.path, 'r')
  } catch (err) {
    const code = codeOf(err)
    scanner.skip(input.path, code === 'ENOENT' ? 'vanished before it could be read' : `unreadable (${code})`)
    return
  }
  let size = 0
  try {
    const st = await fh.stat()
    if (!st.isFile()) {
      scanner.skip(input.path, 'not a regular file: not read')
      return
    }
    size = st.size
    // read only the bytes present at the start: a growing file is scanned up to there and reported
    const raw = size === 0 ? emptyChunks() : createReadStream('', {fd: fh.fd, start: 0, end: size - 1, highWaterMark: chunkBytes, autoClose: false})
    const chunks = input.format === 'jsonl-zst' ? zstdChunks(raw) : raw
    await scanner.scanJsonl(chunks as AsyncIterable<Uint8Array>, input.source)
    const after = await fh.stat()
    if (after.size > size) scanner.skip(input.path, `grew during the scan (${size} → ${after.size} bytes): scanned the first ${size} bytes`)
    else if (after.size < size) scanner.skip(input.path, `shrank during the scan (${size} → ${after.size} bytes): results may be incomplete`)
  } catch (err) {
    scanner.skip(input.path, input.format === 'jsonl-zst' && /zstd|invalid|unexpected/i.test(errorMessage(err))
      ? `not valid zstd (${errorMessage(err)}): scanned up to the error`
      : `read failed (${codeOf(err)}): scanned up to the error`)
  } finally {
    await fh.close()
  }
}

async function* emptyChunks(): AsyncGenerator<Buffer> {
  // nothing: the scanner reports the empty file
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

