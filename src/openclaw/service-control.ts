import type {ProcessRunner, RunResult} from '../system/process-runner.js'
import {serviceRuntime, type ServiceDefinition} from './services.js'

/**
 * Stop *and disable* the supervisor of a gateway (else it respawns the process we stop), and the
 * way back for undo. Every command goes through the process runner (argv only, bounded).
 *   systemd  systemctl [--user] stop|disable|enable|start <unit>       (system scope for /etc/systemd/system)
 *   launchd  launchctl bootout|disable|enable <domain>/<label>, bootstrap <domain> <plist>
 *   schtasks schtasks /End|/Run /TN <task>, /Change /TN <task> /DISABLE|/ENABLE
 */

export interface ServiceCommand {
  file: string
  args: string[]
  /** What it does, for plans and journals. */
  what: 'stop' | 'disable' | 'enable' | 'start'
}

export interface ServiceCommandResult extends ServiceCommand {
  ok: boolean
  /** The service manager is not installed here: nothing could be run. */
  notFound: boolean
  detail: string
}

export interface ServiceControlResult {
  service: string
  kind: ServiceDefinition['kind']
  file: string
  commands: ServiceCommandResult[]
  /** Every command succeeded (or reported "already stopped / not loaded"). */
  ok: boolean
}

const CONTROL_TIMEOUT_MS = 30_000

/** The Windows task name: the definition's, with the profile suffix OpenClaw uses. */
export function taskName(def: ServiceDefinition): string {
  if (def.profile && def.name === 'OpenClaw Gateway') return `OpenClaw Gateway (${def.profile})`
  return def.name
}

function systemdScope(def: ServiceDefinition): string[] {
  return def.file.startsWith('/etc/systemd/system') ? [] : ['--user']
}

function launchdDomain(def: ServiceDefinition, uid: number): string {
  return def.file.startsWith('/Library/LaunchDaemons') ? 'system' : `gui/${uid}`
}

/** The commands that stop the service now and keep it from starting again (login, boot, KeepAlive). */
export function stopCommands(def: ServiceDefinition, uid: number): ServiceCommand[] {
  switch (def.kind) {
    case 'systemd': {
      const scope = systemdScope(def)
      return [
        {file: 'systemctl', args: [...scope, 'stop', def.name], what: 'stop'},
        {file: 'systemctl', args: [...scope, 'disable', def.name], what: 'disable'},
      ]
    }
    case 'launchd': {
      const target = `${launchdDomain(def, uid)}/${def.name}`
      return [
        {file: 'launchctl', args: ['bootout', target], what: 'stop'},
        {file: 'launchctl', args: ['disable', target], what: 'disable'},
      ]
    }
    case 'schtasks':
      return [
        {file: 'schtasks', args: ['/End', '/TN', taskName(def)], what: 'stop'},
        {file: 'schtasks', args: ['/Change', '/TN', taskName(def), '/DISABLE'], what: 'disable'},
      ]
  }
}

/** The way back (undo): enable, and start only when asked to. */
export function restoreCommands(def: ServiceDefinition, uid: number, start: boolean): ServiceCommand[] {
  switch (def.kind) {
    case 'systemd': {
      const scope = systemdScope(def)
      return [
        {file: 'systemctl', args: [...scope, 'enable', def.name], what: 'enable'},
        ...(start ? [{file: 'systemctl', args: [...scope, 'start', def.name], what: 'start' as const}] : []),
      ]
    }
    case 'launchd': {
      const domain = launchdDomain(def, uid)
      return [
        {file: 'launchctl', args: ['enable', `${domain}/${def.name}`], what: 'enable'},
        ...(start ? [{file: 'launchctl', args: ['bootstrap', domain, def.file], what: 'start' as const}] : []),
      ]
    }
    case 'schtasks':
      return [
        {file: 'schtasks', args: ['/Change', '/TN', taskName(def), '/ENABLE'], what: 'enable'},
        ...(start ? [{file: 'schtasks', args: ['/Run', '/TN', taskName(def)], what: 'start' as const}] : []),
      ]
  }
}

export const commandLine = (c: ServiceCommand) =>
  [c.file, ...c.args.map((a) => (/\s/.test(a) ? `"${a}"` : a))].join(' ')

/** Stop, then disable. A stop that finds nothing loaded is fine: the point is "not running, not coming back". */
export async function stopAndDisable(
  def: ServiceDefinition,
  runner: ProcessRunner,
  uid: number,
): Promise<ServiceControlResult> {
  return runAll(def, stopCommands(def, uid), runner)
}

export async function restoreService(
  def: ServiceDefinition,
  runner: ProcessRunner,
  uid: number,
  start: boolean,
): Promise<ServiceControlResult> {
  return runAll(def, restoreCommands(def, uid, start), runner)
}

async function runAll(
  def: ServiceDefinition,
  commands: ServiceCommand[],
  runner: ProcessRunner,
): Promise<ServiceControlResult> {
  const results: ServiceCommandResult[] = []
  for (const c of commands) {
    const r = await runner.run(c.file, c.args, {timeoutMs: CONTROL_TIMEOUT_MS})
    results.push({...c, ...judge(def, c, r)})
  }
  return {service: def.name, kind: def.kind, file: def.file, commands: results, ok: results.every((r) => r.ok)}
}

function judge(
  def: ServiceDefinition,
  c: ServiceCommand,
  r: RunResult,
): {ok: boolean; notFound: boolean; detail: string} {
  if (r.notFound) return {ok: false, notFound: true, detail: `${c.file} is not installed here`}
  if (r.timedOut) return {ok: false, notFound: false, detail: `${commandLine(c)} timed out`}
  if (r.exitCode === 0) return {ok: true, notFound: false, detail: `${commandLine(c)}: ok`}
  const out = `${r.stderr}\n${r.stdout}`
  // Already in the wanted state: launchctl bootout of an unloaded label (3/36/113, "No such process"),
  // schtasks /End of a task that is not running.
  const already =
    (def.kind === 'launchd' &&
      c.what === 'stop' &&
      (/no such process|could not find service|not loaded/i.test(out) || [3, 36, 113].includes(r.exitCode ?? -1))) ||
    (def.kind === 'schtasks' && c.what === 'stop' && /not running/i.test(out))
  if (already) return {ok: true, notFound: false, detail: `${commandLine(c)}: was not running`}
  const why =
    out
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? `exit ${r.exitCode}`
  return {ok: false, notFound: false, detail: `${commandLine(c)} failed: ${why}`}
}

/** Is the service down and disabled now? (systemd, launchd; schtasks: unknown.) */
export async function serviceStoppedAndDisabled(
  def: ServiceDefinition,
  runner: ProcessRunner,
  uid: number,
): Promise<{ok: boolean; detail: string}> {
  if (def.kind === 'launchd') {
    const printed = await runner.run('launchctl', ['print', `${launchdDomain(def, uid)}/${def.name}`], {
      timeoutMs: 5000,
    })
    const disabled = await runner.run('launchctl', ['print-disabled', launchdDomain(def, uid)], {timeoutMs: 5000})
    if (printed.notFound) return {ok: false, detail: 'launchctl is not available to check'}
    const loaded = printed.exitCode === 0
    const isDisabled = new RegExp(`"${def.name.replace(/\./g, '\\.')}"\\s*=>\\s*(true|disabled)`).test(disabled.stdout)
    return {
      ok: !loaded && isDisabled,
      detail: `${def.name}: ${loaded ? 'still loaded' : 'not loaded'}, ${isDisabled ? 'disabled' : 'not disabled'}`,
    }
  }
  if (def.kind === 'schtasks') {
    const q = await runner.run('schtasks', ['/Query', '/TN', taskName(def), '/FO', 'LIST'], {timeoutMs: 5000})
    if (q.notFound) return {ok: false, detail: 'schtasks is not available to check'}
    const disabled = /Status:\s*Disabled/i.test(q.stdout)
    return {ok: disabled, detail: `${taskName(def)}: ${disabled ? 'disabled' : 'not disabled'}`}
  }
  const rt = await serviceRuntime(def, runner, uid)
  return {
    ok: rt.active === false && rt.enabled === false,
    detail: `${def.name}: ${rt.active === undefined ? 'state unknown' : rt.active ? 'still active' : 'inactive'}, ${rt.enabled === undefined ? 'enablement unknown' : rt.enabled ? 'still enabled' : 'disabled'}`,
  }
}
