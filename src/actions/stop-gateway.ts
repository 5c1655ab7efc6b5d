import {readFileSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {z} from 'zod'

import type {Case} from '../case/case-store.js'
import {ExitCode, IrError} from '../errors.js'
import {loadConfig, rawGatewayPort, type JsonObject} from '../openclaw/config.js'
import {
  httpProbe,
  identifyGateway,
  inspectProcess,
  listenerPids,
  probeGateway,
  type GatewayState,
} from '../openclaw/gateway.js'
import {openclawHome} from '../openclaw/locate.js'
import {
  commandLine,
  serviceStoppedAndDisabled,
  stopAndDisable,
  stopCommands,
  type ServiceControlResult,
} from '../openclaw/service-control.js'
import {findServiceDefinitions, serviceMatches, serviceRuntime, type ServiceDefinition} from '../openclaw/services.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {safeRead} from '../system/safe-fs.js'
import {maskArgvSecrets} from '../system/secret-vocabulary.js'

const Params = z
  .object({
    /** Seconds to wait for a clean exit after SIGTERM before SIGKILL is offered. */
    timeoutSeconds: z.number().positive().max(600).default(20),
  })
  .strict()
type Params = z.infer<typeof Params>

/** The process to signal, as identified when planning (pid + start time guard against reuse). */
interface Target {
  pid: number
  startTime?: number
  lockPath: string
  via: string
}

interface StopPlanData {
  port: number
  services: ServiceDefinition[]
  target?: Target
  /** Something answers on the port that is not (provably) this state dir's gateway. */
  foreign?: string
}

interface StopApplied {
  services: ServiceControlResult[]
  signalled?: {pid: number; signals: string[]; exitedAfterMs?: number}
}

/**
 * Stop the gateway and keep it stopped: the supervisor first (stop *and* disable, else it respawns
 * the process), then the process itself — only a pid proven to be an OpenClaw gateway of this
 * state dir. SIGTERM, wait for the exit and the port to close; SIGKILL only after the timeout and
 * only when the operator confirms (--yes confirms).
 */
export const stopGateway: ActionDefinition<Params> = {
  name: 'stop-gateway',
  description:
    'Stop and disable the gateway service, then SIGTERM the verified gateway process (SIGKILL only after a timeout, ' +
    'confirmed).',
  params: Params,
  mutates: true,
  async plan(ctx, params) {
    const uid = hostUid()
    const gw = await probeGateway(
      ctx.install.stateDir,
      ctx.install.configPath,
      readConfigQuietly(ctx),
      ctx.env,
      ctx.install.profile,
    )
    const services = await activeServices(ctx, uid)
    const lines: string[] = []
    for (const s of services) {
      if (s.manager === 'absent')
        lines.push(`service ${s.def.name} (${s.def.file}): its manager is not available here; nothing to run`)
      else for (const c of stopCommands(s.def, uid)) lines.push(`run: ${commandLine(c)}`)
    }
    const data: StopPlanData = {
      port: gw.port,
      services: services.filter((s) => s.manager !== 'absent').map((s) => s.def),
    }
    const p = gw.process
    if (p?.alive && p.isGateway && p.belongsToStateDir) {
      data.target = {
        pid: p.pid,
        startTime: p.startTime,
        lockPath: gw.locks.find((l) => l.pid === p.pid)?.path ?? '(port listener)',
        via: p.reason,
      }
      lines.push(
        `signal: SIGTERM pid ${p.pid} (${p.reason}; ${describeCmdline(p.cmdline)}), wait ≤ ${params.timeoutSeconds} s for it to exit and port ${gw.port} to close`,
      )
      lines.push(`signal: SIGKILL pid ${p.pid} only if it is still running then, and only when confirmed`)
    } else if (gw.healthz || gw.listenerPids.length) {
      data.foreign = foreignListener(gw)
      lines.push(`not signalled: ${data.foreign}`)
    }
    for (const s of gw.staleLocks) lines.push(`left alone: ${s.path} (pid ${s.pid ?? '?'}: ${s.reason})`)
    if (data.services.length === 0 && !data.target && !data.foreign) {
      const absent = services.filter((s) => s.manager === 'absent').length
      return {
        noop: true,
        summary: `already stopped: no gateway process, port ${gw.port} closed${absent ? `, ${absent} service definition(s) without a manager here` : ''}`,
        lines,
        data,
      }
    }
    const parts = [
      ...(data.services.length ? [`stop and disable ${data.services.map((d) => d.name).join(', ')}`] : []),
      ...(data.target ? [`SIGTERM gateway pid ${data.target.pid}`] : []),
      ...(data.foreign && !data.target ? ['port answered by an unverified process (not signalled)'] : []),
    ]
    return {
      noop: false,
      summary: parts.join('; '),
      lines,
      data,
      question: `${lines.join('\n')}\nStop the gateway${data.services.length ? ' and disable its service' : ''}?`,
    }
  },

  async apply(ctx, params, plan) {
    const data = plan.data as StopPlanData
    const uid = hostUid()
    const out: StopApplied = {services: []}
    for (const def of data.services) {
      // Write-ahead: a run killed mid-disable still leaves --undo the way back.
      recordServiceChange(ctx.case, {service: def, intent: true, ts: ctx.now().toISOString()})
      const r = await stopAndDisable(def, ctx.runner, uid)
      out.services.push(r)
      recordServiceChange(ctx.case, {
        service: def,
        results: r.commands.map((c) => ({what: c.what, ok: c.ok, detail: c.detail})),
        ts: ctx.now().toISOString(),
      })
    }
    const failedServices = out.services.filter((s) => !s.ok)
    const t = data.target
    if (t) {
      // The service stop may already have ended it; give the supervisor a moment.
      if (data.services.length) await waitFor(() => !sameProcess(t, ctx), 5000)
      if (sameProcess(t, ctx)) out.signalled = await terminate(t, data.port, params, ctx)
      recordServiceChange(ctx.case, {stoppedPid: t.pid, port: data.port, via: t.via, ts: ctx.now().toISOString()})
    }
    const parts: string[] = []
    if (out.services.length)
      parts.push(
        `${out.services.length - failedServices.length}/${out.services.length} service(s) stopped and disabled`,
      )
    if (out.signalled)
      parts.push(
        `pid ${out.signalled.pid}: ${out.signalled.signals.join(' then ')}${out.signalled.exitedAfterMs === undefined ? ', still running' : `, exited after ${(out.signalled.exitedAfterMs / 1000).toFixed(1)} s`}`,
      )
    else if (t) parts.push(`pid ${t.pid} exited with its service`)
    if (data.foreign) parts.push(`not signalled: ${data.foreign}`)
    if (failedServices.length) {
      throw new IrError(
        `Could not stop/disable ${failedServices.map((s) => s.service).join(', ')}: ${failedServices.flatMap((s) => s.commands.filter((c) => !c.ok).map((c) => c.detail)).join('; ')}.`,
        ExitCode.Failure,
        ['Stop and disable the service by hand (as the user that installed it), then re-run with the same --case.'],
        'SERVICE_STOP_FAILED',
      )
    }
    if (out.signalled && out.signalled.exitedAfterMs === undefined) {
      return {
        status: 'manual',
        detail: `${parts.join('; ')}: SIGKILL was declined — the gateway is still running; stop it by hand`,
        data: out,
      }
    }
    if (data.foreign)
      return {status: 'manual', detail: `${parts.join('; ')} — find and stop that process by hand`, data: out}
    return {detail: parts.join('; '), data: out}
  },

  async verify(ctx, _params, plan) {
    const data = plan.data as StopPlanData
    const problems: string[] = []
    if (data.target && sameProcess(data.target, ctx)) problems.push(`pid ${data.target.pid} is still running`)
    if (await portOpen(data.port)) problems.push(`port ${data.port} still accepts connections`)
    const health = await httpProbe(data.port, '/healthz', 1500)
    if (health?.status === 200) problems.push('/healthz still answers')
    for (const def of data.services) {
      const s = await serviceStoppedAndDisabled(def, ctx.runner, hostUid())
      if (!s.ok) problems.push(s.detail)
    }
    return problems.length
      ? {ok: false, detail: problems.join('; ')}
      : {
          ok: true,
          detail: `no gateway process, port ${data.port} closed, /healthz unreachable${data.services.length ? ', service(s) inactive and disabled' : ''}`,
        }
  },
}

async function terminate(
  t: Target,
  port: number,
  params: Params,
  ctx: ActionContext,
): Promise<NonNullable<StopApplied['signalled']>> {
  const started = Date.now()
  const signals: string[] = []
  const gone = async () => !sameProcess(t, ctx) && !(await portOpen(port))
  send(t.pid, 'SIGTERM')
  signals.push('SIGTERM')
  if (await waitForAsync(gone, params.timeoutSeconds * 1000))
    return {pid: t.pid, signals, exitedAfterMs: Date.now() - started}
  if (!sameProcess(t, ctx)) {
    // The process is gone but something still listens: the verify step reports it.
    return {pid: t.pid, signals, exitedAfterMs: Date.now() - started}
  }
  const kill = await ctx.prompter.confirm(
    `Gateway pid ${t.pid} is still running ${params.timeoutSeconds} s after SIGTERM (OpenClaw drains active work for up to 5 min). Send SIGKILL?`,
    true,
  )
  if (!kill) return {pid: t.pid, signals}
  send(t.pid, 'SIGKILL')
  signals.push('SIGKILL')
  if (await waitForAsync(gone, 10_000)) return {pid: t.pid, signals, exitedAfterMs: Date.now() - started}
  return {pid: t.pid, signals, exitedAfterMs: sameProcess(t, ctx) ? undefined : Date.now() - started}
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ESRCH') return // exited in between
    if (code === 'EPERM') {
      throw new IrError(
        `No permission to signal gateway pid ${pid} (it runs as another user).`,
        ExitCode.PreconditionFailed,
        ['Run `ir contain` as the user that runs the gateway (or root), with the same --case.'],
        'SIGNAL_EPERM',
      )
    }
    throw err
  }
}

/** Still the very process we identified: alive, same start time, still an OpenClaw gateway. */
function sameProcess(t: Target, ctx: ActionContext): boolean {
  const facts = inspectProcess(t.pid)
  if (!facts.alive) return false
  const again = identifyGateway(
    {path: t.lockPath, pid: t.pid, startTime: t.startTime},
    ctx.install.stateDir,
    ctx.install.configPath,
  )
  return Boolean(again?.isGateway)
}

/** Service definitions that run this state dir's gateway, with their state; those down and disabled are left out. */
async function activeServices(
  ctx: ActionContext,
  uid: number,
): Promise<Array<{def: ServiceDefinition; manager: 'present' | 'absent'}>> {
  const home = openclawHome({env: ctx.env, homedir: os.homedir(), uid})
  const out: Array<{def: ServiceDefinition; manager: 'present' | 'absent'}> = []
  for (const def of findServiceDefinitions(home, ctx.install.stateDir)) {
    if (!serviceMatches(def, ctx.install.stateDir, home, ctx.install.profile)) continue
    if (def.kind === 'schtasks') {
      const probe = await ctx.runner.run('schtasks', ['/Query', '/TN', def.name], {timeoutMs: 5000})
      out.push({def, manager: probe.notFound ? 'absent' : 'present'})
      continue
    }
    const probe = await ctx.runner.run(def.kind === 'systemd' ? 'systemctl' : 'launchctl', ['--version'], {
      timeoutMs: 5000,
    })
    if (probe.notFound) {
      out.push({def, manager: 'absent'})
      continue
    }
    const rt = await serviceRuntime(def, ctx.runner, uid)
    if (rt.active === false && rt.enabled === false) continue
    out.push({def: {...def, ...rt}, manager: 'present'})
  }
  return out
}

function foreignListener(gw: GatewayState): string {
  const p = gw.process
  if (p && p.alive && p.isGateway && !p.belongsToStateDir) return `port ${gw.port}: pid ${p.pid} is ${p.reason}`
  if (gw.listenerPids.length) {
    return `port ${gw.port} is held by pid ${gw.listenerPids.join(', ')}, which is not an OpenClaw gateway of this state dir`
  }
  return `port ${gw.port} answers /healthz but no process of this user could be identified (another user, a container, a proxy?)`
}

/** The command line for the plan, with any secret passed on it (`--token T`, old builds) masked. */
export function describeCmdline(cmdline: string | undefined): string {
  if (!cmdline) return 'command line unreadable'
  const masked = maskArgvSecrets(cmdline)
  return masked.length > 80 ? `${masked.slice(0, 77)}…` : masked
}

function readConfigQuietly(ctx: ActionContext): JsonObject | undefined {
  try {
    return loadConfig(ctx.install.configPath, {env: ctx.env}).value
  } catch {
    // A broken config must not keep the gateway running: probe the port its text still names.
    const port = rawGatewayPort(safeRead(ctx.install.configPath) ?? '')
    return port ? {gateway: {port}} : undefined
  }
}

/** A TCP connect to the loopback port, or a listener on it (covers non-loopback binds). */
export async function portOpen(port: number): Promise<boolean> {
  if (listenerPids(port).length) return true
  return new Promise((resolve) => {
    const socket = connect({host: '127.0.0.1', port})
    const done = (open: boolean) => {
      socket.destroy()
      resolve(open)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  return waitForAsync(async () => pred(), timeoutMs)
}

async function waitForAsync(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await pred()) return true
    if (Date.now() >= deadline) return false
    await sleep(Math.min(250, Math.max(10, deadline - Date.now())))
  }
}

function hostUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0
}

/** services.jsonl in the case: what contain stopped and disabled, for `--undo` (never restarted without asking). */
export interface ServiceChangeRecord {
  ts: string
  service?: ServiceDefinition
  /** Written before the stop/disable: the run may have disabled it even when no results follow. */
  intent?: boolean
  results?: Array<{what: string; ok: boolean; detail: string}>
  stoppedPid?: number
  port?: number
  via?: string
}

export function recordServiceChange(c: Case, record: ServiceChangeRecord): void {
  writeFileSync(path.join(c.dir, 'services.jsonl'), JSON.stringify(record) + '\n', {flag: 'a', mode: 0o600})
}

export function readServiceChanges(c: Case): ServiceChangeRecord[] {
  try {
    return readFileSync(path.join(c.dir, 'services.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ServiceChangeRecord)
  } catch {
    return []
  }
}
