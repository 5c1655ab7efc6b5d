import {randomBytes} from 'node:crypto'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'
import {openclawHome, type HostEnv, realHost} from '../openclaw/locate.js'
import {atomicWrite} from '../system/atomic-write.js'
import {Journal, sha256} from './journal.js'

/**
 * Cases live in $IR_HOME/cases/<id>/ (0700): journal.jsonl, backups/ (exact bytes and mode of
 * every file before ir changed it), changes.jsonl (what ir wrote, for undo), evidence/.
 */

export interface Case {
  id: string
  dir: string
  journal: Journal
  created: boolean
}

const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function irHome(host: HostEnv = realHost()): string {
  return host.env.IR_HOME?.trim() || path.join(openclawHome(host), '.openclaw-ir')
}

export function newCaseId(now: Date = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `IR-${t}-${randomBytes(2).toString('hex')}`
}

export function openCase(
  id: string | undefined,
  opts: {home?: string; now?: () => Date; mustExist?: boolean} = {},
): Case {
  const home = opts.home ?? irHome()
  const caseId = id ?? newCaseId(opts.now?.())
  if (!CASE_ID.test(caseId)) {
    throw new IrError(
      `Case id "${caseId}" is not valid.`,
      ExitCode.Usage,
      ['Use letters, digits, ".", "_" and "-" (e.g. IR-20261123-101500-ab12).'],
      'CASE_ID',
    )
  }
  const dir = path.join(home, 'cases', caseId)
  const created = !existsSync(dir)
  if (created && opts.mustExist) {
    throw new IrError(
      `Case ${caseId} does not exist in ${path.join(home, 'cases')}.`,
      ExitCode.PreconditionFailed,
      ['List cases with `ls ~/.openclaw-ir/cases` (or $IR_HOME/cases).'],
      'CASE_MISSING',
    )
  }
  for (const d of [home, path.join(home, 'cases'), dir]) {
    mkdirSync(d, {recursive: true, mode: 0o700})
    chmodSync(d, 0o700)
  }
  return {id: caseId, dir, journal: new Journal(path.join(dir, 'journal.jsonl'), caseId, opts.now), created}
}

/** One file change ir made, enough to undo it: the backup of the bytes before, the hash after. */
export interface ChangeRecord {
  path: string
  kind: 'content' | 'mode'
  modeBefore: number
  modeAfter: number
  sha256Before?: string
  sha256After?: string
  backup?: string
  step?: string
}

/** Copy exact bytes and mode of a file into the case before changing it. */
export function backupFile(c: Case, file: string): {backup: string; sha256: string; mode: number} {
  const dir = path.join(c.dir, 'backups')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const bytes = readFileSync(file)
  const digest = sha256(bytes)
  const backup = path.join(dir, `${digest.slice(0, 12)}-${path.basename(file)}`)
  if (!existsSync(backup)) {
    copyFileSync(file, backup)
    chmodSync(backup, 0o600)
  }
  return {backup, sha256: digest, mode: statSync(file).mode & 0o7777}
}

export function recordChange(c: Case, change: ChangeRecord): void {
  writeFileSync(path.join(c.dir, 'changes.jsonl'), JSON.stringify(change) + '\n', {flag: 'a', mode: 0o600})
}

export function readChanges(c: Case): ChangeRecord[] {
  try {
    return readFileSync(path.join(c.dir, 'changes.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ChangeRecord)
  } catch {
    return []
  }
}

export interface UndoOutcome {
  path: string
  kind: ChangeRecord['kind']
  /** would-restore: what a dry run would restore. */
  status: 'restored' | 'would-restore' | 'already' | 'conflict' | 'missing'
  detail: string
}

/**
 * Restore every change of the case, newest first, only where the file still holds what ir wrote
 * and nobody edited it between two of ir's writes (each change must start from what the previous
 * one wrote). Anything else is a conflict: left alone and reported.
 */
export function undoChanges(c: Case, opts: {dryRun?: boolean} = {}): UndoOutcome[] {
  const outcomes: UndoOutcome[] = []
  const all = readChanges(c)
  const keys = [...new Set(all.map((x) => `${x.path}\u0000${x.kind}`))].reverse()
  for (const key of keys) {
    const history = all.filter((x) => `${x.path}\u0000${x.kind}` === key) // oldest first
    const first = history[0]!
    const last = history.at(-1)!
    const out = (status: UndoOutcome['status'], detail: string) =>
      outcomes.push({path: first.path, kind: first.kind, status, detail})
    const gap = history.findIndex(
      (x, i) =>
        i > 0 &&
        (first.kind === 'mode'
          ? x.modeBefore !== history[i - 1]!.modeAfter
          : x.sha256Before !== history[i - 1]!.sha256After),
    )
    let st
    try {
      st = statSync(first.path)
    } catch {
      out('missing', 'file no longer exists; not recreated')
      continue
    }
    if (gap > 0) {
      out(
        'conflict',
        `edited outside ir between two runs of this case (before step "${history[gap]!.step ?? '?'}"); undoing would discard that edit`,
      )
      continue
    }
    const mode = st.mode & 0o7777
    if (first.kind === 'mode') {
      if (mode === first.modeBefore) out('already', `mode already ${oct(mode)}`)
      else if (mode !== last.modeAfter) out('conflict', `mode is ${oct(mode)}, ir set ${oct(last.modeAfter)}`)
      else {
        if (!opts.dryRun) chmodSync(first.path, first.modeBefore)
        out(opts.dryRun ? 'would-restore' : 'restored', `${oct(mode)} -> ${oct(first.modeBefore)}`)
      }
      continue
    }
    const current = sha256(readFileSync(first.path))
    if (current === first.sha256Before) out('already', 'already holds the original bytes')
    else if (current !== last.sha256After)
      out(
        'conflict',
        `changed since ir wrote it (now sha256 ${current.slice(0, 12)}, ir wrote ${last.sha256After?.slice(0, 12)})`,
      )
    else if (!first.backup || !existsSync(first.backup)) out('conflict', 'backup is missing from the case')
    else {
      if (!opts.dryRun) atomicWrite(first.path, readFileSync(first.backup), first.modeBefore)
      out(opts.dryRun ? 'would-restore' : 'restored', `original bytes and mode ${oct(first.modeBefore)}`)
    }
  }
  return outcomes
}

const oct = (m: number) => m.toString(8).padStart(3, '0')
