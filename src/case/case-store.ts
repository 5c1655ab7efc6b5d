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

export function openCase(id: string | undefined, opts: {home?: string; now?: () => Date; mustExist?: boolean} = {}): Case {
  const home = opts.home ?? irHome()
  const caseId = id ?? newCaseId(opts.now?.())
  if (!CASE_ID.test(caseId)) {
    throw new IrError(`Case id "${caseId}" is not valid.`, ExitCode.Usage, ['Use letters, digits, ".", "_" and "-" (e.g. IR-20261123-101500-ab12).'], 'CASE_ID')
  }
  const dir = path.join(home, 'cases', caseId)
  const created = !existsSync(dir)
  if (created && opts.mustExist) {
    throw new IrError(`Case ${caseId} does not exist in ${path.join(home, 'cases')}.`, ExitCode.PreconditionFailed, ['List cases with `ls ~/.openclaw-ir/cases` (or $IR_HOME/cases).'], 'CASE_MISSING')
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
    return readFileSync(path.join(c.dir, 'changes.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChangeRecord)
  } catch {
    return []
  }
}

export interface UndoOutcome {
  path: string
  kind: ChangeRecord['kind']
  status: 'restored' | 'already' | 'conflict' | 'missing'
  detail: string
}

/**
 * Restore every change of the case, newest first, only where the file still holds what ir wrote.
 * A file changed since is a conflict: it is left alone and reported (with its current hash).
 */
export function undoChanges(c: Case, opts: {dryRun?: boolean} = {}): UndoOutcome[] {
  const outcomes: UndoOutcome[] = []
  const changes = readChanges(c).reverse()
  // Later changes of the same file are undone first; check each against what ir last wrote.
  const done = new Set<string>()
  for (const ch of changes) {
    const key = `${ch.path}\u0000${ch.kind}`
    if (done.has(key)) continue
    done.add(key)
    const first = changes.filter((x) => x.path === ch.path && x.kind === ch.kind).at(-1) ?? ch // earliest = true original
    let st
    try {
      st = statSync(ch.path)
    } catch {
      outcomes.push({path: ch.path, kind: ch.kind, status: 'missing', detail: 'file no longer exists; not recreated'})
      continue
    }
    const mode = st.mode & 0o7777
    if (ch.kind === 'mode') {
      if (mode === first.modeBefore) outcomes.push({path: ch.path, kind: 'mode', status: 'already', detail: `mode already ${oct(mode)}`})
      else if (mode !== ch.modeAfter) outcomes.push({path: ch.path, kind: 'mode', status: 'conflict', detail: `mode is ${oct(mode)}, ir set ${oct(ch.modeAfter)}`})
      else {
        if (!opts.dryRun) chmodSync(ch.path, first.modeBefore)
        outcomes.push({path: ch.path, kind: 'mode', status: 'restored', detail: `${oct(mode)} -> ${oct(first.modeBefore)}`})
      }
      continue
    }
    const current = sha256(readFileSync(ch.path))
    if (current === first.sha256Before) {
      outcomes.push({path: ch.path, kind: 'content', status: 'already', detail: 'already holds the original bytes'})
    } else if (current !== ch.sha256After) {
      outcomes.push({path: ch.path, kind: 'content', status: 'conflict', detail: `changed since ir wrote it (now sha256 ${current.slice(0, 12)}, ir wrote ${ch.sha256After?.slice(0, 12)})`})
    } else if (!first.backup || !existsSync(first.backup)) {
      outcomes.push({path: ch.path, kind: 'content', status: 'conflict', detail: 'backup is missing from the case'})
    } else {
      if (!opts.dryRun) atomicWrite(ch.path, readFileSync(first.backup), first.modeBefore)
      outcomes.push({path: ch.path, kind: 'content', status: 'restored', detail: `original bytes and mode ${oct(first.modeBefore)} restored`})
    }
  }
  return outcomes
}

const oct = (m: number) => m.toString(8).padStart(3, '0')
