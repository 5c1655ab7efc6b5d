import {getPath, isObject, type JsonObject} from '../openclaw/config.js'
import type {ConfigEdit} from '../openclaw/config-edit.js'
import {agentEntries} from '../openclaw/config-shape.js'
import type {OpenClawCli} from '../openclaw/version.js'
import type {ProcessRunner} from '../system/process-runner.js'

/**
 * Sandboxing for the agents that serve others (OpenClaw's security guide, docs/gateway/security/
 * tool-permissions.md "Per-agent access profiles"): `sandbox.mode "all"` with the workspace read-only
 * ("ro") or hidden ("none"), and the guide's tools denied. Keys and values checked against openclaw
 * 2026.9.6 `config validate` (workspaceAccess none|ro|rw; "read-only" is rejected). Pure.
 *
 * "Serves others" follows OpenClaw's own audit heuristic (security.trust_model.multi_user_heuristic:
 * an open DM or group policy, "*" in an allow list, allowlisted groups with group targets, each
 * account merged over its channel), plus an allow list naming more than one sender. Which agent
 * answers: the sole agent, or in a fleet the agents bound to those channels (bindings[]; a fleet
 * without a binding fails closed in OpenClaw, so an unbound agent serves no one).
 */

/** Anyone can reach the agent, or a known set of other people. */
export type Reach = 'anyone' | 'others'

export interface ServedScope {
  channel: string
  accountId?: string
  reach: Reach
  why: string[]
}

export interface SandboxChange {
  agentId: string
  reach: Reach
  why: string[]
  /** The most the sandbox may show of the agent's workspace. */
  access: 'none' | 'ro'
  edits: Array<ConfigEdit & {line: string}>
}

/** The guide's profiles: "public agent" (anyone) and "family/work agent" (known others). */
const PROFILES: Record<Reach, {workspaceAccess: 'none' | 'ro'; deny: string[]}> = {
  anyone: {
    workspaceAccess: 'none',
    deny: [
      'apply_patch',
      'browser',
      'canvas',
      'cron',
      'edit',
      'exec',
      'gateway',
      'image',
      'nodes',
      'process',
      'read',
      'write',
    ],
  },
  others: {workspaceAccess: 'ro', deny: ['write', 'edit', 'apply_patch', 'exec', 'process', 'browser']},
}
const ACCESS_RANK: Record<string, number> = {none: 0, ro: 1, rw: 2}
const GROUP_TARGETS = ['groups', 'guilds', 'channels', 'rooms']
const NON_CHANNEL_KEYS = new Set(['defaults'])
const q = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v))

/** Channel scopes (each account merged over its channel, as OpenClaw reads them) that reach other people. */
export function servedScopes(config: JsonObject): ServedScope[] {
  const channels = config.channels
  if (!isObject(channels)) return []
  const out: ServedScope[] = []
  for (const [channel, section] of Object.entries(channels)) {
    if (NON_CHANNEL_KEYS.has(channel) || !isObject(section) || section.enabled === false) continue
    const {accounts, ...base} = section
    const scopes: Array<[string | undefined, JsonObject]> = [[undefined, base]]
    if (isObject(accounts))
      for (const [id, a] of Object.entries(accounts)) if (isObject(a)) scopes.push([id, {...base, ...a}])
    for (const [accountId, s] of scopes) {
      if (s.enabled === false) continue
      const at = `channels.${channel}${accountId ? `.accounts.${accountId}` : ''}`
      const r = reachOf(s, at)
      if (r) out.push({channel, accountId, ...r})
    }
  }
  return out
}

function reachOf(s: JsonObject, at: string): {reach: Reach; why: string[]} | undefined {
  const dm = isObject(s.dm) ? s.dm : {}
  const dmPolicy = s.dmPolicy ?? dm.policy
  const allowFrom = Array.isArray(s.allowFrom) ? s.allowFrom : Array.isArray(dm.allowFrom) ? dm.allowFrom : []
  const groupAllowFrom = Array.isArray(s.groupAllowFrom) ? s.groupAllowFrom : []
  const anyone: string[] = []
  const others: string[] = []
  if (dmPolicy === 'open') anyone.push(`${at} DMs open`)
  if (allowFrom.some((e) => String(e).trim() === '*')) anyone.push(`${at}.allowFrom "*"`)
  if (groupAllowFrom.some((e) => String(e).trim() === '*')) anyone.push(`${at}.groupAllowFrom "*"`)
  if (s.groupPolicy === 'open') anyone.push(`${at} groups open`)
  const targets = GROUP_TARGETS.filter((k) => isObject(s[k]) && Object.keys(s[k]).length > 0)
  if (s.groupPolicy === 'allowlist' && targets.length) others.push(`${at} groups allowlisted (${targets.join(', ')})`)
  const senders = allowFrom.filter((e) => String(e).trim() !== '*').length
  if (dmPolicy !== 'disabled' && senders > 1) others.push(`${at}.allowFrom names ${senders} senders`)
  if (anyone.length) return {reach: 'anyone', why: [...anyone, ...others]}
  return others.length ? {reach: 'others', why: others} : undefined
}

interface Binding {
  agentId: string
  channel: string
  accountId?: string
  direct: boolean
}

function routeBindings(config: JsonObject): Binding[] {
  const list = Array.isArray(config.bindings) ? config.bindings : []
  return list.flatMap((b) => {
    if (!isObject(b) || (b.type !== undefined && b.type !== 'route') || typeof b.agentId !== 'string') return []
    const m = isObject(b.match) ? b.match : {}
    if (typeof m.channel !== 'string') return []
    const peer = isObject(m.peer) ? m.peer : undefined
    return [
      {
        agentId: b.agentId,
        channel: m.channel,
        accountId: typeof m.accountId === 'string' ? m.accountId : undefined,
        direct: peer?.kind === 'direct',
      },
    ]
  })
}

/** A binding matches a scope on its channel: any account ("*"), the same account, or the default one. */
function binds(b: Binding, s: ServedScope): boolean {
  if (b.channel !== s.channel) return false
  return b.accountId === '*' || (b.accountId ?? 'default') === (s.accountId ?? 'default')
}

/**
 * The sandbox edits for every agent that serves others, judged on each of `views` (the config as
 * found and as the baseline leaves it: contain may have closed a channel the baseline re-opens).
 */
export function sandboxChanges(config: JsonObject, views: JsonObject[] = [config]): SandboxChange[] {
  const scopes = views.flatMap(servedScopes)
  if (!scopes.length) return []
  const entries = agentEntries(config)
  const served = new Map<string, {path?: string[]; reach: Reach; why: Set<string>}>()
  const add = (id: string, p: string[] | undefined, s: ServedScope) => {
    const cur = served.get(id) ?? {path: p, reach: s.reach, why: new Set<string>()}
    if (s.reach === 'anyone') cur.reach = 'anyone'
    for (const w of s.why) cur.why.add(w)
    served.set(id, cur)
  }
  if (entries.length <= 1) {
    // The sole agent answers everything (none configured: OpenClaw's implicit "main", set in agents.defaults).
    for (const s of scopes) add(entries[0]?.id ?? 'main', entries[0]?.path, s)
  } else {
    const bindings = routeBindings(config).filter((b) => !b.direct)
    for (const s of scopes)
      for (const b of bindings.filter((x) => binds(x, s))) {
        const e = entries.find((x) => x.id === b.agentId)
        if (e) add(e.id, e.path, s)
      }
  }
  return [...served].flatMap(([agentId, a]) => {
    const edits = profileEdits(config, a.path, a.reach)
    const access = PROFILES[a.reach].workspaceAccess
    return edits.length ? [{agentId, reach: a.reach, why: [...a.why], access, edits}] : []
  })
}

/** What is missing of the profile; nothing that is already stricter is loosened. */
function profileEdits(config: JsonObject, agentPath: string[] | undefined, reach: Reach): SandboxChange['edits'] {
  const p = PROFILES[reach]
  const base = agentPath ?? ['agents', 'defaults']
  // A per-agent sandbox overrides agents.defaults.sandbox key by key; a global deny applies to every agent.
  const obj = (keys: string[]) => {
    const v = getPath(config, keys)
    return isObject(v) ? v : {}
  }
  const cur = {...obj(['agents', 'defaults', 'sandbox']), ...obj([...base, 'sandbox'])}
  const edits: SandboxChange['edits'] = []
  const set = (keys: string[], value: unknown, was: unknown) =>
    edits.push({path: keys, value, line: `${keys.join('.')}: ${q(was)} -> ${q(value)}`})
  if (cur.mode !== 'all') set([...base, 'sandbox', 'mode'], 'all', cur.mode)
  // Unset is OpenClaw's default "none", already the strictest.
  const access = typeof cur.workspaceAccess === 'string' ? cur.workspaceAccess : 'none'
  if ((ACCESS_RANK[access] ?? 2) > ACCESS_RANK[p.workspaceAccess]!)
    set([...base, 'sandbox', 'workspaceAccess'], p.workspaceAccess, cur.workspaceAccess)
  // One container across agents would let them reach each other's files.
  if (cur.scope === 'shared') set([...base, 'sandbox', 'scope'], 'agent', cur.scope)
  const toolsPath = agentPath ? [...agentPath, 'tools', 'deny'] : ['tools', 'deny']
  const list = (keys: string[]) => {
    const v = getPath(config, keys)
    return Array.isArray(v) ? v : []
  }
  const have = list(toolsPath)
  const global = list(['tools', 'deny'])
  const missing = p.deny.filter((t) => !have.includes(t) && !global.includes(t))
  if (missing.length) {
    const value = [...have, ...missing]
    edits.push({path: toolsPath, value, line: `${toolsPath.join('.')}: + ${missing.join(', ')}`})
  }
  return edits
}

/** The config as these edits leave it (a copy). */
export function withEdits(config: JsonObject, edits: ConfigEdit[]): JsonObject {
  const out = structuredClone(config)
  for (const e of edits) {
    let cur: JsonObject = out
    for (const k of e.path.slice(0, -1)) {
      if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {}
      cur = cur[k] as JsonObject
    }
    const last = e.path.at(-1)!
    if (e.remove) delete cur[last]
    else cur[last] = e.value as JsonObject[string]
  }
  return out
}

/**
 * OpenClaw's own word that an agent runs sandboxed: `openclaw sandbox explain --agent ID --json`
 * (2026.9.6: sandbox.mode, sandbox.workspaceAccess, sandbox.sessionIsSandboxed). A problem, or undefined.
 */
export async function sandboxProblem(
  cli: OpenClawCli,
  want: {agentId: string; access: 'none' | 'ro'},
  req: {runner: ProcessRunner; env: NodeJS.ProcessEnv; stateDir: string; configPath: string},
): Promise<string | undefined> {
  const env = {...req.env, OPENCLAW_STATE_DIR: req.stateDir, OPENCLAW_CONFIG_PATH: req.configPath, NO_COLOR: '1'}
  const args = [...cli.args, 'sandbox', 'explain', '--agent', want.agentId, '--json']
  const r = await req.runner.run(cli.command, args, {env, timeoutMs: 60_000})
  let sandbox: JsonObject | undefined
  try {
    const v = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as unknown
    sandbox = isObject(v) && isObject(v.sandbox) ? v.sandbox : undefined
  } catch {
    /* below */
  }
  if (!sandbox) return `openclaw sandbox explain --agent ${want.agentId} gave no report (exit ${r.exitCode ?? '?'})`
  const access = String(sandbox.workspaceAccess)
  if (sandbox.mode !== 'all' || sandbox.sessionIsSandboxed !== true)
    return `OpenClaw reports agent ${want.agentId} not sandboxed (mode ${JSON.stringify(sandbox.mode)})`
  if ((ACCESS_RANK[access] ?? 2) > ACCESS_RANK[want.access]!)
    return `OpenClaw reports agent ${want.agentId} with workspace access ${JSON.stringify(access)}`
  return undefined
}
