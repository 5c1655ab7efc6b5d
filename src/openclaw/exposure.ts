import {statSync} from 'node:fs'
import path from 'node:path'

import {envRefName, getPath, isObject, type JsonObject} from './config.js'
import {agentEntries, channelScopes, gatewayAuthMode, str} from './config-shape.js'
import type {ServiceDefinition} from './services.js'

/**
 * The exposure summary: what lets a stranger reach the agent or its tools. Where OpenClaw's own
 * `security audit` has a check for the same thing, `checkId` is that check's id, so the two can be
 * compared item by item.
 */

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info'

export interface ExposureItem {
  checkId: string
  severity: Severity
  title: string
  /** Config path or file the item is about. */
  where: string
}

export interface InstallExposureInput {
  stateDir: string
  configPath: string
  stateDirExists: boolean
  /** The loaded config; absent when it did not load. */
  config?: JsonObject
  /** Why the config did not load (it exists but is unreadable or unparsable): exposure unknown. */
  configError?: string
  /** Service definitions that run this install's gateway. */
  services: ServiceDefinition[]
}

/** The one exposure list of an install (status, collect): config, modes, service definitions. */
export function installExposure(i: InstallExposureInput): ExposureItem[] {
  return [
    ...(i.configError
      ? [
          {
            checkId: 'config.unreadable',
            // Not "none found": what the gateway runs cannot be judged, so assume it is open.
            severity: 'high' as const,
            title: `Exposure unknown: the config cannot be read (${i.configError})`,
            where: i.configPath,
          },
        ]
      : []),
    ...(i.config ? configExposure(i.config) : []),
    ...(i.stateDirExists ? permissionExposure(i.stateDir, i.configPath) : []),
    ...i.services
      .filter((s) => s.embedsToken)
      .map((s) => ({
        checkId: 'service.embedded_token',
        severity: 'high' as const,
        title: `${s.name} embeds the gateway secret in clear (old installer)`,
        where: s.file,
      })),
  ].sort(bySeverity)
}

const LOOPBACK_BINDS = new Set(['loopback', undefined])

export function configExposure(c: JsonObject): ExposureItem[] {
  const items: ExposureItem[] = []
  const add = (checkId: string, severity: Severity, title: string, where: string) =>
    items.push({checkId, severity, title, where})

  const bind = str(getPath(c, ['gateway', 'bind']))
  const auth = gatewayAuthMode(c) ?? 'token'
  const token = getPath(c, ['gateway', 'auth', 'token'])
  const exposed = !LOOPBACK_BINDS.has(bind)
  if (auth === 'none') {
    if (exposed) add('gateway.bind_no_auth', 'critical', `Gateway binds "${bind}" without auth`, 'gateway.bind')
    else add('gateway.loopback_no_auth', 'critical', 'Gateway has no auth (auth.mode "none")', 'gateway.auth.mode')
    add(
      'gateway.http.no_auth',
      'critical',
      'HTTP endpoints (/tools/invoke) accept unauthenticated calls',
      'gateway.auth.mode',
    )
  } else if (exposed) {
    add(
      'gateway.bind_network_accessible',
      'high',
      `Gateway binds "${bind}" (reachable beyond loopback, ${auth} auth)`,
      'gateway.bind',
    )
  } else {
    add('gateway.bind', 'info', `Gateway binds loopback, ${auth} auth`, 'gateway.bind')
  }
  if (auth === 'token' && typeof token === 'string' && !envRefName(token) && token.length < 24) {
    add('gateway.token_too_short', 'high', `Gateway token is short (${token.length} chars)`, 'gateway.auth.token')
  }
  if (getPath(c, ['gateway', 'allowRealIpFallback']) === true) {
    add(
      'gateway.real_ip_fallback_enabled',
      'critical',
      'Real-IP fallback trusts client-supplied headers',
      'gateway.allowRealIpFallback',
    )
  }
  const ts = str(getPath(c, ['gateway', 'tailscale', 'mode']))
  if (ts === 'funnel')
    add(
      'gateway.tailscale_funnel',
      'critical',
      'Tailscale Funnel publishes the gateway to the internet',
      'gateway.tailscale.mode',
    )
  else if (ts === 'serve')
    add(
      'gateway.tailscale_serve',
      'medium',
      'Tailscale Serve exposes the gateway to the tailnet',
      'gateway.tailscale.mode',
    )
  const mdns = str(getPath(c, ['discovery', 'mdns', 'mode']))
  if (mdns === 'full')
    add(
      'discovery.mdns_full_mode',
      exposed ? 'critical' : 'medium',
      'mDNS broadcasts cliPath/sshPort (full mode)',
      'discovery.mdns.mode',
    )
  else if (mdns !== 'off')
    add('discovery.mdns', 'low', `mDNS beacon on (${mdns ?? 'minimal'} mode)`, 'discovery.mdns.mode')
  if (
    getPath(c, ['gateway', 'controlUi', 'enabled']) !== false &&
    exposed &&
    !hasItems(getPath(c, ['gateway', 'controlUi', 'allowedOrigins']))
  ) {
    add(
      'gateway.control_ui.allowed_origins_required',
      'critical',
      'Control UI on a non-loopback bind without allowed origins',
      'gateway.controlUi',
    )
  }

  // Hooks: an authenticated ingress that drives agents.
  const hooks = getPath(c, ['hooks'])
  if (isObject(hooks) && hooks.enabled === true) {
    add('hooks.enabled', 'medium', 'Webhooks enabled', 'hooks.enabled')
    const ht = hooks.token
    if (typeof ht === 'string' && !envRefName(ht) && ht.length < 24)
      add('hooks.token_too_short', 'high', `Hooks token is short (${ht.length} chars)`, 'hooks.token')
    if (typeof ht === 'string' && ht !== '' && ht === token)
      add('hooks.token_reuse_gateway_token', 'critical', 'Hooks token equals the gateway token', 'hooks.token')
    if (hooks.path === '/')
      add('hooks.path_root', 'critical', 'Hooks mounted at "/" (shadows every route)', 'hooks.path')
    const ids = hooks.allowedAgentIds
    if (ids === undefined || (Array.isArray(ids) && ids.includes('*'))) {
      add('hooks.allowed_agent_ids_unrestricted', 'critical', 'Hooks may target any agent', 'hooks.allowedAgentIds')
    }
  }

  // Channels: who may talk to the agent.
  for (const s of channelScopes(c)) {
    if (!s.enabled) continue
    const name = s.accountId ? `${s.channel}[${s.accountId}]` : s.channel
    if (s.dmPolicy === 'open')
      add(
        `channels.${s.channel}.dm.open`,
        'critical',
        `${name}: anyone may DM the agent (dmPolicy "open")`,
        s.dmPolicyPath.join('.'),
      )
    if (s.allowFrom?.includes('*'))
      add(
        `channels.${s.channel}.allowFrom.wildcard`,
        'critical',
        `${name}: "*" in allowFrom`,
        s.allowFromPath.join('.'),
      )
    if (s.groupPolicy === 'open')
      add(
        `channels.${s.channel}.groups.open`,
        'high',
        `${name}: any group may use the agent (groupPolicy "open")`,
        s.groupPolicyPath.join('.'),
      )
    if (s.groupAllowFrom?.includes('*'))
      add(
        `channels.${s.channel}.groupAllowFrom.wildcard`,
        'high',
        `${name}: "*" in groupAllowFrom`,
        s.groupAllowFromPath.join('.'),
      )
    for (const g of s.groups) {
      if (g.requireMention === false)
        add(
          `channels.${s.channel}.groups.no_mention`,
          'medium',
          `${name}: group "${g.id}" answers without a mention`,
          [...g.path, 'requireMention'].join('.'),
        )
    }
  }

  // Tools: what the agent can do once reached. A denied tool is not reachable, whatever its settings.
  const execDenied = toolDenied(getPath(c, ['tools', 'deny']), 'exec')
  const elevated = getPath(c, ['tools', 'elevated', 'enabled'])
  if (elevated === true && !execDenied)
    add('tools.elevated.enabled', 'high', 'Elevated (host) exec enabled', 'tools.elevated.enabled')
  const globalExec = execPolicy(getPath(c, ['tools', 'exec']))
  if (globalExec.policy !== 'deny' && !execDenied) {
    const shown = globalExec.policy ?? 'full (default)'
    add(
      'tools.exec.security',
      globalExec.policy === 'full' || globalExec.policy === undefined ? 'high' : 'medium',
      `exec runs ${globalExec.policy === undefined || globalExec.policy === 'full' ? 'any' : 'allow-listed or approved'} shell commands (${globalExec.key} "${shown}")`,
      `tools.exec.${globalExec.key}`,
    )
  }
  for (const a of agentEntries(c)) {
    if (execDenied || toolDenied(getPath(a.value, ['tools', 'deny']), 'exec')) continue
    const e = execPolicy(getPath(a.value, ['tools', 'exec']))
    if (e.policy === 'full')
      add(
        'tools.exec.security',
        'high',
        `agent "${a.id}": exec ${e.key} "full"`,
        [...a.path, 'tools', 'exec', e.key].join('.'),
      )
    if (getPath(a.value, ['tools', 'elevated', 'enabled']) === true)
      add(
        'tools.elevated.enabled',
        'high',
        `agent "${a.id}": elevated exec enabled`,
        [...a.path, 'tools', 'elevated', 'enabled'].join('.'),
      )
  }
  if (getPath(c, ['browser', 'enabled']) !== false && !toolDenied(getPath(c, ['tools', 'deny']), 'browser')) {
    add(
      'browser.enabled',
      'medium',
      'Browser control enabled (logged-in sessions reachable by the agent)',
      'browser.enabled',
    )
  }
  return items
}

/** Modes of the state dir, config and credentials (OpenClaw's fs.* checks). */
export function permissionExposure(stateDir: string, configPath: string): ExposureItem[] {
  const items: ExposureItem[] = []
  const mode = (p: string) => {
    try {
      return statSync(p).mode & 0o777
    } catch {
      return undefined
    }
  }
  const dir = mode(stateDir)
  if (dir !== undefined) {
    if (dir & 0o002)
      items.push({
        checkId: 'fs.state_dir.perms_world_writable',
        severity: 'critical',
        title: `State dir is world-writable (${octal(dir)})`,
        where: stateDir,
      })
    else if (dir & 0o020)
      items.push({
        checkId: 'fs.state_dir.perms_group_writable',
        severity: 'high',
        title: `State dir is group-writable (${octal(dir)})`,
        where: stateDir,
      })
    else if (dir & 0o055)
      items.push({
        checkId: 'fs.state_dir.perms_readable',
        severity: 'medium',
        title: `State dir is readable by others (${octal(dir)})`,
        where: stateDir,
      })
  }
  // A directory there is a config error (reported as such), not a mode to rate.
  const cfg = isRegularFile(configPath) ? mode(configPath) : undefined
  if (cfg !== undefined) {
    if (cfg & 0o022)
      items.push({
        checkId: 'fs.config.perms_writable',
        severity: 'critical',
        title: `Config is writable by others (${octal(cfg)})`,
        where: configPath,
      })
    if (cfg & 0o004)
      items.push({
        checkId: 'fs.config.perms_world_readable',
        severity: 'critical',
        title: `Config is world-readable (${octal(cfg)})`,
        where: configPath,
      })
    else if (cfg & 0o040)
      items.push({
        checkId: 'fs.config.perms_group_readable',
        severity: 'medium',
        title: `Config is group-readable (${octal(cfg)})`,
        where: configPath,
      })
  }
  const creds = path.join(stateDir, 'credentials')
  const cred = mode(creds)
  if (cred !== undefined) {
    if (cred & 0o022)
      items.push({
        checkId: 'fs.credentials_dir.perms_writable',
        severity: 'critical',
        title: `credentials/ is writable by others (${octal(cred)})`,
        where: creds,
      })
    else if (cred & 0o055)
      items.push({
        checkId: 'fs.credentials_dir.perms_readable',
        severity: 'medium',
        title: `credentials/ is readable by others (${octal(cred)})`,
        where: creds,
      })
  }
  return items
}

export const SEVERITY_ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info']

export function bySeverity(a: {severity: Severity}, b: {severity: Severity}): number {
  return SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity)
}

/** An exec object's policy in whichever form it uses: `mode`, else legacy `security` (undefined = default). */
/** The tool groups OpenClaw's `tools.deny` accepts for the tools exposure looks at ("deny wins"). */
const TOOL_GROUP: Record<string, string> = {exec: 'group:runtime', browser: 'group:ui'}

function toolDenied(deny: unknown, tool: string): boolean {
  return Array.isArray(deny) && deny.some((d) => d === tool || d === TOOL_GROUP[tool])
}

function execPolicy(exec: unknown): {key: 'mode' | 'security'; policy?: string} {
  const mode = isObject(exec) ? str(exec.mode) : undefined
  if (mode) return {key: 'mode', policy: mode}
  return {key: 'security', policy: isObject(exec) ? str(exec.security) : undefined}
}

function hasItems(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0
}

function isRegularFile(p: string): boolean {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

function octal(m: number): string {
  return m.toString(8).padStart(3, '0')
}
