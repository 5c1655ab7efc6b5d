import {randomBytes} from 'node:crypto'
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'
import {atomicWrite, fsyncDir, writeError, writeTarget} from '../system/atomic-write.js'
import {faultPoint} from '../system/fault-point.js'
import type {WrittenFile} from '../system/file-changer.js'
import {sha256} from '../system/hash.js'
import {isSystemPath} from '../system/system-paths.js'

/**
 * The case's write-ahead log of file changes (changes.jsonl): before each change, the exact bytes,
 * mode and owner are backed up and an intent line is fsynced; after it, a done line. Undo after a
 * crash at any point therefore knows both states the file may be in, and restores from the backup
 * only when the file still holds one of them.
 */

interface CaseDir {
  dir: string
}

/** One file change ir made (or was about to make when it stopped), enough to undo it. */
export interface ChangeRecord {
  path: string
  kind: 'content' | 'mode'
  modeBefore: number
  modeAfter: number
  sha256Before?: string
  sha256After?: string
  backup?: string
  step?: string
  /** Write-ahead id; records without one (older cases) were written after the change. */
  id?: string
  /** Owner before the change (restored by undo). */
  owner?: {uid: number; gid: number}
  /** `path` was a symlink to this: the change went to its target, the link stayed. */
  link?: string
  /** The file did not exist before: undo removes it. */
  created?: boolean
  /** false: the intent was journaled but the process stopped before marking it done. */
  done?: boolean
}

const changesFile = (c: CaseDir) => path.join(c.dir, 'changes.jsonl')

/** Copy exact bytes and mode of a file into the case (fsynced) before changing it. */
export function backupFile(c: CaseDir, file: string): {backup: string; sha256: string; mode: number} {
  const dir = path.join(c.dir, 'backups')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const bytes = readFileSync(file)
  const digest = sha256(bytes)
  const backup = path.join(dir, `${digest.slice(0, 12)}-${path.basename(file)}`)
  if (!existsSync(backup) || sha256(readFileSync(backup)) !== digest) {
    copyFileSync(file, backup)
    chmodSync(backup, 0o600)
    fsyncFile(backup)
    fsyncDir(dir)
  }
  return {backup, sha256: digest, mode: statSync(file).mode & 0o7777}
}

/** Append a change line and fsync it: on disk before the change it describes. */
export function recordChange(c: CaseDir, change: ChangeRecord | {id: string; phase: 'done'}): void {
  const fd = openSync(changesFile(c), 'a', 0o600)
  try {
    writeSync(fd, JSON.stringify(change) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Every change, oldest first, with `done` set from the done lines (a torn last line is ignored). */
export function readChanges(c: CaseDir): ChangeRecord[] {
  let text: string
  try {
    text = readFileSync(changesFile(c), 'utf8')
  } catch {
    return []
  }
  const records: ChangeRecord[] = []
  const done = new Set<string>()
  for (const line of text.split('\n')) {
    let x: ChangeRecord & {phase?: string}
    try {
      x = JSON.parse(line) as ChangeRecord & {phase?: string}
    } catch {
      continue
    }
    if (x.phase === 'done' && x.id) done.add(x.id)
    else if (x.path) {
      const {phase: _phase, ...rest} = x
      records.push(rest)
    }
  }
  return records.map((r) => ({...r, done: r.id ? done.has(r.id) : true}))
}

/** Replace a file's bytes, write-ahead: backup and intent first, done after. */
export function writeFileLogged(c: CaseDir, file: string, data: string | Buffer, step: string): WrittenFile {
  const link = linkOf(file)
  const target = writeTarget(file)
  let st
  try {
    st = statSync(target)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeError(file, err)
  }
  if (st && !st.isFile()) throw writeError(file, Object.assign(new Error('directory'), {code: 'EISDIR'}))
  const b = st ? backupFile(c, target) : undefined
  const id = randomBytes(8).toString('hex')
  const mode = st ? st.mode & 0o7777 : 0o600
  const sha256After = sha256(data)
  recordChange(c, {
    id,
    path: file,
    kind: 'content',
    modeBefore: mode,
    modeAfter: mode,
    sha256Before: b?.sha256,
    sha256After,
    backup: b?.backup,
    step,
    ...(st ? {owner: {uid: st.uid, gid: st.gid}} : {created: true}),
    ...(link === undefined ? {} : {link}),
  })
  faultPoint('write:intent')
  atomicWrite(file, data, st ? mode : 0o600)
  faultPoint('write:written')
  recordChange(c, {id, phase: 'done'})
  return {path: file, sha256Before: b?.sha256, sha256After, mode}
}

/** chmod, write-ahead; never through a symlink, never on a system directory. */
export function chmodLogged(c: CaseDir, file: string, mode: number, step: string): void {
  const st = lstatSync(file)
  if (st.isSymbolicLink() || isSystemPath(file)) {
    throw new IrError(
      `${file} is ${st.isSymbolicLink() ? 'a symlink' : 'a system directory'}; ir does not change its mode.`,
      ExitCode.PreconditionFailed,
      ['Nothing was changed on it.'],
      'MODE_REFUSED',
    )
  }
  const id = randomBytes(8).toString('hex')
  const before = st.mode & 0o7777
  recordChange(c, {id, path: file, kind: 'mode', modeBefore: before, modeAfter: mode, step, owner: ownerOf(st)})
  faultPoint('chmod:intent')
  chmodSync(file, mode)
  faultPoint('chmod:done')
  recordChange(c, {id, phase: 'done'})
}

export interface UndoOutcome {
  path: string
  kind: ChangeRecord['kind']
  /** would-restore: what a dry run would restore; failed: the restore did not read back as the original. */
  status: 'restored' | 'would-restore' | 'already' | 'conflict' | 'missing' | 'failed'
  detail: string
}

interface Current {
  missing: boolean
  link?: string
  sha256?: string
  mode?: number
  uid?: number
  gid?: number
}

/**
 * Restore every change of the case, newest first, only where the file holds a state ir left it
 * in (after a crash: before or after its last change) and nobody edited it between two of ir's
 * changes. Anything else is a conflict: left alone and reported. A restore is re-read: bytes,
 * mode and owner must be the original's, else it is reported failed, never restored.
 */
export function undoChanges(c: CaseDir, opts: {dryRun?: boolean} = {}): UndoOutcome[] {
  const outcomes: UndoOutcome[] = []
  const all = readChanges(c)
  const keys = [...new Set(all.map((x) => `${x.path}\u0000${x.kind}`))].reverse()
  for (const key of keys) {
    const history = all.filter((x) => `${x.path}\u0000${x.kind}` === key) // oldest first
    outcomes.push(undoOne(history, Boolean(opts.dryRun)))
  }
  return outcomes
}

function undoOne(history: ChangeRecord[], dryRun: boolean): UndoOutcome {
  const first = history[0]!
  const last = history.at(-1)!
  const out = (status: UndoOutcome['status'], detail: string): UndoOutcome => ({
    path: first.path,
    kind: first.kind,
    status,
    detail,
  })
  const value = (x: ChangeRecord, when: 'before' | 'after') =>
    x.kind === 'mode'
      ? String(when === 'before' ? x.modeBefore : x.modeAfter)
      : String(when === 'before' ? x.sha256Before : x.sha256After)
  // What a record may have left: its after state, or (not marked done) still its before state.
  const left = (x: ChangeRecord) => (x.done === false ? [value(x, 'after'), value(x, 'before')] : [value(x, 'after')])
  const gap = history.findIndex((x, i) => i > 0 && !left(history[i - 1]!).includes(value(x, 'before')))
  if (gap > 0) {
    return out(
      'conflict',
      `edited outside ir between two runs of this case (before step "${history[gap]!.step ?? '?'}"); undoing would discard that edit`,
    )
  }
  const cur = current(first.path, first.kind)
  const linkProblem = linkMismatch(first, cur)
  if (linkProblem) return out('conflict', linkProblem)
  if (cur.missing && !first.created) return out('missing', 'file no longer exists; not recreated')
  const now = first.kind === 'mode' ? String(cur.mode) : String(cur.sha256)
  if (now === value(first, 'before'))
    return out(
      'already',
      first.kind === 'mode'
        ? `mode already ${oct(cur.mode!)}`
        : first.created
          ? 'ir created it; already gone'
          : 'already holds the original bytes',
    )
  if (!left(last).includes(now)) {
    return out(
      'conflict',
      first.kind === 'mode'
        ? `mode is ${oct(cur.mode!)}, ir set ${oct(last.modeAfter)}`
        : `changed since ir wrote it (now sha256 ${cur.sha256?.slice(0, 12) ?? 'missing'}, ir wrote ${last.sha256After?.slice(0, 12)})`,
    )
  }
  if (first.kind === 'content' && !first.created && (!first.backup || !existsSync(first.backup)))
    return out(
      'conflict',
      'cannot restore: the backup is missing from the case (rotate scrubs backups that hold secrets)',
    )
  const what =
    first.kind === 'mode'
      ? `${oct(cur.mode!)} -> ${oct(first.modeBefore)}`
      : first.created
        ? 'remove the file ir created'
        : `original bytes, mode ${oct(first.modeBefore)}${first.owner ? ` and owner ${first.owner.uid}:${first.owner.gid}` : ''}`
  if (dryRun) return out('would-restore', what)
  try {
    restore(first)
  } catch (err) {
    return out('failed', `${what}: ${(err as Error).message}`)
  }
  faultPoint('undo:restored')
  const problem = readBack(first)
  return problem ? out('failed', `${what} attempted, but the re-read differs: ${problem}`) : out('restored', what)
}

function restore(first: ChangeRecord): void {
  if (first.kind === 'mode') {
    chmodSync(first.path, first.modeBefore)
    return
  }
  if (first.created) {
    rmSync(writeTarget(first.path), {force: true})
    return
  }
  atomicWrite(first.path, readFileSync(first.backup!), first.modeBefore, first.owner)
}

/** What differs from the original after a restore; undefined when bytes, mode and owner match. */
function readBack(first: ChangeRecord): string | undefined {
  const cur = current(first.path, first.kind)
  if (first.created) return cur.missing ? undefined : 'the file is still there'
  if (cur.missing) return 'the file is gone'
  const diffs: string[] = []
  if (first.kind === 'content' && cur.sha256 !== first.sha256Before) diffs.push('bytes')
  if (cur.mode !== first.modeBefore) diffs.push(`mode ${oct(cur.mode!)}`)
  if (first.owner && (cur.uid !== first.owner.uid || cur.gid !== first.owner.gid))
    diffs.push(`owner ${cur.uid}:${cur.gid} (was ${first.owner.uid}:${first.owner.gid})`)
  return diffs.length ? diffs.join(', ') : undefined
}

function current(file: string, kind: ChangeRecord['kind']): Current {
  const link = linkOf(file)
  let st
  try {
    st = kind === 'mode' ? lstatSync(file) : statSync(file)
  } catch {
    return {missing: true, link}
  }
  let digest: string | undefined
  if (kind === 'content' && st.isFile()) digest = sha256(readFileSync(file))
  return {missing: false, link, sha256: digest, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid}
}

function linkMismatch(first: ChangeRecord, cur: Current): string | undefined {
  if (first.kind === 'mode') return cur.link === undefined ? undefined : 'is now a symlink: its mode is left alone'
  if (first.link !== undefined && cur.link !== first.link)
    return `was a symlink to ${first.link}; now ${cur.link === undefined ? 'it is not a symlink' : `it points to ${cur.link}`}: left alone`
  if (first.link === undefined && cur.link !== undefined)
    return `is now a symlink to ${cur.link} (it was a regular file): left alone`
  return undefined
}

function linkOf(file: string): string | undefined {
  try {
    return lstatSync(file).isSymbolicLink() ? readlinkSync(file) : undefined
  } catch {
    return undefined
  }
}

function ownerOf(st: {uid: number; gid: number}): {uid: number; gid: number} {
  return {uid: st.uid, gid: st.gid}
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

const oct = (m: number) => m.toString(8).padStart(3, '0')
