import {readdirSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {TOOL_VERSION} from '../case/journal.js'
import {type JsonObject} from '../openclaw/config.js'
import {installExposure, type ExposureItem} from '../openclaw/exposure.js'
import {probeGateway, type GatewayProbeSeams, type GatewayState} from '../openclaw/gateway.js'
import {runSecurityAudit, type AuditRun} from '../openclaw/security-audit-cli.js'
import {findServiceDefinitions, serviceMatches} from '../openclaw/services.js'
import {locateOpenClawCli} from '../openclaw/openclaw-cli.js'
import {configVersion} from '../openclaw/version.js'
import {socketInodes, tcpSocketsOf} from '../system/proc-net.js'
import type {ProcessRunner} from '../system/process-runner.js'
import {readHead} from '../system/safe-fs.js'

/**
 * Step 2 of collect, before anything is copied (order of volatility): host, user, clock, the
 * gateway process (pid, command line, start time, listening sockets), /healthz and /startupz, the
 * exposure summary, and OpenClaw's own `security audit --deep --json`. Every probe is bounded.
 * `ir respond` takes the same facts (without the audit) before its contain phase stops the gateway,
 * into the case (PRE_STOP_FILE); collect then bundles them byte for byte.
 *
 * The audit is never run on the real state dir: measured with openclaw 2026.9.6, the CLI writes
 * into state/openclaw.sqlite (and a CLI logger start prunes /tmp/openclaw logs older than 24 h).
 * It runs on a scratch mirror — the merged config (logging.file pointed into the scratch) and the
 * state dir's mode — with HOME and TMPDIR in the scratch too.
 */

export interface HostFacts {
  hostname: string
  platform: string
  release: string
  arch: string
  os?: string
  uptimeSeconds: number
  cpus: number
  memoryBytes: number
  user: {name: string; uid: number; gid: number; home: string}
  clock: {
    utc: string
    local: string
    timezone: string
    utcOffsetMinutes: number
    ntpSynchronized?: boolean
    ntpSource: string
  }
  tool: string
  node: string
}

export interface GatewayFacts {
  state: GatewayState['state']
  pid?: number
  port: number
  portSource: GatewayState['portSource']
  healthz: boolean
  startupz?: GatewayState['startupz']
  cmdline?: string
  startedAt?: string
  listening: Array<{pid: number; proto: string; address: string; port: number}>
  /** TCP connections on the gateway's (and its children's) sockets, at most MAX_CONNECTIONS. */
  connections: Connection[]
  /** More sockets than MAX_CONNECTIONS: the rest were not read. */
  connectionsTruncated?: boolean
  locks: string[]
  staleLocks: GatewayState['staleLocks']
  reason?: string
}

export interface Connection {
  pid: number
  proto: string
  state: string
  /** inbound: to a port the gateway listens on; outbound: one it opened (a model provider, a channel…). */
  direction: 'inbound' | 'outbound'
  local: {address: string; port: number}
  remote: {address: string; port: number}
}

/** Bounds the connection list (memory and bundle size) on a gateway under a connection flood. */
export const MAX_CONNECTIONS = 1000

/** Where `ir respond` records the pre-stop facts, relative to the case dir; bundled as PRE_STOP_BUNDLE_PATH. */
export const PRE_STOP_FILE = path.join('evidence', 'volatile-before-containment.json')
export const PRE_STOP_BUNDLE_PATH = 'evidence/volatile/before-containment.json'
const MAX_PRE_STOP = 4 * 1024 * 1024

/** OpenClaw's own audit, run on a scratch mirror (the one runner: openclaw/security-audit-cli.ts). */
export type AuditOutcome = AuditRun

export interface VolatileInput {
  stateDir: string
  configPath: string
  config?: JsonObject
  /** Why the config could not be read: the exposure then says it is unknown instead of showing nothing. */
  configError?: string
  env: NodeJS.ProcessEnv
  home: string
  profile?: string
  runner: ProcessRunner
  /** Scratch dir for the audit mirror (private, removed by the caller). */
  scratch: string
  now: () => Date
  seams?: GatewayProbeSeams
  auditTimeoutMs?: number
  /** Masks secrets in a command line or output before it is stored. */
  redact: (s: string) => string
  /** Called once the gateway is found, before anything of it is recorded (its environment holds secrets). */
  onGateway?: (gw: GatewayState) => void
  /** Run OpenClaw's audit (default true; respond's pre-stop record leaves it to collect). */
  audit?: boolean
}

export interface VolatileFacts {
  host: HostFacts
  gateway: GatewayFacts
  exposure: ExposureItem[]
  versions: {installed?: string; config?: string; running?: string}
  audit: AuditOutcome
}

export async function volatileFacts(input: VolatileInput): Promise<VolatileFacts> {
  const host = await hostFacts(input)
  const gw = await probeGateway(input.stateDir, input.configPath, input.config, input.env, input.profile, {
    fetchTimeoutMs: 1500,
    ...input.seams,
  })
  input.onGateway?.(gw)
  const gateway = gatewayFacts(gw, input.redact, input.seams?.procRoot)
  const services = findServiceDefinitions(input.home, input.stateDir).filter((d) =>
    serviceMatches(d, input.stateDir, input.home, input.profile),
  )
  const exposure = installExposure({
    stateDir: input.stateDir,
    configPath: input.configPath,
    stateDirExists: true,
    config: input.config,
    configError: input.configError,
    services,
  })
  // The target's own CLI, found as contain finds it: the running gateway's, its service's, the npm prefix, PATH.
  const cli = await locateOpenClawCli({
    env: input.env,
    gatewayPid: gw.state === 'up' ? gw.pid : undefined,
    services,
    procRoot: input.seams?.procRoot,
  })
  const audit =
    input.audit === false
      ? {ran: false, reason: 'not run before containment (the collect phase runs it)', findings: []}
      : await runSecurityAudit({...input, cli, deep: true, timeoutMs: input.auditTimeoutMs})
  return {
    host,
    gateway,
    exposure,
    versions: {installed: cli?.version, config: configVersion(input.config), running: gw.startupz?.version},
    audit,
  }
}

async function hostFacts(input: VolatileInput): Promise<HostFacts> {
  const now = input.now()
  const info = safeUserInfo()
  let ntpSynchronized: boolean | undefined
  let ntpSource = 'unavailable'
  const r = await input.runner.run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], {timeoutMs: 3000})
  if (r.exitCode === 0 && /^(yes|no)$/.test(r.stdout.trim())) {
    ntpSynchronized = r.stdout.trim() === 'yes'
    ntpSource = 'timedatectl'
  } else if (r.timedOut) ntpSource = 'timedatectl timed out (3 s)'
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    os: osRelease(),
    uptimeSeconds: Math.round(os.uptime()),
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    user: info,
    clock: {
      utc: now.toISOString(),
      local: localIso(now),
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      utcOffsetMinutes: -now.getTimezoneOffset(),
      ntpSynchronized,
      ntpSource,
    },
    tool: TOOL_VERSION,
    node: process.version,
  }
}

function gatewayFacts(gw: GatewayState, redact: (s: string) => string, procRoot = '/proc'): GatewayFacts {
  const facts: GatewayFacts = {
    state: gw.state,
    pid: gw.pid,
    port: gw.port,
    portSource: gw.portSource,
    healthz: gw.healthz,
    startupz: gw.startupz,
    locks: gw.locks.map((l) => l.path),
    staleLocks: gw.staleLocks,
    listening: [],
    connections: [],
    reason: gw.process?.reason,
  }
  if (gw.process?.cmdline)
    facts.cmdline = redact(gw.process.cmdline.replace(/(--(?:token|password)[= ])\S+/g, '$1«redacted»'))
  if (gw.pid) {
    facts.startedAt = processStart(gw.pid, procRoot)
    Object.assign(facts, gatewaySockets([gw.pid, ...childPids(gw.pid, procRoot)], procRoot))
  }
  return facts
}

/** The pre-stop facts `ir respond` recorded in this case, as written (bounded), for the bundle. */
export function preStopText(caseDir: string): string | undefined {
  const b = readHead(path.join(caseDir, PRE_STOP_FILE), MAX_PRE_STOP)
  return b && b.length < MAX_PRE_STOP ? b.toString('utf8') : undefined
}

function safeUserInfo(): HostFacts['user'] {
  try {
    const u = os.userInfo()
    return {name: u.username, uid: u.uid, gid: u.gid, home: u.homedir}
  } catch {
    return {name: 'unknown', uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, home: os.homedir()}
  }
}

function osRelease(): string | undefined {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
  } catch {
    return undefined
  }
}

function localIso(d: Date): string {
  const off = -d.getTimezoneOffset()
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, -1)
  const sign = off >= 0 ? '+' : '-'
  const abs = Math.abs(off)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** Start time of a pid from /proc/<pid>/stat (clock ticks since boot) and /proc/stat btime. */
function processStart(pid: number, proc: string): string | undefined {
  try {
    const stat = readFileSync(path.join(proc, String(pid), 'stat'), 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync(path.join(proc, 'stat'), 'utf8'))?.[1])
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined
    return new Date((btime + ticks / 100) * 1000).toISOString()
  } catch {
    return undefined
  }
}

function childPids(pid: number, proc: string): number[] {
  const out: number[] = []
  let entries: string[] = []
  try {
    entries = readdirSync(proc)
  } catch {
    return out
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(path.join(proc, e, 'stat'), 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e))
    } catch {
      /* gone */
    }
  }
  return out
}

/** Listening sockets and connections of these pids (one pass over /proc/net/tcp{,6}). */
function gatewaySockets(
  pids: number[],
  proc: string,
): Pick<GatewayFacts, 'listening' | 'connections' | 'connectionsTruncated'> {
  const owner = new Map<string, number>()
  for (const pid of pids) for (const inode of socketInodes(pid, proc)) owner.set(inode, pid)
  const {sockets, truncated} = tcpSocketsOf(new Set(owner.keys()), MAX_CONNECTIONS, proc)
  const listening = sockets
    .filter((s) => s.state === 'LISTEN')
    .map((s) => ({pid: owner.get(s.inode)!, proto: s.proto, address: s.address, port: s.port}))
  const ports = new Set(listening.map((l) => l.port))
  const connections: Connection[] = sockets
    .filter((s) => s.state !== 'LISTEN')
    .map((s) => ({
      pid: owner.get(s.inode)!,
      proto: s.proto,
      state: s.state,
      direction: ports.has(s.port) ? 'inbound' : 'outbound',
      local: {address: s.address, port: s.port},
      remote: s.remote,
    }))
  return {listening, connections, ...(truncated ? {connectionsTruncated: true} : {})}
}
