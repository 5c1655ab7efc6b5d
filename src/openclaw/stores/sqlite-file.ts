import {closeSync, constants, openSync, readSync} from 'node:fs'

/**
 * A SQLite file known by its header, not its name: OpenClaw's doctor copies every database to
 * `<db>.pre-startup-migration-<timestamp>.bak` before migrating (2026.9.7+), and an attacker can
 * name one anything. The header is read without moving the access time where the kernel allows.
 */

export const SQLITE_MAGIC = 'SQLite format 3\u0000'
/** Smallest SQLite file: one 512-byte page. */
export const SQLITE_MIN_BYTES = 512
/** Where OpenClaw keeps its stores (relative to the agent dir and to the state dir). */
export const AGENT_STORE_FILE = 'openclaw-agent.sqlite'
export const STATE_STORE_FILE = 'state/openclaw.sqlite'
/** The doctor's pre-migration copy of a store. */
export const DOCTOR_BACKUP = /\.pre-startup-migration-[^/]*\.bak$/

const NOATIME = (constants as Record<string, number>).O_NOATIME ?? 0

/** The first 100 bytes (the database header), or undefined when unreadable or shorter. */
export function readSqliteHeader(file: string): Buffer | undefined {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | NOATIME | (constants.O_NOFOLLOW ?? 0))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM' || !NOATIME) return undefined
    try {
      fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0))
    } catch {
      return undefined
    }
  }
  try {
    const b = Buffer.alloc(100)
    return readSync(fd, b, 0, 100, 0) === 100 ? b : undefined
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

export function isSqliteHeader(b: Buffer | undefined): b is Buffer {
  return b !== undefined && b.length >= 100 && b.toString('latin1', 0, 16) === SQLITE_MAGIC
}

export function isSqliteFile(file: string): boolean {
  return isSqliteHeader(readSqliteHeader(file))
}

/** PRAGMA user_version, from the header bytes. */
export function headerUserVersion(b: Buffer): number {
  return b.readInt32BE(60)
}
