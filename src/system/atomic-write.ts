import {randomBytes} from 'node:crypto'
import {
  chmodSync,
  chownSync,
  closeSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'

export interface FileOwner {
  uid: number
  gid: number
}

/** A symlink is written through (its target is replaced, the link stays); anything else is itself. */
export function writeTarget(file: string): string {
  try {
    if (lstatSync(file).isSymbolicLink()) return realpathSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeError(file, err)
    if (isLink(file)) throw writeError(file, err) // a dangling link: never replaced by a regular file
  }
  return file
}

/**
 * Replace a file atomically: temp file in the same dir, fsync, rename, fsync the dir. Owner, group
 * and mode are kept (a new file gets its directory's owner and `mode`, default 0600); a symlink is
 * written through. When the owner cannot be kept (not root), nothing is written. On failure the
 * original is untouched and the temp file removed.
 */
export function atomicWrite(file: string, data: string | Buffer, mode?: number, owner?: FileOwner): void {
  const target = writeTarget(file)
  let keepMode = mode
  let keepOwner = owner
  try {
    const st = statSync(target)
    if (!st.isFile())
      throw Object.assign(new Error('not a regular file'), {code: st.isDirectory() ? 'EISDIR' : 'EINVAL'})
    keepMode ??= st.mode & 0o7777
    keepOwner ??= {uid: st.uid, gid: st.gid}
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeError(file, err)
    keepMode ??= 0o600
    keepOwner ??= ownerOfDir(path.dirname(target))
  }
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.ir-${randomBytes(4).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', keepMode)
    if (keepOwner) chownIfNeeded(fd, keepOwner)
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    chmodSync(tmp, keepMode) // the umask may have narrowed it; chown may have cleared set-id bits
    renameSync(tmp, target)
    fsyncDir(path.dirname(target))
  } catch (err) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, {force: true})
    throw writeError(file, err)
  }
}

/** The owner a new file in `dir` should get: the directory's, when ir may give it (root); else ir's own. */
export function ownerOfDir(dir: string): FileOwner | undefined {
  try {
    const st = statSync(dir)
    return isRoot() ? {uid: st.uid, gid: st.gid} : undefined
  } catch {
    return undefined
  }
}

function chownIfNeeded(fd: number, want: FileOwner): void {
  const have = fstatSync(fd)
  if (have.uid === want.uid && have.gid === want.gid) return
  try {
    fchownSync(fd, want.uid, want.gid)
  } catch (err) {
    throw Object.assign(new Error(`cannot keep owner ${want.uid}:${want.gid}`), {
      code: 'EOWNER',
      cause: err,
    })
  }
}

const isRoot = () => process.geteuid?.() === 0

/**
 * Give files ir's process may have created beside `like` (SQLite's -wal, -shm, -journal) the owner
 * of `like`, so the gateway's user can still open its database after root wrote to it.
 */
export function alignOwners(like: string, files: string[]): void {
  if (!isRoot()) return
  const want = statSync(like, {throwIfNoEntry: false})
  if (!want) return
  for (const f of files) {
    const st = lstatSync(f, {throwIfNoEntry: false})
    if (st?.isFile() && (st.uid !== want.uid || st.gid !== want.gid)) chownSync(f, want.uid, want.gid)
  }
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink()
  } catch {
    return false
  }
}

export function fsyncDir(dir: string): void {
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
  if (err instanceof IrError) return err
  const code = (err as NodeJS.ErrnoException).code
  const why: Record<string, [string, string]> = {
    EROFS: [
      'is on a read-only filesystem',
      'Remount it read-write or copy the state dir elsewhere and point --state-dir at the copy.',
    ],
    EACCES: ['is not writable by this user', 'Run ir as the user that owns the OpenClaw state dir.'],
    EPERM: ['is not writable (immutable or not owned)', 'Check `lsattr` and ownership, then re-run.'],
    EOWNER: [
      'is owned by another user; ir would change its owner by writing it',
      'Run ir as that user (or as root), then re-run; nothing was changed.',
    ],
    ENOSPC: ['cannot be written: the disk is full', 'Free space on that filesystem, then re-run; nothing was changed.'],
    EDQUOT: ['cannot be written: disk quota exceeded', 'Free space, then re-run; nothing was changed.'],
    EISDIR: ['is a directory, not a file', 'Point ir at the file itself (--config FILE), then re-run.'],
  }
  const [what, next] = why[code ?? ''] ?? [
    `could not be written (${code ?? (err as Error).message})`,
    'Check the path and re-run.',
  ]
  return new IrError(`${file} ${what}.`, ExitCode.Failure, [next], `WRITE_${code ?? 'FAILED'}`)
}
