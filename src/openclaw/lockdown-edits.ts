import {getPath, isObject, type JsonObject} from './config.js'
import type {ConfigEdit} from './config-edit.js'
import {knowsKey, type ConfigFeature} from './config-keys.js'
import {agentEntries, channelScopes, gatewayAuthMode, str, type ChannelScope} from './config-shape.js'

/**
 * The lockdown as data: from a config, every edit that closes an inbound surface, grouped into the
 * sub-changes an operator is asked about ("Disable DMs on 3 channels? [Y/n]"). Pure: the new
 * secret comes from the caller. Both schema shapes (dmPolicy vs dm.policy, agents.list[] vs
 * agents.entries), every channel and account, per-agent tool overrides.
 */

export type DmPolicy = 'disabled' | 'pairing' | 'allowlist'
export type GroupPolicy = 'disabled' | 'allowlist'

export type LockdownId =
  | 'dm'
  | 'allowFrom'
  | 'groups'
  | 'mentions'
  | 'bind'
  | 'tailscale'
  | 'mdns'
  | 'proxy'
  | 'http'
  | 'elevated'
  | 'exec'
  | 'hooks'
  | 'browser'
  | 'auth'
  | 'terminal'
  | 'agentToAgent'
  | 'sessionTools'
  | 'nodePairing'
  | 'cron'
  | 'controlUi'
  | 'suppressions'

export interface LockdownEdit extends ConfigEdit {
  /** Only applied when this other sub-change is accepted too (e.g. dropping "*" needs dmPolicy ≠ open). */
  requires?: LockdownId
  /** One line for the plan: `channels.telegram.dmPolicy: "open" -> "disabled"`. */
  line: string
}

export interface LockdownChange {
  id: LockdownId
  /** Asked in an interactive run; yes is always the safe answer. */
  question: string
  summary: string
  edits: LockdownEdit[]
}

export interface LockdownOptions {
  dmPolicy: DmPolicy
  groupPolicy: GroupPolicy
  /** Makes the fresh gateway token when auth is "none" (the rotate action's generator). */
  newSecret: () => string
  /** The target OpenClaw's version: only keys it knows are written (config-keys.ts). */
  version?: string
}

/**
 * Where OpenClaw 2026.9.6 keeps the DM / group policy of each bundled channel (from its generated
 * channel schemas). Keys that are already present are edited wherever they are (older builds:
 * Discord/Slack dm.policy); absent keys are only added where the schema has them, since an unknown
 * key makes the whole config invalid.
 */
/** Channels whose schema has both a top-level `dmPolicy` and `groupPolicy`. */
const DM_AND_GROUP_POLICY = [
  'discord',
  'feishu',
  'googlechat',
  'imessage',
  'irc',
  'line',
  'mattermost',
  'msteams',
  'nextcloud-talk',
  'signal',
  'slack',
  'telegram',
  'whatsapp',
  'zalo',
  'zalouser',
]
const DM_POLICY_TOP: Record<string, string[]> = Object.fromEntries([
  ...[...DM_AND_GROUP_POLICY, 'nostr', 'sms'].map((c) => [c, ['dmPolicy']]),
  ['matrix', ['dm', 'policy']],
])
const GROUP_POLICY_TOP = new Set([...DM_AND_GROUP_POLICY, 'buzz', 'matrix', 'qa-channel'])

const q = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v))

export function lockdownChanges(config: JsonObject, opts: LockdownOptions): LockdownChange[] {
  const changes: LockdownChange[] = []
  const add = (id: LockdownId, question: string, summary: string, edits: LockdownEdit[]) => {
    if (edits.length) changes.push({id, question, summary, edits})
  }
  const set = (path: string[], value: unknown, before: unknown, extra: Partial<LockdownEdit> = {}): LockdownEdit => ({
    path,
    value,
    line: `${path.join('.')}: ${extra.secret ? '(none)' : q(before)} -> ${extra.secret ? '«new secret»' : q(value)}`,
    ...extra,
  })

  const scopes = channelScopes(config)
  const scopeName = (s: ChannelScope) => (s.accountId ? `${s.channel}[${s.accountId}]` : s.channel)

  // 1. DMs: every channel (and account that sets its own), to --dm-policy.
  const dm: LockdownEdit[] = []
  const dmScopes: string[] = []
  for (const s of scopes) {
    const raw = getPath(config, s.path)
    const explicit = s.dmPolicy !== undefined
    const knownPath = !s.accountId ? DM_POLICY_TOP[s.channel] : undefined
    if (!explicit && !knownPath) continue
    const path = explicit ? s.dmPolicyPath : [...s.path, ...knownPath!]
    const before = explicit ? s.dmPolicy : getPath(raw, knownPath!)
    if (before === opts.dmPolicy) continue
    dm.push(set(path, opts.dmPolicy, before))
    dmScopes.push(scopeName(s))
  }
  const dmVerb =
    opts.dmPolicy === 'disabled'
      ? 'Disable DMs'
      : opts.dmPolicy === 'pairing'
        ? 'Require pairing for DMs'
        : 'Restrict DMs to the allowlist'
  add(
    'dm',
    `${dmVerb} on ${plural(dmScopes.length, 'channel')} (${dmScopes.join(', ')})?`,
    `dmPolicy -> "${opts.dmPolicy}" on ${dmScopes.join(', ')}`,
    dm,
  )

  // 2. "*" out of every allowFrom / groupAllowFrom (any depth of the channel section).
  const wild: LockdownEdit[] = []
  for (const s of scopes) {
    const section = getPath(config, s.path)
    if (!isObject(section)) continue
    for (const {path, list} of wildcardLists(section, s.path)) {
      const isDmList = samePath(path, s.allowFromPath)
      // dmPolicy "open" requires "*" in allowFrom: keep it unless the DM change is accepted too.
      const requires: LockdownId | undefined = isDmList && s.dmPolicy === 'open' ? 'dm' : undefined
      wild.push(
        set(
          path,
          list.filter((x) => x !== '*'),
          list,
          requires ? {requires} : {},
        ),
      )
    }
  }
  add(
    'allowFrom',
    `Remove "*" (everyone) from ${plural(wild.length, 'allow list')}?`,
    `"*" removed from ${wild.map((e) => e.path.join('.')).join(', ')}`,
    wild,
  )

  // 3. Groups: groupPolicy -> disabled|allowlist.
  const groups: LockdownEdit[] = []
  const groupScopes: string[] = []
  for (const s of scopes) {
    const explicit = s.groupPolicy !== undefined
    if (!explicit && (s.accountId || !GROUP_POLICY_TOP.has(s.channel))) continue
    if (s.groupPolicy === opts.groupPolicy) continue
    groups.push(set(s.groupPolicyPath, opts.groupPolicy, s.groupPolicy))
    groupScopes.push(scopeName(s))
  }
  add(
    'groups',
    `${opts.groupPolicy === 'disabled' ? 'Disable group chats' : 'Restrict group chats to the allowlist'} on ${plural(groupScopes.length, 'channel')} (${groupScopes.join(', ')})?`,
    `groupPolicy -> "${opts.groupPolicy}" on ${groupScopes.join(', ')}`,
    groups,
  )

  // 4. Groups answer only when mentioned.
  const mentions: LockdownEdit[] = []
  if (isObject(config.channels)) {
    for (const [channel, section] of Object.entries(config.channels)) {
      if (channel === 'defaults' || !isObject(section)) continue
      for (const path of falseMentions(section, ['channels', channel])) mentions.push(set(path, true, false))
    }
  }
  add(
    'mentions',
    `Require a mention in ${plural(mentions.length, 'group setting')}?`,
    `requireMention -> true in ${plural(mentions.length, 'place')}`,
    mentions,
  )

  // 5. Gateway exposure.
  const bind = getPath(config, ['gateway', 'bind'])
  if (bind !== undefined && bind !== 'loopback') {
    add('bind', `Bind the gateway to loopback (now ${q(bind)})?`, 'gateway.bind -> "loopback"', [
      set(['gateway', 'bind'], 'loopback', bind),
    ])
  }
  const ts = str(getPath(config, ['gateway', 'tailscale', 'mode']))
  if (ts && ts !== 'off') {
    add('tailscale', `Turn Tailscale ${ts} off?`, `gateway.tailscale.mode "${ts}" -> "off"`, [
      set(['gateway', 'tailscale', 'mode'], 'off', ts),
    ])
  }
  const mdns = getPath(config, ['discovery', 'mdns', 'mode'])
  if (mdns !== 'off')
    add(
      'mdns',
      `Turn mDNS discovery off (now ${mdns === undefined ? 'minimal by default' : q(mdns)})?`,
      'discovery.mdns.mode -> "off"',
      [set(['discovery', 'mdns', 'mode'], 'off', mdns)],
    )
  if (getPath(config, ['gateway', 'allowRealIpFallback']) === true) {
    add(
      'proxy',
      'Stop trusting client-supplied X-Real-IP (gateway.allowRealIpFallback)?',
      'gateway.allowRealIpFallback -> false',
      [set(['gateway', 'allowRealIpFallback'], false, true)],
    )
  }
  const http: LockdownEdit[] = []
  for (const ep of ['chatCompletions', 'responses']) {
    const p = ['gateway', 'http', 'endpoints', ep, 'enabled']
    if (getPath(config, p) === true) http.push(set(p, false, true))
  }
  const toolsAllow = getPath(config, ['gateway', 'tools', 'allow'])
  if (Array.isArray(toolsAllow) && toolsAllow.length)
    http.push({
      path: ['gateway', 'tools', 'allow'],
      remove: true,
      line: `gateway.tools.allow: ${q(toolsAllow)} -> (removed)`,
    })
  add(
    'http',
    'Close the extra HTTP APIs (OpenAI-compatible endpoints, /tools/invoke allow list)?',
    `${plural(http.length, 'HTTP setting')} closed`,
    http,
  )

  // 6. Tools: elevated off, exec denied — globally and in every agent that overrides it.
  const elevated: LockdownEdit[] = []
  const elevatedNow = getPath(config, ['tools', 'elevated', 'enabled'])
  if (elevatedNow !== false) elevated.push(set(['tools', 'elevated', 'enabled'], false, elevatedNow))
  const exec: LockdownEdit[] = []
  // A global exec policy that sets neither form gets the one the target knows (mode from 2026.6.35).
  const fresh = knowsKey(opts.version, 'tools.exec.mode') ? 'mode' : 'security'
  const globalExec = denyExec(['tools', 'exec'], getPath(config, ['tools', 'exec']), fresh)
  if (globalExec) exec.push(globalExec)
  for (const agent of [...agentEntries(config), ...agentDefaults(config)]) {
    const e = getPath(agent.value, ['tools', 'elevated', 'enabled'])
    if (e === true) elevated.push(set([...agent.path, 'tools', 'elevated', 'enabled'], false, e))
    const agentExec = denyExec([...agent.path, 'tools', 'exec'], getPath(agent.value, ['tools', 'exec']))
    if (agentExec) exec.push(agentExec)
  }
  add(
    'elevated',
    `Disable elevated (host) exec${elevated.length > 1 ? ` (${elevated.length} places)` : ''}?`,
    'tools.elevated.enabled -> false',
    elevated,
  )
  const execKeys = [...new Set(exec.map((e) => `tools.exec.${e.path.at(-1)}`))].join(' / ')
  add(
    'exec',
    `Deny the exec tool (${execKeys} -> "deny"${exec.length > 1 ? `, ${exec.length} places` : ''})?`,
    `${execKeys} -> "deny"`,
    exec,
  )

  // 7. Other ingress and reach.
  const hooks = config.hooks
  if (isObject(hooks) && hooks.enabled !== false) {
    add('hooks', 'Disable webhooks (hooks.enabled)?', 'hooks.enabled -> false', [
      set(['hooks', 'enabled'], false, hooks.enabled),
    ])
  }
  const browser = getPath(config, ['browser', 'enabled'])
  if (browser !== false)
    add('browser', 'Turn browser control off?', 'browser.enabled -> false', [
      set(['browser', 'enabled'], false, browser),
    ])

  // 8. Surfaces OpenClaw added (only keys the target version knows; present keys are edited as found).
  addedSurfaces(config, opts.version, add, set)

  // 9. No auth -> token auth with a fresh secret (never shown: diffs mask it).
  if (gatewayAuthMode(config) === 'none') {
    const edits: LockdownEdit[] = [
      set(['gateway', 'auth', 'mode'], 'token', 'none'),
      set(['gateway', 'auth', 'token'], opts.newSecret(), undefined, {secret: true}),
    ]
    add(
      'auth',
      'Switch gateway auth from "none" to a fresh token?',
      'gateway.auth "none" -> token auth with a fresh token',
      edits,
    )
  }
  return changes
}

type Add = (id: LockdownId, question: string, summary: string, edits: LockdownEdit[]) => void
type SetEdit = (path: string[], value: unknown, before: unknown) => LockdownEdit

/** Control UI break-glass flags: turned off where set, never added. */
const CONTROL_UI_DANGEROUS = [
  'dangerouslyAllowHostHeaderOriginFallback',
  'dangerouslyDisableDeviceAuth',
  'allowInsecureAuth',
]
const SESSION_TOOLS = ['sessions_spawn', 'sessions_send']

function addedSurfaces(config: JsonObject, version: string | undefined, add: Add, set: SetEdit): void {
  const knows = (f: ConfigFeature) => knowsKey(version, f)
  const terminal = getPath(config, ['gateway', 'terminal', 'enabled'])
  if (terminal !== false && (terminal !== undefined || knows('gateway.terminal')))
    add(
      'terminal',
      "Turn the operator terminal off (a host shell that inherits the gateway's secrets; on by default)?",
      'gateway.terminal.enabled -> false',
      [set(['gateway', 'terminal', 'enabled'], false, terminal)],
    )
  const a2a = getPath(config, ['tools', 'agentToAgent', 'enabled'])
  const visibility = getPath(config, ['tools', 'sessions', 'visibility'])
  const reach: LockdownEdit[] = []
  if (a2a !== false && (a2a !== undefined || knows('tools.agentToAgent')))
    reach.push(set(['tools', 'agentToAgent', 'enabled'], false, a2a))
  if (visibility !== 'agent' && (visibility !== undefined || knows('tools.sessions.visibility')))
    reach.push(set(['tools', 'sessions', 'visibility'], 'agent', visibility))
  add(
    'agentToAgent',
    'Keep each agent to its own sessions (agent-to-agent off, session visibility "agent")?',
    reach.map((e) => `${e.path.join('.')} -> ${q(e.value)}`).join(', '),
    reach,
  )
  const deny = getPath(config, ['tools', 'deny'])
  const denied = Array.isArray(deny) ? deny : []
  const missing = SESSION_TOOLS.filter((t) => !denied.includes(t))
  if (missing.length && (deny === undefined || Array.isArray(deny)))
    add(
      'sessionTools',
      `Deny the tools that start or message other sessions (${missing.join(', ')})?`,
      `tools.deny += ${missing.join(', ')}`,
      [set(['tools', 'deny'], [...denied, ...missing], deny)],
    )
  const pairing: LockdownEdit[] = []
  const cidrs = getPath(config, ['gateway', 'nodes', 'pairing', 'autoApproveCidrs'])
  if (Array.isArray(cidrs) && cidrs.length)
    pairing.push({
      path: ['gateway', 'nodes', 'pairing', 'autoApproveCidrs'],
      remove: true,
      line: `gateway.nodes.pairing.autoApproveCidrs: ${JSON.stringify(cidrs)} -> (removed)`,
    })
  const ssh = getPath(config, ['gateway', 'nodes', 'pairing', 'sshVerify'])
  if (ssh !== false && (ssh !== undefined || knows('gateway.nodes.pairing.sshVerify')))
    pairing.push(set(['gateway', 'nodes', 'pairing', 'sshVerify'], false, ssh))
  add(
    'nodePairing',
    'Turn automatic node pairing off (new nodes then need an explicit approval)?',
    'automatic node pairing off',
    pairing,
  )
  const cron = getPath(config, ['cron', 'enabled'])
  if (cron !== false && (cron !== undefined || knows('cron.enabled')))
    add('cron', 'Pause scheduled jobs (cron.enabled; jobs are kept)?', 'cron.enabled -> false', [
      set(['cron', 'enabled'], false, cron),
    ])
  const ui: LockdownEdit[] = []
  for (const flag of CONTROL_UI_DANGEROUS) {
    const p = ['gateway', 'controlUi', flag]
    if (getPath(config, p) === true) ui.push(set(p, false, true))
  }
  add(
    'controlUi',
    "Turn the Control UI's break-glass flags off?",
    ui.map((e) => e.path.at(-1)).join(', ') + ' -> false',
    ui,
  )
  const suppressions = getPath(config, ['security', 'audit', 'suppressions'])
  if (Array.isArray(suppressions) && suppressions.length) {
    // An attacker can hide audit findings here: show each one in the question.
    const shown = suppressions.map((x) => (isObject(x) ? String(x.checkId ?? JSON.stringify(x)) : JSON.stringify(x)))
    add(
      'suppressions',
      `Remove ${plural(suppressions.length, 'audit suppression')} (${shown.join(', ').slice(0, 300)}) so security audit reports everything?`,
      `security.audit.suppressions (${suppressions.length}) -> []`,
      [set(['security', 'audit', 'suppressions'], [], suppressions)],
    )
  }
}

/** The edits of the accepted sub-changes, minus those that depend on a declined one. */
export function selectEdits(changes: LockdownChange[], accepted: ReadonlySet<LockdownId>): LockdownEdit[] {
  return changes
    .filter((c) => accepted.has(c.id))
    .flatMap((c) => c.edits.filter((e) => !e.requires || accepted.has(e.requires)))
}

/**
 * Deny exec in the form the exec object already uses — `mode` (current) or legacy `security`/`ask`,
 * never both (OpenClaw rejects "mode cannot be combined with security or ask"). An object that sets
 * neither gets `fresh` (the global one), or is left to inherit (agents); nothing is migrated.
 */
function denyExec(at: string[], exec: unknown, fresh?: 'mode' | 'security'): LockdownEdit | undefined {
  const o = isObject(exec) ? exec : {}
  const key = o.mode !== undefined ? 'mode' : o.security !== undefined || o.ask !== undefined ? 'security' : fresh
  if (!key || o[key] === 'deny') return undefined
  const path = [...at, key]
  return {path, value: 'deny', line: `${path.join('.')}: ${q(o[key])} -> "deny"`}
}

function agentDefaults(config: JsonObject): Array<{path: string[]; value: JsonObject}> {
  const d = getPath(config, ['agents', 'defaults'])
  return isObject(d) && isObject(d.tools) ? [{path: ['agents', 'defaults'], value: d}] : []
}

/** allowFrom / groupAllowFrom lists holding "*", anywhere in a channel or account section (not into accounts). */
function wildcardLists(section: JsonObject, at: string[]): Array<{path: string[]; list: unknown[]}> {
  const out: Array<{path: string[]; list: unknown[]}> = []
  for (const [k, v] of Object.entries(section)) {
    if (k === 'accounts' && at.length === 2) continue // accounts are scopes of their own
    if ((k === 'allowFrom' || k === 'groupAllowFrom') && Array.isArray(v) && v.includes('*'))
      out.push({path: [...at, k], list: v})
    else if (isObject(v)) out.push(...wildcardLists(v, [...at, k]))
  }
  return out
}

function falseMentions(node: JsonObject, at: string[]): string[][] {
  const out: string[][] = []
  for (const [k, v] of Object.entries(node)) {
    if (k === 'requireMention' && v === false) out.push([...at, k])
    else if (isObject(v)) out.push(...falseMentions(v, [...at, k]))
  }
  return out
}

function samePath(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i])
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
