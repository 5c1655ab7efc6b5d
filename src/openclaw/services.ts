import path from 'node:path'

import type {ProcessRunner} from '../system/process-runner.js'
import {safeRead, safeReaddir} from '../system/safe-fs.js'

/**
 * Service definitions that (re)start a gateway: systemd user units, launchd plists, the Windows
 * task launcher. A supervisor respawns a killed gateway, so contain must stop *and* disable it.
 */

export type ServiceKind = 'systemd' | 'launchd' | 'schtasks'

export interface ServiceDefinition {
  kind: ServiceKind
  /** Unit name, launchd label or task name. */
  name: string
  file: string
  /** OPENCLAW_* environment the definition sets (values of secrets omitted). */
  stateDir?: string
  configPath?: string
  profile?: string
  /** Old installs (≤ 2026.3.2) wrote OPENCLAW_GATEWAY_TOKEN/PASSWORD in clear into the unit. */
  embedsToken: boolean
  legacy: boolean
  nodeHost: boolean
  /** The command the supervisor starts (systemd ExecStart, launchd ProgramArguments), as argv. */
  execStart?: string[]
  active?: boolean
  enabled?: boolean
}

const SYSTEMD_RE = /^(openclaw-gateway(-[a-z0-9_-]+)?|openclaw-node|clawdbot-gateway|moltbot-gateway)\.service$/i
const LAUNCHD_RE = /^(ai\.openclaw\.[a-z0-9_.-]+|bot\.molt\.[a-z0-9_.-]+|com\.clawdbot\.(gateway|node))\.plist$/i
const SECRET_ENV = /^(OPENCLAW|CLAWDBOT)_GATEWAY_(TOKEN|PASSWORD)$/

export function findServiceDefinitions(home: string, stateDir?: string): ServiceDefinition[] {
  const found: ServiceDefinition[] = []
  for (const dir of [path.join(home, '.config', 'systemd', 'user'), '/etc/systemd/system', '/etc/systemd/user']) {
    for (const name of safeReaddir(dir)) if (SYSTEMD_RE.test(name)) found.push(parseSystemd(path.join(dir, name), name))
  }
  for (const dir of [path.join(home, 'Library', 'LaunchAgents'), '/Library/LaunchDaemons']) {
    for (const name of safeReaddir(dir))
      if (LAUNCHD_RE.test(name)) found.push(parsePlist(path.join(dir, name), name.replace(/\.plist$/, '')))
  }
  if (stateDir) {
    for (const name of ['gateway.cmd']) {
      const file = path.join(stateDir, name)
      const text = safeRead(file)
      if (text !== undefined)
        found.push({
          ...envFacts(parseCmdEnv(text)),
          kind: 'schtasks',
          name: 'OpenClaw Gateway',
          file,
          legacy: false,
          nodeHost: false,
        })
    }
  }
  return found
}

export function parseSystemd(file: string, unit: string): ServiceDefinition {
  const text = safeRead(file) ?? ''
  const env: Record<string, string> = {}
  let execStart: string[] | undefined
  for (const line of text.split('\n')) {
    const start = /^\s*ExecStart\s*=\s*[-@:+!]*(.*)$/.exec(line)?.[1]
    if (start) execStart = (start.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"|"$/g, ''))
    const m = /^\s*Environment\s*=\s*(.*)$/.exec(line)
    if (!m?.[1]) continue
    // Environment="A=1" "B=2" or Environment=A=1 B=2
    for (const part of m[1].match(/"[^"]*"|\S+/g) ?? []) {
      const kv = part.replace(/^"|"$/g, '')
      const eq = kv.indexOf('=')
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1)
    }
  }
  return {
    ...envFacts(env),
    kind: 'systemd',
    name: unit,
    file,
    ...(execStart?.length ? {execStart} : {}),
    legacy: /^(clawdbot|moltbot)-/.test(unit),
    nodeHost: unit.startsWith('openclaw-node'),
  }
}

export function parsePlist(file: string, label: string): ServiceDefinition {
  const text = safeRead(file) ?? ''
  const env: Record<string, string> = {}
  const block = /<key>EnvironmentVariables<\/key>\s*<dict>([\s\S]*?)<\/dict>/.exec(text)?.[1] ?? ''
  for (const m of block.matchAll(/<key>([^<]+)<\/key>\s*<string>([^<]*)<\/string>/g))
    env[m[1] as string] = m[2] as string
  const program = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(text)?.[1] ?? ''
  const execStart = [...program.matchAll(/<string>([^<]*)<\/string>/g)].map((m) => m[1] as string)
  return {
    ...envFacts(env),
    ...(execStart.length ? {execStart} : {}),
    kind: 'launchd',
    name: label,
    file,
    legacy: /^(bot\.molt|com\.clawdbot)\./.test(label),
    nodeHost: /\.node$/.test(label),
  }
}

function parseCmdEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const m of text.matchAll(/^\s*set\s+"?([A-Z_]+)=([^"\r\n]*)"?/gim)) env[m[1] as string] = m[2] as string
  return env
}

function envFacts(
  env: Record<string, string>,
): Pick<ServiceDefinition, 'stateDir' | 'configPath' | 'profile' | 'embedsToken'> {
  return {
    stateDir: env.OPENCLAW_STATE_DIR,
    configPath: env.OPENCLAW_CONFIG_PATH,
    profile: env.OPENCLAW_PROFILE,
    embedsToken: Object.keys(env).some((k) => SECRET_ENV.test(k) && env[k] !== ''),
  }
}

/** Does this definition run the gateway of this state dir? */
export function serviceMatches(def: ServiceDefinition, stateDir: string, home: string, profile?: string): boolean {
  if (def.nodeHost) return false
  if (def.stateDir) return path.resolve(def.stateDir) === path.resolve(stateDir)
  const defaultDir = path.join(home, def.profile ? `.openclaw-${def.profile}` : '.openclaw')
  if (path.resolve(defaultDir) === path.resolve(stateDir)) return true
  // Legacy units ran on the legacy dirs.
  return (
    def.legacy &&
    ['.clawdbot', '.moltbot', '.moldbot'].some((d) => path.join(home, d) === path.resolve(stateDir)) &&
    !profile
  )
}

/** systemctl/launchctl state through the runner (bounded; unknown when the manager is absent). */
export async function serviceRuntime(
  def: ServiceDefinition,
  runner: ProcessRunner,
  uid: number,
): Promise<{active?: boolean; enabled?: boolean}> {
  if (def.kind === 'systemd') {
    const scope = def.file.startsWith('/etc/systemd/system') ? [] : ['--user']
    const active = await runner.run('systemctl', [...scope, 'is-active', def.name], {timeoutMs: 5000})
    const enabled = await runner.run('systemctl', [...scope, 'is-enabled', def.name], {timeoutMs: 5000})
    if (active.notFound) return {}
    const a = active.stdout.trim()
    const e = enabled.stdout.trim()
    return {
      active: a === 'active' || a === 'activating' ? true : a === 'inactive' || a === 'failed' ? false : undefined,
      enabled: e === 'enabled' ? true : e === 'disabled' || e === 'masked' ? false : undefined,
    }
  }
  if (def.kind === 'launchd') {
    const r = await runner.run('launchctl', ['print', `gui/${uid}/${def.name}`], {timeoutMs: 5000})
    if (r.notFound) return {}
    return {active: r.exitCode === 0 ? /state = running/.test(r.stdout) : false}
  }
  return {}
}
