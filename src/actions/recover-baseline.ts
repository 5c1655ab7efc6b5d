import path from 'node:path'

import {z} from 'zod'

import {getPath, loadConfig, type JsonObject} from '../openclaw/config.js'
import {applyConfigEdit, fingerprint, planConfigEdit, type EditPlan} from '../openclaw/config-edit.js'
import {channelScopes, gatewayAuthMode} from '../openclaw/config-shape.js'
import {lockdownChanges, type LockdownChange, type LockdownId} from '../openclaw/lockdown-edits.js'
import {describeCli, UNCONFIRMED} from '../openclaw/openclaw-cli.js'
import type {ActionDefinition} from '../playbook/action-types.js'
import {newSecret} from '../system/secret-generator.js'
import {targetCli} from './target-cli.js'

const Params = z.object({}).strict()

/**
 * The secure baseline of OpenClaw's security guide (docs/gateway/security/hardened-baseline.md, checked
 * against openclaw 2026.9.6 `config validate`): loopback bind, token auth with a strong token, DMs by
 * pairing (or allowlist), groups by allowlist and answering only when mentioned, one DM session per
 * channel peer, mDNS minimal, file-log redaction on (builds that still have the switch), and the
 * lockdown levers that stay off (elevated and exec, real-IP trust, extra HTTP APIs, Funnel). Nothing
 * contain closed is re-opened: browser, hooks and disabled channels stay as they are.
 */

/** Tokens shorter than this, or known placeholders, are replaced (OpenClaw's own are 48 hex characters). */
const MIN_TOKEN = 32
const PLACEHOLDER =
  /^(undefined|null|changeme|change-me|replace-with.*|your[-_].*|__OPENCLAW_REDACTED__|\*+|\[redacted\])$/i

export type BaselineId = LockdownId | 'dmScope' | 'redaction' | 'token'

export interface BaselineChange extends Omit<LockdownChange, 'id'> {
  id: BaselineId
}

const KEPT_OFF: LockdownId[] = ['bind', 'proxy', 'http', 'elevated', 'exec', 'auth']

export function baselineChanges(
  config: JsonObject,
  opts: {dmPolicy: 'pairing' | 'allowlist'; newSecret: () => string},
): BaselineChange[] {
  const lock = lockdownChanges(config, {dmPolicy: 'disabled', groupPolicy: 'allowlist', newSecret: opts.newSecret})
  const byId = (id: LockdownId) => lock.find((c) => c.id === id)
  const out: BaselineChange[] = []
  const q = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v))

  // DMs by pairing (or allowlist) where they are off or open to anyone.
  const dm = channelScopes(config)
    .filter((s) => s.dmPolicy === 'disabled' || s.dmPolicy === 'open')
    .map((s) => ({
      path: s.dmPolicyPath,
      value: opts.dmPolicy,
      line: `${s.dmPolicyPath.join('.')}: ${q(s.dmPolicy)} -> ${q(opts.dmPolicy)}`,
    }))
  if (dm.length)
    out.push({
      id: 'dm',
      question: `DMs by ${opts.dmPolicy} on ${dm.length} channel scope(s) (now off or open to anyone)?`,
      summary: `dmPolicy -> "${opts.dmPolicy}" in ${dm.length} place(s)`,
      edits: dm,
    })
  // "*" out of allow lists (with pairing, "*" would let anyone in); groups by allowlist; mentions required.
  for (const id of ['allowFrom', 'groups', 'mentions'] as const) {
    const c = byId(id)
    if (c) out.push({...c, edits: c.edits.map(({requires: _r, ...e}) => e)})
  }
  const scope = getPath(config, ['session', 'dmScope'])
  if (scope !== 'per-channel-peer' && scope !== 'per-account-channel-peer')
    out.push({
      id: 'dmScope',
      question: `One DM session per channel peer (session.dmScope now ${q(scope)}: DMs of different people share context)?`,
      summary: 'session.dmScope -> "per-channel-peer"',
      edits: [
        {
          path: ['session', 'dmScope'],
          value: 'per-channel-peer',
          line: `session.dmScope: ${q(scope)} -> "per-channel-peer"`,
        },
      ],
    })
  const mdns = getPath(config, ['discovery', 'mdns', 'mode'])
  if (mdns === 'full')
    out.push({
      id: 'mdns',
      question: 'mDNS back to minimal (full mode advertises the CLI path and SSH port)?',
      summary: 'discovery.mdns.mode "full" -> "minimal"',
      edits: [
        {path: ['discovery', 'mdns', 'mode'], value: 'minimal', line: 'discovery.mdns.mode: "full" -> "minimal"'},
      ],
    })
  // The switch only exists up to 2026.7.x (redaction is always on after): never added, only turned back on.
  if (getPath(config, ['logging', 'redactSensitive']) === 'off')
    out.push({
      id: 'redaction',
      question: 'Turn log redaction back on (logging.redactSensitive "off" -> "tools")?',
      summary: 'logging.redactSensitive -> "tools"',
      edits: [
        {path: ['logging', 'redactSensitive'], value: 'tools', line: 'logging.redactSensitive: "off" -> "tools"'},
      ],
    })
  const ts = getPath(config, ['gateway', 'tailscale', 'mode'])
  if (ts === 'funnel') out.push({...byId('tailscale')!, id: 'tailscale'})
  for (const id of KEPT_OFF) {
    const c = byId(id)
    if (c) out.push(c)
  }
  const token = getPath(config, ['gateway', 'auth', 'token'])
  const mode = gatewayAuthMode(config)
  if ((mode === 'token' || mode === undefined) && typeof token === 'string' && weakToken(token))
    out.push({
      id: 'token',
      question: `Replace the weak gateway token (${token.length} characters${PLACEHOLDER.test(token) ? ', a known placeholder' : ''}) with a fresh one?`,
      summary: 'gateway.auth.token -> a fresh 258-bit token',
      edits: [
        {
          path: ['gateway', 'auth', 'token'],
          value: opts.newSecret(),
          secret: true,
          line: 'gateway.auth.token: «weak» -> «new secret»',
        },
      ],
    })
  return out
}

function weakToken(t: string): boolean {
  return /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(t) ? false : t.length < MIN_TOKEN || PLACEHOLDER.test(t)
}

interface BaselinePlanData {
  edit: EditPlan
  edits: Array<BaselineChange['edits'][number]>
  tokenFingerprint?: string
}

export const recoverBaseline: ActionDefinition<z.infer<typeof Params>> = {
  name: 'recover-baseline',
  description:
    "Bring the config to OpenClaw's secure baseline (one validated, undoable edit; each sub-change asked, shown as a diff).",
  params: Params,
  mutates: true,
  async plan(ctx) {
    if (!ctx.install.configExists)
      return {noop: true, summary: `no config file at ${ctx.install.configPath}: nothing to recover`, lines: []}
    const loaded = loadConfig(ctx.install.configPath, {env: ctx.env})
    const dmPolicy = ctx.vars.dmPolicy === 'allowlist' ? 'allowlist' : 'pairing'
    const changes = baselineChanges(loaded.value, {dmPolicy, newSecret})
    const accepted = new Set<string>()
    const declined: string[] = []
    for (const c of changes) {
      const yes = ctx.prompter.interactive && !ctx.dryRun ? await ctx.prompter.confirm(c.question, true) : true
      if (yes) accepted.add(c.id)
      else declined.push(c.summary)
    }
    const edits = changes.filter((c) => accepted.has(c.id)).flatMap((c) => c.edits)
    if (!edits.length)
      return {
        noop: true,
        summary: declined.length ? `nothing to write (${declined.length} declined)` : 'config already on the baseline',
        lines: declined.map((d) => `declined: ${d}`),
      }
    const edit = planConfigEdit(loaded, edits)
    const lines = edit.files.flatMap((f) => f.diff)
    for (const c of changes.filter((x) => accepted.has(x.id))) lines.push(`baseline: ${c.summary}`)
    for (const d of declined) lines.push(`declined: ${d}`)
    const token = edits.find((e) => e.secret && typeof e.value === 'string')?.value as string | undefined
    const files = edit.files.map((f) => path.basename(f.file)).join(', ')
    const data: BaselinePlanData = {edit, edits, tokenFingerprint: token ? fingerprint(token) : undefined}
    return {
      noop: false,
      summary: `${edits.length} key(s) in ${files}${declined.length ? ` (${declined.length} declined)` : ''}`,
      lines,
      data,
      question: `${lines.join('\n')}\nWrite this change to ${files}?`,
    }
  },

  async apply(ctx, _params, plan) {
    const data = plan.data as BaselinePlanData
    const applied = await applyConfigEdit(data.edit, {
      case: ctx.case,
      runner: ctx.runner,
      env: ctx.env,
      stateDir: ctx.install.stateDir,
      configPath: ctx.install.configPath,
      step: 'baseline',
      cli: targetCli(ctx),
    })
    return {
      detail: `${data.edits.length} key(s) written to ${applied.files.map((f) => path.basename(f.path)).join(', ')}; validated by ${applied.validatedBy}${data.tokenFingerprint ? `; new gateway token sha256:${data.tokenFingerprint} (in the config only)` : ''}`,
      files: applied.files.map((f) => ({path: f.path, sha256: f.sha256After, role: 'wrote' as const})),
      fingerprints: data.tokenFingerprint ? {'gateway.auth.token': data.tokenFingerprint} : undefined,
      data: {validatedBy: applied.validatedBy},
    }
  },

  async verify(ctx, _params, plan, applied) {
    const {validatedBy} = applied.data as {validatedBy: string}
    const data = plan.data as BaselinePlanData
    const config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
    const wrong = data.edits.filter((e) =>
      e.secret
        ? fingerprint(String(getPath(config, e.path))) !== fingerprint(String(e.value))
        : JSON.stringify(getPath(config, e.path)) !== JSON.stringify(e.value),
    )
    if (wrong.length)
      return {ok: false, detail: `re-read: ${wrong.map((e) => e.path.join('.')).join(', ')} not as written`}
    // "verified" means the target's own OpenClaw accepted the config, not ir's re-parse.
    if (validatedBy !== 'openclaw config validate')
      return {ok: false, detail: `${UNCONFIRMED}: ${describeCli(targetCli(ctx))}`}
    return {ok: true, detail: `openclaw config validate accepted it; re-read: ${data.edits.length} key(s) as written`}
  },
}
