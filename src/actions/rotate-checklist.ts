import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {fingerprint} from '../openclaw/config-edit.js'
import {getPath, isObject, loadConfig, type JsonObject} from '../openclaw/config.js'
import {parseEnvFile} from '../openclaw/secrets/env-files.js'
import {stateDbPath} from '../openclaw/secrets/store.js'
import {readStoreCopy} from '../openclaw/stores/read-only-open.js'
import {targetCli} from './target-cli.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {rotateRunOf, type ChecklistItem} from './shared/rotate-run.js'
import {safeReaddir} from '../system/safe-fs.js'

const Params = z.object({}).strict()

/**
 * Step 6 of rotate: what ir cannot rotate itself, each with where it is stored and how to rotate
 * it: model provider credentials (auth profiles per agent, config keys, provider env vars), channel
 * credentials (bot tokens, WhatsApp session), paired devices and nodes (with the `openclaw
 * devices` / `openclaw nodes` commands that revoke them), other ingress secrets. Written to the
 * case as rotation-checklist.md and printed. Interactively the operator may paste a replacement
 * (hidden input): config-held credentials are written like the gateway's, API-key auth profiles
 * through `openclaw models auth paste-api-key` on stdin.
 */

const CHANNEL_CREDENTIALS = [
  'botToken',
  'token',
  'appToken',
  'userToken',
  'signingSecret',
  'webhookSecret',
  'accessToken',
  'password',
  'appSecret',
  'appPassword',
  'privateKey',
  'serviceAccount',
  'encryptKey',
  'verificationToken',
  'clientSecret',
  'botSecret',
  'apiPassword',
  'authToken',
  'tokenFile',
]

const CHANNEL_HOW: Record<string, string> = {
  telegram: 'revoke it with @BotFather (/revoke), then paste the new token',
  discord: 'Developer Portal → your app → Bot → Reset Token, then paste the new token',
  slack: 'api.slack.com → your app → rotate the token/secret, then paste the new value',
}

export const rotateChecklist: ActionDefinition<z.infer<typeof Params>> = {
  name: 'rotate-checklist',
  description:
    'List what ir cannot rotate (model provider auth, channel credentials, paired devices and nodes) with where each ' +
    'is stored and how to rotate it (written into the case only).',
  params: Params,
  mutates: false,
  async plan(ctx) {
    const items = checklistItems(ctx)
    return {
      noop: false,
      summary: `${items.length} item(s) ir cannot rotate itself`,
      lines: checklistLines(items),
      data: items,
    }
  },
  async apply(ctx, _params, plan) {
    const items = plan.data as ChecklistItem[]
    const file = writeChecklistFile(ctx, items)
    rotateRunOf(ctx).checklist = items
    return {detail: `${items.length} item(s) to rotate by hand, listed in ${path.basename(file)}`, data: {items, file}}
  },
}

/** The checklist in the case (rotation-checklist.md); rewritten when pasted replacements change it. */
export function writeChecklistFile(ctx: ActionContext, items: ChecklistItem[]): string {
  const file = path.join(ctx.case.dir, 'rotation-checklist.md')
  const lines = checklistLines(items).map((l) => (l.startsWith('  ') ? l : `- ${l}`))
  writeFileSync(file, ['# What ir did not rotate', '', ...lines, ''].join('\n'), {mode: 0o600})
  return file
}

export function checklistLines(items: ChecklistItem[]): string[] {
  const out: string[] = []
  for (const i of items) {
    out.push(`[${i.category}] ${i.what}`, `  stored: ${i.where}`, `  rotate: ${i.how}`)
    if (i.replaced) out.push(`  ${i.replaced}`)
  }
  return out
}

export function checklistItems(ctx: ActionContext): ChecklistItem[] {
  const state = ctx.install.stateDir
  const items: ChecklistItem[] = []
  let config: JsonObject = {}
  try {
    config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
  } catch {
    /* the inventory step reported it */
  }
  const cli = targetCli(ctx) !== undefined
  const cfg = ctx.install.configPath

  // Model providers: config keys, per-agent auth profiles (file and SQLite eras), provider env vars.
  const providers = getPath(config, ['models', 'providers'])
  if (isObject(providers)) {
    for (const [id, p] of Object.entries(providers)) {
      if (isObject(p) && p.apiKey !== undefined) {
        items.push({
          category: 'model-provider',
          what: `models.providers.${id}.apiKey`,
          where: `${cfg} (${describeValue(p.apiKey)})`,
          how: `revoke the key in ${id}'s console, create a new one, then paste it`,
          replaceKey: `models.providers.${id}.apiKey`,
        })
      }
    }
  }
  for (const agent of safeReaddir(path.join(state, 'agents'))) {
    const dir = path.join(state, 'agents', agent, 'agent')
    for (const p of authProfiles(dir)) {
      const how =
        p.type === 'oauth'
          ? `sign out at ${p.provider} (revoke the OAuth grant), then \`openclaw models auth login --provider ${p.provider} --agent ${agent} --force\``
          : p.type === 'token'
            ? `revoke it at ${p.provider}, then \`openclaw models auth paste-token --provider ${p.provider} --agent ${agent}\``
            : `revoke the key at ${p.provider}, then paste the new key (or \`openclaw models auth paste-api-key --provider ${p.provider} --profile-id ${p.id} --agent ${agent}\`)`
      items.push({
        category: 'model-provider',
        what: `auth profile ${p.id} (${p.type}) of agent ${agent}`,
        where: p.where,
        how,
        pasteProfile: p.type === 'api_key' && cli ? {agent, provider: p.provider, profileId: p.id} : undefined,
      })
    }
  }
  for (const envFile of [path.join(state, '.env')]) {
    for (const e of parseEnvFileSafe(envFile)) {
      if (/^(OPENCLAW|CLAWDBOT)_/.test(e.name) || !/(_API_KEY|_TOKEN|_SECRET|_PASSWORD|_KEY)$/.test(e.name)) continue
      items.push({
        category: /TELEGRAM|DISCORD|SLACK/.test(e.name) ? 'channel' : 'model-provider',
        what: `${e.name} (environment)`,
        where: `${envFile} line ${e.line}`,
        how: `rotate it at the provider, replace the line, restart the gateway`,
      })
    }
  }

  // Channels: credential keys per channel and account; the WhatsApp web session.
  const channels = getPath(config, ['channels'])
  if (isObject(channels)) {
    for (const [ch, section] of Object.entries(channels)) {
      if (!isObject(section)) continue
      const scopes: Array<[string[], JsonObject]> = [[['channels', ch], section]]
      if (isObject(section.accounts))
        for (const [acc, a] of Object.entries(section.accounts))
          if (isObject(a)) scopes.push([['channels', ch, 'accounts', acc], a])
      for (const [p, o] of scopes) {
        for (const k of CHANNEL_CREDENTIALS) {
          if (o[k] === undefined) continue
          const key = [...p, k].join('.')
          items.push({
            category: 'channel',
            what: key,
            where: `${cfg} (${k === 'tokenFile' ? `file ${String(o[k])}` : describeValue(o[k])})`,
            how:
              k === 'tokenFile'
                ? `rotate at ${ch}, write the new token into ${String(o[k])}`
                : (CHANNEL_HOW[ch] ?? `rotate it in ${ch}'s admin console, then paste the new value`),
            replaceKey: k === 'tokenFile' ? undefined : key,
          })
        }
      }
    }
  }
  const wa = path.join(state, 'credentials', 'whatsapp')
  for (const acc of safeReaddir(wa)) {
    if (!existsSync(path.join(wa, acc, 'creds.json'))) continue
    items.push({
      category: 'channel',
      what: `WhatsApp web session (account ${acc})`,
      where: path.join(wa, acc, 'creds.json'),
      how: `\`openclaw channels logout --channel whatsapp --account ${acc}\`, unlink the device on the phone (Linked devices), then re-link`,
    })
  }

  // Ingress secrets outside rotate's scope.
  for (const key of ['cron.webhookToken', 'hooks.gmail.pushToken']) {
    const v = getPath(config, key.split('.'))
    if (v !== undefined)
      items.push({
        category: 'ingress',
        what: key,
        where: `${cfg} (${describeValue(v)})`,
        how: 'update the sender, then paste the new value',
        replaceKey: key,
      })
  }

  // Paired devices and nodes (a stolen gateway token could have paired a rogue one).
  const via = cli ? '' : ' (OpenClaw CLI not found: run it where `openclaw` is installed)'
  for (const d of pairedDevices(state)) {
    const isNode = d.roles.includes('node')
    const revoke = d.roles
      .filter((r) => r !== 'node')
      .map((r) => `\`openclaw devices revoke --device ${d.id} --role ${r}\``)
    items.push({
      category: isNode ? 'node' : 'device',
      what: `${isNode ? 'node' : 'device'} ${d.name ?? d.id} (${[d.platform, d.mode, d.roles.join('+')].filter(Boolean).join(', ')})`,
      where: d.where,
      how: `${isNode ? `\`openclaw nodes remove --node ${d.id}\`` : `\`openclaw devices remove ${d.id}\``}${revoke.length ? ` (or only its tokens: ${revoke.join(', ')})` : ''}${via}; keep only devices you recognise`,
    })
  }
  items.push({
    category: 'device',
    what: 'every paired device and node',
    where: `${stateDbPath(state)} (device_pairing_*), or devices/ and nodes/paired.json on older builds`,
    how: `review \`openclaw devices list\` and \`openclaw nodes status\`; \`openclaw devices clear --yes --pending\` forces everyone to pair again${via}`,
  })
  return items
}

function describeValue(v: unknown): string {
  if (typeof v === 'string')
    return /^\$\{?[A-Z_][A-Z0-9_]*\}?$/.test(v) ? `env ${v}` : `plain, «sha256:${fingerprint(v)}»`
  if (isObject(v) && typeof v.source === 'string')
    return `SecretRef ${v.source}:${String(v.provider ?? 'default')}/${String(v.id ?? '')}`
  return 'set'
}

interface ProfileFact {
  id: string
  provider: string
  type: string
  where: string
}

function authProfiles(agentDir: string): ProfileFact[] {
  const out: ProfileFact[] = []
  const add = (json: unknown, where: string) => {
    const profiles = isObject(json) && isObject(json.profiles) ? json.profiles : {}
    for (const [id, p] of Object.entries(profiles)) {
      if (!isObject(p)) continue
      if (out.some((x) => x.id === id)) continue
      out.push({
        id,
        provider: typeof p.provider === 'string' ? p.provider : (id.split(':')[0] ?? id),
        type: typeof p.type === 'string' ? p.type : 'unknown',
        where,
      })
    }
  }
  const file = path.join(agentDir, 'auth-profiles.json')
  if (existsSync(file)) {
    try {
      add(JSON.parse(readFileSync(file, 'utf8')), file)
    } catch {
      /* unreadable: skipped */
    }
  }
  const db = path.join(agentDir, 'openclaw-agent.sqlite')
  if (existsSync(db)) {
    for (const row of sqliteRows<{store_key: string; store_json: string}>(
      db,
      'auth_profile_store',
      'SELECT store_key, store_json FROM auth_profile_store',
    )) {
      try {
        add(JSON.parse(row.store_json), `${db} (auth_profile_store ${row.store_key})`)
      } catch {
        /* skipped */
      }
    }
  }
  return out
}

interface DeviceFact {
  id: string
  name?: string
  platform?: string
  mode?: string
  roles: string[]
  where: string
}

function pairedDevices(state: string): DeviceFact[] {
  const out: DeviceFact[] = []
  const db = stateDbPath(state)
  if (existsSync(db)) {
    for (const r of sqliteRows<{
      device_id: string
      display_name: string | null
      operator_label: string | null
      platform: string | null
      client_mode: string | null
      role: string | null
      roles_json: string | null
    }>(
      db,
      'device_pairing_paired',
      'SELECT device_id, display_name, operator_label, platform, client_mode, role, roles_json FROM ' +
        'device_pairing_paired',
    )) {
      out.push({
        id: r.device_id,
        name: r.operator_label ?? r.display_name ?? undefined,
        platform: r.platform ?? undefined,
        mode: r.client_mode ?? undefined,
        roles: parseRoles(r.roles_json, r.role),
        where: `${db} (device_pairing_paired)`,
      })
    }
  }
  for (const [sub, forceNode] of [
    ['devices', false],
    ['nodes', true],
  ] as const) {
    const file = path.join(state, sub, 'paired.json')
    if (!existsSync(file)) continue
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as unknown
      if (!isObject(json)) continue
      for (const [id, d] of Object.entries(json)) {
        if (!isObject(d) || out.some((x) => x.id === id)) continue
        const roles = Array.isArray(d.roles) ? d.roles.map(String) : typeof d.role === 'string' ? [d.role] : []
        out.push({
          id,
          name: typeof d.displayName === 'string' ? d.displayName : undefined,
          platform: typeof d.platform === 'string' ? d.platform : undefined,
          mode: typeof d.clientMode === 'string' ? d.clientMode : undefined,
          roles: forceNode && !roles.includes('node') ? [...roles, 'node'] : roles,
          where: file,
        })
      }
    } catch {
      /* skipped */
    }
  }
  return out
}

function parseRoles(json: string | null, role: string | null): string[] {
  try {
    const r = JSON.parse(json ?? '[]') as unknown
    if (Array.isArray(r) && r.length) return r.map(String)
  } catch {
    /* fall through */
  }
  return role ? [role] : []
}

/** Rows of a live store, read from a private copy (a read-only open in place still writes its -shm). */
function sqliteRows<T>(file: string, table: string, sql: string): T[] {
  try {
    return readStoreCopy(file, (db) => {
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) return []
      return db.prepare(sql).all() as T[]
    })
  } catch {
    return []
  }
}

function parseEnvFileSafe(file: string): Array<{name: string; line: number}> {
  try {
    return parseEnvFile(readFileSync(file, 'utf8'))
  } catch {
    return []
  }
}
