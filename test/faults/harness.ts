import {createHash} from 'node:crypto'
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {verifyChain, type JournalEntry} from '../../src/case/journal.js'
import {fileEraStateDir} from '../fixtures/state-dirs.js'

/**
 * The faults suite runs the real, built CLI (bin/run.js: a tenth of bin/dev.js's start-up) as a
 * subprocess, so a kill -9 is a real one. `npm run test:faults` builds first; a stale build stops here.
 */
export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = path.join(repo, 'bin', 'run.js')

function assertFreshBuild(): void {
  const built = statSync(path.join(repo, 'dist', 'oclif.manifest.json'), {throwIfNoEntry: false})?.mtimeMs ?? 0
  const newest = Math.max(
    ...['src', 'commands', 'playbooks'].flatMap((d) => walk(path.join(repo, d))).map((p) => statSync(p).mtimeMs),
  )
  if (built < newest) throw new Error('dist/ is older than the sources: run `npm run build` (npm run test:faults does)')
}

export const GATEWAY_TOKEN = 'gw-token-4f1c9a7be2d34c0a9e5b71d2'
export const HOOKS_TOKEN = 'hooks-token-8d2e6b1f0a9c4e37b5d1'
export const SECRETS = [GATEWAY_TOKEN, HOOKS_TOKEN]

/** Open on purpose: contain has a config edit and several chmods to make. */
export const OPEN_CONFIG = `{
  // deliberately open
  "gateway": {"mode": "local", "port": 9, "bind": "lan", "auth": {"mode": "token", "token": "${GATEWAY_TOKEN}"}},
  "channels": {"telegram": {"dmPolicy": "open", "allowFrom": ["*"]}},
  "hooks": {"enabled": true, "token": "${HOOKS_TOKEN}", "path": "/hooks"},
}
`

export interface Install {
  root: string
  home: string
  state: string
  config: string
  irHome: string
}

/**
 * A file-era install with group/world modes, in its own temp root (0755 so other users can enter).
 * Under the test file's TMPDIR (test/setup.ts removes it after the file): tests here run concurrently.
 */
export function makeInstall(
  owner?: {uid: number; gid: number},
  root = mkdtempSync(path.join(os.tmpdir(), 'ir-fault-')),
): Install {
  chmodSync(root, 0o755)
  const state = path.join(root, 'state')
  fileEraStateDir(state, OPEN_CONFIG)
  const config = path.join(state, 'openclaw.json')
  for (const d of [state, path.join(state, 'credentials'), path.join(state, 'agents')]) chmodSync(d, 0o755)
  chmodSync(config, 0o644)
  const home = path.join(root, 'home')
  mkdirSync(home, {mode: 0o755})
  const inst = {root, home, state, config, irHome: path.join(root, 'irhome')}
  if (owner) for (const p of walk(state)) chownSync(p, owner.uid, owner.gid)
  if (owner) chownSync(home, owner.uid, owner.gid)
  return inst
}

let fresh: boolean | undefined

export interface Run {
  code: number | undefined
  signal: string | undefined
  stdout: string
  stderr: string
}

/** `ir …` for real, with a clean environment (no OpenClaw CLI on PATH, the install's home). */
export async function ir(inst: Install, args: string[], env: Record<string, string> = {}): Promise<Run> {
  fresh ??= (assertFreshBuild(), true)
  const r = await execa(process.execPath, [bin, ...args], {
    reject: false,
    extendEnv: false,
    env: {PATH: '/usr/local/bin:/usr/bin:/bin', HOME: inst.home, IR_HOME: inst.irHome, TMPDIR: inst.home, ...env},
    cwd: inst.home,
    timeout: 120_000,
  })
  return {code: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr)}
}

/** Type, mode, owner and bytes (or link target) of every path under dir. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of walk(dir)) {
    const st = lstatSync(p)
    const what = st.isSymbolicLink()
      ? `link ${readlinkSync(p)}`
      : st.isFile()
        ? `file ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`
        : 'dir'
    out[path.relative(dir, p) || '.'] = `${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
  }
  return out
}

export function walk(dir: string): string[] {
  const out = [dir]
  if (!lstatSync(dir).isDirectory()) return out
  for (const n of readdirSync(dir).sort()) {
    const p = path.join(dir, n)
    if (lstatSync(p).isDirectory()) out.push(...walk(p))
    else out.push(p)
  }
  return out
}

export function caseDir(inst: Install, id: string): string {
  return path.join(inst.irHome, 'cases', id)
}

/** The case journal: chain problems and entries. */
export function journal(inst: Install, id: string): {problems: string[]; entries: JournalEntry[]; text: string} {
  const text = readFileSync(path.join(caseDir(inst, id), 'journal.jsonl'), 'utf8')
  const entries = text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as JournalEntry]
      } catch {
        return []
      }
    })
  return {problems: verifyChain(text).map((p) => `line ${p.line}: ${p.problem}`), entries, text}
}

/** Secret values found in the given texts (none expected). */
export function leaked(texts: string[], secrets: string[]): string[] {
  return secrets.filter((s) => texts.some((t) => t.includes(s)))
}

/**
 * Every file of the case as text, for the leak check; backups/ holds exact original bytes for undo
 * (its own check: rotate scrubs what it rotated) unless `withBackups`.
 */
export function caseTexts(inst: Install, id: string, withBackups = false): string[] {
  const backups = path.join(caseDir(inst, id), 'backups')
  return walk(caseDir(inst, id))
    .filter((p) => lstatSync(p).isFile() && (withBackups || !p.startsWith(backups + path.sep)))
    .map((p) => readFileSync(p, 'latin1'))
}

/** Fill a filesystem until it is full (ENOSPC). */
export function fill(dir: string): void {
  const chunk = Buffer.alloc(64 * 1024, 1)
  const file = path.join(dir, 'filler')
  try {
    for (;;) writeFileSync(file, chunk, {flag: 'a'})
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  }
  for (let n = 0; ; n++) {
    try {
      writeFileSync(path.join(dir, `f${n}`), 'x')
    } catch {
      break
    }
  }
}

/** The one-line error of a --json run. */
export function jsonError(r: Run): {code: string; message: string; exitCode: number} | undefined {
  try {
    return (JSON.parse(r.stdout) as {error?: {code: string; message: string; exitCode: number}}).error
  } catch {
    return undefined
  }
}
