import {createHash} from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import os from 'node:os'

import {ExitCode, IrError} from '../errors.js'
import {faultPoint} from '../system/fault-point.js'
import {sha256} from '../system/hash.js'

/**
 * The case journal: JSONL, one entry per step, hash-chained (`prev` = SHA-256 of the previous
 * line). Appends hold a lock file so concurrent runs never interleave; a torn last line (crash
 * mid-write) is moved aside before the next append so the chain stays verifiable.
 */

export interface JournalEntry {
  ts: string
  tool: string
  host: string
  user: string
  case: string
  playbook?: string
  step?: string
  action?: string
  status: string
  detail?: string
  /** Files read/written/backed up by this step, with their hashes (never contents). */
  files?: Array<{path: string; sha256?: string; role: 'read' | 'wrote' | 'backup' | 'restored' | 'collected'}>
  /** Fingerprints (short SHA-256 prefixes) of secrets, never values. */
  fingerprints?: Record<string, string>
  data?: Record<string, unknown>
  prev: string
}

export const GENESIS = '0'.repeat(64)
export const TOOL_VERSION = 'ir/0.1.0'

export {sha256}

export class Journal {
  constructor(
    readonly file: string,
    readonly caseId: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  append(entry: Omit<JournalEntry, 'ts' | 'tool' | 'host' | 'user' | 'case' | 'prev'>): JournalEntry {
    return withLock(`${this.file}.lock`, () => {
      const prev = this.repairAndTail()
      const full: JournalEntry = {
        ts: this.now().toISOString(),
        tool: TOOL_VERSION,
        host: os.hostname(),
        user: userName(),
        case: this.caseId,
        ...entry,
        prev,
      }
      const line = JSON.stringify(full)
      try {
        const fd = openSync(this.file, 'a', 0o600)
        try {
          writeSync(fd, line + '\n')
          fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
      } catch (err) {
        throw journalError(this.file, err)
      }
      faultPoint('journal:appended')
      return full
    })
  }

  entries(): JournalEntry[] {
    return readLines(this.file)
      .filter((l) => l.complete)
      .map((l) => JSON.parse(l.text) as JournalEntry)
  }

  /** Hash of the last complete line; a torn tail is moved to <journal>.torn-<ms> first. */
  private repairAndTail(): string {
    const lines = readLines(this.file)
    const last = lines.at(-1)
    if (last && !last.complete) {
      const good = lines
        .filter((l) => l.complete)
        .map((l) => l.text + '\n')
        .join('')
      writeFileSync(`${this.file}.torn-${Date.now()}`, last.text, {mode: 0o600})
      const tmp = `${this.file}.repair`
      writeFileSync(tmp, good, {mode: 0o600})
      renameSync(tmp, this.file)
    }
    const complete = lines.filter((l) => l.complete)
    return complete.length ? sha256(complete.at(-1)!.text) : GENESIS
  }
}

/** A journal that cannot be written stops the run: one line, and where the truth about changes is. */
function journalError(file: string, err: unknown): IrError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error'
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full'
      : code === 'EROFS'
        ? 'its filesystem is read-only'
        : `${code}`
  return new IrError(
    `The case journal ${file} cannot be written (${why}); ir stopped.`,
    ExitCode.Failure,
    [
      'Free space there (or fix the mount), then re-run with the same --case; ' +
        'changes.jsonl in the case lists every change ir made, and `ir contain --undo --case ID` reverts them.',
    ],
    code === 'ENOSPC' ? 'JOURNAL_NO_SPACE' : 'JOURNAL_UNWRITABLE',
  )
}

interface Line {
  text: string
  complete: boolean
}

function readLines(file: string): Line[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const parts = text.split('\n')
  const tail = parts.pop() ?? ''
  const lines: Line[] = parts.filter((p) => p !== '').map((p) => ({text: p, complete: isJson(p)}))
  if (tail !== '') lines.push({text: tail, complete: false})
  return lines
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}

export interface ChainProblem {
  line: number
  problem: string
}

/** Check a journal's hash chain; [] when intact. */
export function verifyChain(text: string): ChainProblem[] {
  const check = new ChainCheck(Infinity)
  check.push(Buffer.from(text, 'utf8'))
  return check.end()
}

/** The same check on bytes as they arrive (a bundled journal of any size): memory bounded by maxLine. */
export class ChainCheck {
  readonly problems: ChainProblem[] = []
  private prev = GENESIS
  private line = 0
  private parts: Buffer[] = []
  private len = 0
  private hash = createHash('sha256')

  constructor(private readonly maxLine = 4 << 20) {}

  push(chunk: Buffer): void {
    let s = 0
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, s)) {
      this.add(chunk.subarray(s, nl))
      this.endLine()
      s = nl + 1
    }
    if (s < chunk.length) this.add(chunk.subarray(s))
  }

  end(): ChainProblem[] {
    if (this.len > 0) this.endLine()
    return this.problems
  }

  private add(b: Buffer): void {
    this.hash.update(b)
    this.len += b.length
    if (this.len <= this.maxLine) this.parts.push(Buffer.from(b))
    else this.parts = []
  }

  private endLine(): void {
    this.line++
    const digest = this.hash.digest('hex')
    if (this.len > this.maxLine) {
      this.problems.push({line: this.line, problem: `longer than ${this.maxLine} bytes: not read (no ir entry is)`})
    } else {
      let entry: {prev?: unknown} | undefined
      try {
        entry = JSON.parse(Buffer.concat(this.parts).toString('utf8')) as {prev?: unknown}
      } catch {
        this.problems.push({line: this.line, problem: 'not valid JSON (torn or edited line)'})
      }
      if (entry && entry.prev !== this.prev)
        this.problems.push({line: this.line, problem: 'hash chain broken: prev does not match the previous line'})
    }
    this.prev = digest
    this.parts = []
    this.len = 0
    this.hash = createHash('sha256')
  }
}

/** Exclusive lock by O_EXCL lock file; a lock whose owner pid is dead is taken over. */
export function withLock<T>(lockFile: string, fn: () => T, timeoutMs = 10_000): T {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (staleLock(lockFile)) {
        rmSync(lockFile, {force: true})
        continue
      }
      if (Date.now() > deadline) {
        throw new IrError(
          `Case journal is locked by another ir run (${lockFile}).`,
          ExitCode.PreconditionFailed,
          ['Wait for the other run to finish, or remove the lock file if no ir is running.'],
          'CASE_LOCKED',
        )
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25)
    }
  }
  try {
    return fn()
  } finally {
    rmSync(lockFile, {force: true})
  }
}

function staleLock(lockFile: string): boolean {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8'))
    if (!pid) return Date.now() - statSync(lockFile).mtimeMs > 5000
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

function userName(): string {
  try {
    return os.userInfo().username
  } catch {
    return String(process.getuid?.() ?? 'unknown')
  }
}
