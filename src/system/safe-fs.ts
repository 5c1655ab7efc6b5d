import {closeSync, openSync, readFileSync, readSync, readdirSync} from 'node:fs'

/** Entries of a dir, sorted; [] when it is missing or unreadable (discovery probes many paths that need not exist). */
export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}

/** A file's text, or undefined when it is missing or unreadable. */
export function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * A file read through its descriptor, `visit` given (fd, chunk buffer) — undefined when it cannot be
 * opened. The buffer is at most `chunk` bytes: what is read of any file is bounded by the caller.
 */
export function withFile<T>(file: string, chunk: number, visit: (fd: number, buf: Buffer) => T): T | undefined {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return undefined
  }
  try {
    return visit(fd, Buffer.alloc(Math.max(1, chunk)))
  } finally {
    closeSync(fd)
  }
}

/**
 * The first `max` bytes of a file (memory bounded on any input), or undefined when it cannot be read.
 * With `into` (at least `max` bytes), read there: the result is a view of it, valid until its next use.
 */
export function readHead(file: string, max: number, into?: Buffer): Buffer | undefined {
  const n = Math.max(0, max)
  if (into && into.length < n) throw new RangeError('readHead: buffer smaller than max')
  const read = (fd: number, buf: Buffer) => buf.subarray(0, readSync(fd, buf, 0, n, 0))
  return into ? withFile(file, 0, (fd) => read(fd, into)) : withFile(file, n, read)
}
