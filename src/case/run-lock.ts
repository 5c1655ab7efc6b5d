import {closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'

/**
 * One ir run per case at a time: <case>/run.lock (O_EXCL) holds the owner's pid for the whole run.
 * A second run waits briefly, then stops naming the holder; a lock whose pid is dead (kill -9,
 * power loss) is taken over. Held locks are released when the process exits.
 */

const held = new Set<string>()
let exitHook = false

/** How long a second run waits for the first (IR_LOCK_WAIT_MS overrides, for tests). */
const waitMs = () => Number(process.env.IR_LOCK_WAIT_MS ?? 3000)

export function acquireRunLock(caseDir: string, caseId: string): void {
  const file = path.join(caseDir, 'run.lock')
  if (held.has(file)) return
  const deadline = Date.now() + waitMs()
  for (;;) {
    if (tryCreate(file)) break
    const holder = readHolder(file)
    if (holder ? holder.pid === process.pid || !alive(holder.pid) : unreadableForLong(file)) {
      takeOver(file, holder?.pid)
      continue
    }
    if (Date.now() >= deadline) {
      throw new IrError(
        `Case ${caseId} is in use by another ir run (pid ${holder?.pid ?? '?'}${holder?.host && holder.host !== os.hostname() ? ` on ${holder.host}` : ''}).`,
        ExitCode.PreconditionFailed,
        [`Wait for that run to finish, then re-run (or use another --case); the lock is ${file}.`],
        'CASE_LOCKED',
      )
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
  }
  held.add(file)
  if (!exitHook) {
    exitHook = true
    process.on('exit', releaseRunLocks)
  }
}

/** Release every run lock this process holds (also called at exit). */
export function releaseRunLocks(): void {
  for (const file of held) {
    if (readHolder(file)?.pid === process.pid) rmSync(file, {force: true})
  }
  held.clear()
}

function tryCreate(file: string): boolean {
  let fd: number
  try {
    fd = openSync(file, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    writeSync(fd, JSON.stringify({pid: process.pid, host: os.hostname(), since: new Date().toISOString()}))
    fsyncSync(fd)
  } catch (err) {
    rmSync(file, {force: true})
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    throw new IrError(
      `The run lock ${file} cannot be written (${code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : code}).`,
      ExitCode.PreconditionFailed,
      ['Free space there (or point IR_HOME at another directory), then re-run; nothing was changed.'],
      'IR_HOME_UNWRITABLE',
    )
  } finally {
    closeSync(fd)
  }
  return true
}

/** Moved aside first, then checked: two runs taking over the same stale lock cannot both win. */
function takeOver(file: string, stalePid: number | undefined): void {
  const aside = `${file}.stale-${process.pid}`
  try {
    renameSync(file, aside)
  } catch {
    return // someone else moved it; retry
  }
  if (readHolder(aside)?.pid !== stalePid) {
    // We moved a fresh lock of another run: put it back unless a third run already took the name.
    try {
      linkSync(aside, file) // fails if a third run already took the name
    } catch {
      /* that run holds it now */
    }
  }
  rmSync(aside, {force: true})
}

/** A lock file without a pid for seconds: its writer died between creating and filling it. */
function unreadableForLong(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > 5000
  } catch {
    return false
  }
}

function readHolder(file: string): {pid: number; host?: string} | undefined {
  try {
    const x = JSON.parse(readFileSync(file, 'utf8')) as {pid?: unknown; host?: unknown}
    return typeof x.pid === 'number' ? {pid: x.pid, host: typeof x.host === 'string' ? x.host : undefined} : undefined
  } catch {
    return undefined
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
