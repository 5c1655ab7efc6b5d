import {randomBytes} from 'node:crypto'
import {chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'

/**
 * Replace a file atomically: temp file in the same dir, fsync, rename, fsync the dir. The mode is
 * kept (or set). On failure the original is untouched and the temp file removed.
 */
export function atomicWrite(file: string, data: string | Buffer, mode?: number): void {
  let keepMode = mode
  if (keepMode === undefined) {
    try {
      keepMode = statSync(file).mode & 0o7777
    } catch {
      keepMode = 0o600
    }
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.ir-${randomBytes(4).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', keepMode)
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    chmodSync(tmp, keepMode) // the umask may have narrowed it
    renameSync(tmp, file)
    fsyncDir(path.dirname(file))
  } catch (err) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, {force: true})
    throw writeError(file, err)
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    /* some filesystems refuse fsync on dirs; the rename already happened */
  }
}

export function writeError(file: string, err: unknown): IrError {
  const code = (err as NodeJS.ErrnoException).code
  const why: Record<string, [string, string]> = {
    EROFS: [
      'is on a read-only filesystem',
      'Remount it read-write or copy the state dir elsewhere and point --state-dir at the copy.',
    ],
    EACCES: ['is not writable by this user', 'Run ir as the user that owns the OpenClaw state dir.'],
    EPERM: ['is not writable (immutable or not owned)', 'Check `lsattr` and ownership, then re-run.'],
    ENOSPC: ['cannot be written: the disk is full', 'Free space on that filesystem, then re-run; nothing was changed.'],
    EDQUOT: ['cannot be written: disk quota exceeded', 'Free space, then re-run; nothing was changed.'],
  }
  const [what, next] = why[code ?? ''] ?? [
    `could not be written (${code ?? (err as Error).message})`,
    'Check the path and re-run.',
  ]
  return new IrError(`${file} ${what}.`, ExitCode.Failure, [next], `WRITE_${code ?? 'FAILED'}`)
}
