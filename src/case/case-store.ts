import {randomBytes} from 'node:crypto'
import {accessSync, chmodSync, constants, existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'
import type {FileChanger} from '../system/file-changer.js'
import {type HostEnv, openclawHome, realHost} from '../system/host.js'
import {chmodLogged, writeFileLogged} from './file-changes.js'
import {Journal} from './journal.js'
import {acquireRunLock, releaseRunLocks} from './run-lock.js'

export {
  backupFile,
  type ChangeRecord,
  readChanges,
  recordChange,
  type UndoOutcome,
  undoChanges,
} from './file-changes.js'

/**
 * Cases live in $IR_HOME/cases/<id>/ (0700): journal.jsonl, backups/ (exact bytes and mode of
 * every file before ir changed it), changes.jsonl (write-ahead log of what ir changes, for undo),
 * evidence/. One run at a time per case (run.lock).
 */

export interface Case extends FileChanger {
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

/** Cases this process opened: each gets a last journal entry with the process's exit code. */
const opened = new Map<string, Case>()

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
  for (const d of [home, path.join(home, 'cases'), dir]) makePrivateDir(d, home)
  acquireRunLock(dir, caseId)
  const c: Case = {
    id: caseId,
    dir,
    journal: new Journal(path.join(dir, 'journal.jsonl'), caseId, opts.now),
    created,
    writeFile: (file, data, step) => writeFileLogged(c, file, data, step),
    chmod: (file, mode, step) => chmodLogged(c, file, mode, step),
  }
  opened.set(dir, c)
  return c
}

/**
 * End of the process's work: each case it opened gets a last journal entry with the exit code the
 * process returns (and the command's verdict), then its run lock is released.
 */
export function closeCases(end: {exitCode: number; verified?: boolean}): void {
  for (const c of opened.values()) {
    try {
      c.journal.append({
        status: 'exit',
        detail: `exit ${end.exitCode}`,
        data: {exitCode: end.exitCode, ...(end.verified === undefined ? {} : {verified: end.verified})},
      })
    } catch {
      /* the case dir is gone or unwritable: nothing more to record */
    }
  }
  opened.clear()
  releaseRunLocks()
}

function makePrivateDir(d: string, home: string): void {
  try {
    mkdirSync(d, {recursive: true, mode: 0o700})
    chmodSync(d, 0o700)
  } catch (err) {
    const code = causeOf(d, err)
    const why =
      code === 'EROFS'
        ? 'is on a read-only filesystem'
        : code === 'EACCES' || code === 'EPERM'
          ? 'is not writable by this user'
          : code === 'ENOSPC'
            ? 'is on a full disk'
            : code === 'ENOTDIR' || code === 'EEXIST'
              ? 'is not a directory'
              : `cannot be created (${code})`
    throw new IrError(
      `The case directory ${d} ${why}.`,
      ExitCode.PreconditionFailed,
      [`Point IR_HOME at a writable directory outside the install (now ${home}), then re-run; nothing was changed.`],
      'IR_HOME_UNWRITABLE',
    )
  }
}

/** mkdir -p on a read-only filesystem says ENOENT: ask the nearest existing ancestor for the real cause. */
function causeOf(d: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? String(err)
  if (code !== 'ENOENT') return code
  let dir = path.dirname(d)
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir)
  try {
    accessSync(dir, constants.W_OK)
    return code
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? code
  }
}
