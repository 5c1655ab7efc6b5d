import {getPath, isObject, type JsonObject} from './config.js'

/**
 * Read both schema shapes OpenClaw has used: dm.policy/dm.allowFrom (old Discord/Slack) vs
 * dmPolicy/allowFrom, agents.list[] vs agents.entries.<id>. Paths are returned so edits hit the
 * key that is actually there.
 */

export interface ChannelScope {
  channel: string
  accountId?: string
  /** Path of the channel or account object. */
  path: string[]
  enabled: boolean
  dmPolicy?: string
  dmPolicyPath: string[]
  allowFrom?: unknown[]
  allowFromPath: string[]
  groupPolicy?: string
  groupPolicyPath: string[]
  groupAllowFrom?: unknown[]
  groupAllowFromPath: string[]
  /** Per-group entries (channels.<ch>.groups.<id>) with their requireMention. */
  groups: Array<{id: string; path: string[]; requireMention?: unknown}>
}

/** Keys under channels that are settings, not channels. */
const NON_CHANNEL_KEYS = new Set(['defaults'])

export function channelScopes(config: JsonObject): ChannelScope[] {
  const channels = config.channels
  if (!isObject(channels)) return []
  const scopes: ChannelScope[] = []
  for (const [channel, section] of Object.entries(channels)) {
    if (NON_CHANNEL_KEYS.has(channel) || !isObject(section)) continue
    scopes.push(scopeOf(channel, undefined, ['channels', channel], section, true))
    const accounts = section.accounts
    if (isObject(accounts)) {
      for (const [accountId, account] of Object.entries(accounts)) {
        if (isObject(account))
          scopes.push(
            scopeOf(
              channel,
              accountId,
              ['channels', channel, 'accounts', accountId],
              account,
              section.enabled !== false,
            ),
          )
      }
    }
  }
  return scopes
}

function scopeOf(
  channel: string,
  accountId: string | undefined,
  p: string[],
  o: JsonObject,
  parentEnabled: boolean,
): ChannelScope {
  const legacyDm = isObject(o.dm) ? o.dm : undefined
  const useLegacyPolicy = o.dmPolicy === undefined && legacyDm?.policy !== undefined
  const useLegacyAllow = o.allowFrom === undefined && legacyDm?.allowFrom !== undefined
  const groups = isObject(o.groups)
    ? Object.entries(o.groups)
        .filter(([, g]) => isObject(g))
        .map(([id, g]) => ({id, path: [...p, 'groups', id], requireMention: (g as JsonObject).requireMention}))
    : []
  return {
    channel,
    accountId,
    path: p,
    enabled: parentEnabled && o.enabled !== false,
    dmPolicy: str(useLegacyPolicy ? legacyDm?.policy : o.dmPolicy),
    dmPolicyPath: useLegacyPolicy ? [...p, 'dm', 'policy'] : [...p, 'dmPolicy'],
    allowFrom: arr(useLegacyAllow ? legacyDm?.allowFrom : o.allowFrom),
    allowFromPath: useLegacyAllow ? [...p, 'dm', 'allowFrom'] : [...p, 'allowFrom'],
    groupPolicy: str(o.groupPolicy),
    groupPolicyPath: [...p, 'groupPolicy'],
    groupAllowFrom: arr(o.groupAllowFrom),
    groupAllowFromPath: [...p, 'groupAllowFrom'],
    groups,
  }
}

export interface AgentEntry {
  id: string
  path: string[]
  value: JsonObject
}

export function agentEntries(config: JsonObject): AgentEntry[] {
  const agents = config.agents
  if (!isObject(agents)) return []
  const out: AgentEntry[] = []
  if (Array.isArray(agents.list)) {
    agents.list.forEach((a, i) => {
      if (isObject(a) && typeof a.id === 'string') out.push({id: a.id, path: ['agents', 'list', String(i)], value: a})
    })
  }
  if (isObject(agents.entries)) {
    for (const [id, a] of Object.entries(agents.entries))
      if (isObject(a)) out.push({id, path: ['agents', 'entries', id], value: a})
  }
  return out
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

function arr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined
}

export const gatewayAuthMode = (c: JsonObject): string | undefined => {
  const mode = str(getPath(c, ['gateway', 'auth', 'mode']))
  if (mode) return mode
  // OpenClaw infers the mode from what is set when mode is absent.
  if (getPath(c, ['gateway', 'auth', 'password']) !== undefined) return 'password'
  if (getPath(c, ['gateway', 'auth', 'token']) !== undefined) return 'token'
  return undefined
}
