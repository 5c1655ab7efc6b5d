import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {allPids, socketInodes, tcpListeners} from '../system/proc-net.js'
import {safeReaddir} from '../system/safe-fs.js'
import {getPath, isObject, type JsonObject} from './config.js'

/**
 * Finding the gateway of one state dir: lock files (new <state>/tmp/openclaw-<uid>/, old
 * /tmp/openclaw-<uid>/gateway.<sha256(config)[0:8]>.lock), whether the pid is alive and really
 * an OpenClaw gateway of this state dir (never a reused pid), its port, and /healthz.
 */

export interface LockFile {
  path: string
  pid?: number
  port?: number
  configPath?: string
  stateDir?: string
  startTime?: number
  createdAt?: string
}

export interface GatewayProcess {
  pid: number
  alive: boolean
  /** The process is an OpenClaw gateway (title/cmdline) started when the lock says. */
  isGateway: boolean
  belongsToStateDir: boolean
  reason: string
  cmdline?: string
  startTime?: number
}

export interface GatewayState {
  state: 'up' | 'down'
  pid?: number
  port: number
  portSource: 'lock' | 'env' | 'config' | 'profile' | 'default'
  healthz: boolean
  startupz?: {status?: string; version?: string}
  locks: LockFile[]
  process?: GatewayProcess
  /** Locks whose pid is dead or now another program: stale, never the gateway. */
  staleLocks: Array<{path: string; pid?: number; reason: string}>
  /** Listener on the port found through /proc when no lock names the gateway. */
  listenerPids: number[]
}

export interface GatewayProbeSeams {
  uid?: number
  tmpDir?: string
  fetchTimeoutMs?: number
  procRoot?: string
}

const DEFAULT_PORT = 18789

export function readLocks(stateDir: string, configPath: string, seams: GatewayProbeSeams = {}): LockFile[] {
  const uid = seams.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0)
  const newDir = path.join(stateDir, 'tmp', `openclaw-${uid}`)
  const oldDir = path.join(seams.tmpDir ?? os.tmpdir(), `openclaw-${uid}`)
  const oldName = `gateway.${createHash('sha256').update(configPath).digest('hex').slice(0, 8)}.lock`
  const files: string[] = []
  for (const name of safeReaddir(newDir)) if (/^gateway\..+\.lock$/.test(name)) files.push(path.join(newDir, name))
  if (safeReaddir(oldDir).includes(oldName)) files.push(path.join(oldDir, oldName))
  const locks: LockFile[] = []
  for (const file of files) {
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8').trim()) as JsonObject
      locks.push({
        path: file,
        pid: num(raw.pid),
        port: num(raw.port),
        startTime: num(raw.startTime),
        configPath: typeof raw.configPath === 'string' ? raw.configPath : undefined,
        stateDir: typeof raw.stateDir === 'string' ? raw.stateDir : undefined,
        createdAt: typeof raw.createdAt === 'string' ? raw.createdAt : undefined,
      })
    } catch {
      locks.push({path: file})
    }
  }
  return locks
}

/** Linux /proc facts of a pid; undefined fields where /proc is not readable. */
export function inspectProcess(
  pid: number,
  seams: GatewayProbeSeams = {},
): {alive: boolean; cmdline?: string; argv?: string[]; comm?: string; startTime?: number; permissionDenied?: boolean} {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return {alive: false}
    return {alive: true, permissionDenied: true, ...procFacts(pid, seams)}
  }
  return {alive: true, ...procFacts(pid, seams)}
}

function procFacts(
  pid: number,
  seams: GatewayProbeSeams,
): {cmdline?: string; argv?: string[]; comm?: string; startTime?: number} {
  const proc = seams.procRoot ?? '/proc'
  const out: {cmdline?: string; argv?: string[]; comm?: string; startTime?: number} = {}
  try {
    out.argv = readFileSync(path.join(proc, String(pid), 'cmdline'), 'utf8')
      .split('\0')
      .filter(Boolean)
    out.cmdline = out.argv.join(' ')
  } catch {
    /* not Linux or gone */
  }
  try {
    out.comm = readFileSync(path.join(proc, String(pid), 'comm'), 'utf8').trim()
  } catch {
    /* idem */
  }
  try {
    // Field 22 (starttime) follows the parenthesised comm, which may itself contain spaces.
    const stat = readFileSync(path.join(proc, String(pid), 'stat'), 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    out.startTime = Number(fields[19])
  } catch {
    /* idem */
  }
  return out
}

// /proc/<pid>/comm is cut at 15 chars: "openclaw-gateway" reads "openclaw-gatewa".
const GATEWAY_TITLE = /(^|\/)(openclaw|clawdbot|moltbot)-gatewa(y)?$/
const ENTRY =
  /(^|\/)(openclaw|clawdbot|moltbot)(\.mjs)?$|(^|\/)(openclaw|clawdbot|moltbot)\/(dist\/(index|entry)\.js|openclaw\.mjs)$/
const VALUE_FLAGS = new Set(['--profile', '--log-level', '--config', '--state-dir'])
const RUNTIME = /(^|\/)(node|nodejs|node\d+|bun)$/

/**
 * An OpenClaw gateway by its argv, structurally: the process title (`openclaw-gateway`), or
 * `[node] <openclaw entry> [flags] gateway …`. A `tail -f …/gateway.log` or an ssh tunnel whose
 * arguments merely mention both words is not one.
 */
export function isGatewayArgv(argv: string[], comm?: string): boolean {
  if (GATEWAY_TITLE.test(comm ?? '') || GATEWAY_TITLE.test(argv[0] ?? '')) return true
  let i = 0
  if (RUNTIME.test(argv[0] ?? '')) {
    i = 1
    while (argv[i]?.startsWith('-')) i++ // node flags (--max-old-space-size=…)
  }
  if (!ENTRY.test(argv[i] ?? '')) return false
  const rest = argv.slice(i + 1)
  for (let j = 0; j < rest.length; j++) {
    const a = rest[j]!
    if (VALUE_FLAGS.has(a))
      j++ // --profile work gateway
    else if (!a.startsWith('-')) return a === 'gateway'
  }
  return false
}

/** Is this pid the gateway the lock describes? Reused pids fail on title or start time. */
export function identifyGateway(
  lock: LockFile,
  stateDir: string,
  configPath: string,
  seams: GatewayProbeSeams = {},
): GatewayProcess | undefined {
  if (!lock.pid) return undefined
  const facts = inspectProcess(lock.pid, seams)
  const base = {pid: lock.pid, alive: facts.alive, cmdline: facts.cmdline, startTime: facts.startTime}
  if (!facts.alive)
    return {...base, isGateway: false, belongsToStateDir: false, reason: 'pid is not running (stale lock)'}
  const looksLikeGateway = isGatewayArgv(facts.argv ?? [], facts.comm)
  if (facts.comm === undefined && facts.cmdline === undefined) {
    return {...base, isGateway: false, belongsToStateDir: false, reason: 'cannot read the process identity (/proc)'}
  }
  if (!looksLikeGateway)
    return {
      ...base,
      isGateway: false,
      belongsToStateDir: false,
      reason: `pid now belongs to another program (${facts.comm ?? 'unknown'})`,
    }
  if (lock.startTime !== undefined && facts.startTime !== undefined && lock.startTime !== facts.startTime) {
    return {
      ...base,
      isGateway: false,
      belongsToStateDir: false,
      reason: 'pid was reused: start time differs from the lock',
    }
  }
  // The lock's own record decides; a lock that records neither is checked against the process environment.
  let belongs: boolean
  if (lock.stateDir !== undefined) belongs = path.resolve(lock.stateDir) === path.resolve(stateDir)
  else if (lock.configPath !== undefined) belongs = path.resolve(lock.configPath) === path.resolve(configPath)
  else belongs = processStateDir(lock.pid, seams) === path.resolve(stateDir)
  return {
    ...base,
    isGateway: true,
    belongsToStateDir: belongs,
    reason: belongs ? 'gateway of this state dir' : 'gateway of another state dir',
  }
}

/** Port precedence: lock > OPENCLAW_GATEWAY_PORT > gateway.port > named-profile hash port > 18789. */
export function resolvePort(
  config: JsonObject | undefined,
  env: NodeJS.ProcessEnv,
  profile?: string,
  lockPort?: number,
): {port: number; source: GatewayState['portSource']} {
  if (lockPort) return {port: lockPort, source: 'lock'}
  const envPort = Number(env.OPENCLAW_GATEWAY_PORT)
  if (Number.isInteger(envPort) && envPort > 0) return {port: envPort, source: 'env'}
  const cfgPort = config ? Number(getPath(config, ['gateway', 'port'])) : Number.NaN
  if (Number.isInteger(cfgPort) && cfgPort > 0) return {port: cfgPort, source: 'config'}
  if (profile) return {port: profile === 'dev' ? 19001 : 20000 + (fnv1a(profile) % 40000), source: 'profile'}
  return {port: DEFAULT_PORT, source: 'default'}
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (const byte of Buffer.from(s, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0
  return h >>> 0
}

/** Pids listening on a TCP port (socket inode → /proc/<pid>/fd). */
export function listenerPids(port: number, seams: GatewayProbeSeams = {}): number[] {
  const proc = seams.procRoot ?? '/proc'
  const inodes = new Set([...tcpListeners(proc)].filter(([, l]) => l.port === port).map(([inode]) => inode))
  if (inodes.size === 0) return []
  return allPids(proc).filter((pid) => socketInodes(pid, proc).some((i) => inodes.has(i)))
}

export async function httpProbe(
  port: number,
  pathname: string,
  timeoutMs = 1500,
): Promise<{status: number; body: unknown} | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${pathname}`, {signal: AbortSignal.timeout(timeoutMs)})
    const text = await res.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      /* not JSON */
    }
    return {status: res.status, body}
  } catch {
    return undefined
  }
}

/** The whole picture for one install. Never signals, never starts anything. */
export async function probeGateway(
  stateDir: string,
  configPath: string,
  config: JsonObject | undefined,
  env: NodeJS.ProcessEnv,
  profile?: string,
  seams: GatewayProbeSeams = {},
): Promise<GatewayState> {
  const locks = readLocks(stateDir, configPath, seams)
  const staleLocks: GatewayState['staleLocks'] = []
  let gateway: GatewayProcess | undefined
  for (const lock of locks) {
    const p = identifyGateway(lock, stateDir, configPath, seams)
    if (p?.isGateway && p.belongsToStateDir) gateway ??= p
    else staleLocks.push({path: lock.path, pid: lock.pid, reason: p?.reason ?? 'lock file is not readable JSON'})
  }
  const lockPort = locks.find((l) => l.pid === gateway?.pid && l.port)?.port
  const {port, source} = resolvePort(config, env, profile, lockPort)
  const health = await httpProbe(port, '/healthz', seams.fetchTimeoutMs)
  const healthz = health?.status === 200
  let startupz: GatewayState['startupz']
  if (healthz) {
    const s = await httpProbe(port, '/startupz', seams.fetchTimeoutMs)
    if (s && isObject(s.body)) startupz = {status: strOf(s.body.status), version: strOf(s.body.version)}
  }
  const listeners = gateway ? [] : listenerPids(port, seams)
  if (!gateway) {
    // No lock names it: a listener on the port that is an OpenClaw gateway of this config still counts.
    for (const pid of listeners) {
      const p = identifyGateway({path: '(port listener)', pid}, stateDir, configPath, seams)
      if (p?.isGateway) {
        const belongs = processStateDir(pid, seams) === path.resolve(stateDir)
        gateway = {
          ...p,
          belongsToStateDir: belongs,
          reason: belongs ? 'listener on the gateway port' : 'gateway listener of another (or unknown) state dir',
        }
        break
      }
    }
  }
  // A healthy port held by another state dir's gateway does not make this one up.
  const foreign = gateway !== undefined && !gateway.belongsToStateDir
  return {
    state: (gateway?.alive && !foreign) || (healthz && !foreign) ? 'up' : 'down',
    pid: gateway?.pid,
    port,
    portSource: source,
    healthz,
    startupz,
    locks,
    process: gateway,
    staleLocks,
    listenerPids: listeners,
  }
}

/** The state dir a process runs on, from its environment (same user only). */
export function processStateDir(pid: number, seams: GatewayProbeSeams = {}): string | undefined {
  try {
    const env = readFileSync(path.join(seams.procRoot ?? '/proc', String(pid), 'environ'), 'utf8').split('\0')
    const get = (k: string) => env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1)
    const dir = get('OPENCLAW_STATE_DIR')
    if (dir) return path.resolve(dir)
    const home = get('OPENCLAW_HOME') ?? get('HOME')
    return home ? path.join(home, '.openclaw') : undefined
  } catch {
    return undefined
  }
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

function strOf(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}
