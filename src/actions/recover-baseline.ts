import path from 'node:path'

import {z} from 'zod'

import {getPath, loadConfig, type JsonObject} from '../openclaw/config.js'
import {applyConfigEdit, fingerprint, planConfigEdit, type EditPlan} from '../openclaw/config-edit.js'
import {channelScopes, gatewayAuthMode} from '../openclaw/config-shape.js'
import {lockdownChanges, type LockdownChange, type LockdownId} from '../openclaw/lockdown-edits.js'
import {describeCli, UNCONFIRMED} from '../openclaw/openclaw-cli.js'
import {configVersion} from '../openclaw/version.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {newSecret} from '../system/secret-generator.js'
import {sandboxChanges, sandboxProblem, withEdits, type SandboxChange} from './recover-sandbox.js'
import {askEach, nothingToWrite} from './shared/ask-changes.js'
import {configEditOptions, targetCli} from './target-cli.js'

const Params = z.object({}).strict()

/**
 * The secure baseline of OpenClaw's security guide (docs/gateway/security/hardened-baseline.md, checked
 * against openclaw 2026.9.6 `config validate`): loopback bind, token auth with a strong token, DMs by
 * pairing (or allowlist), groups by allowlist and answering only when mentioned, one DM session per
 * channel peer, mDNS minimal, file-log redaction on (builds that still have the switch), and the
 * lockdown levers that stay off (elevated and exec, real-IP trust, extra HTTP APIs, Funnel), and every
 * agent that serves others sandboxed with the guide's tools denied (recover-sandbox.ts). Nothing
 * contain closed is re-opened: browser, hooks and disabled channels stay as they are.
 */

/** Tokens shorter than this, or known placeholders, are replaced (OpenClaw's own are 48 hex characters). */
const MIN_TOKEN = 32
const PLACEHOLDER =
  /^(undefined|null|changeme|change-me|replace-with.*|your[-_].*|__OPENCLAW_REDACTED__|\*+|\[redacted\])$/i

export type BaselineId = LockdownId | 'dmScope' | 'redaction' | 'token' | `sandbox:${string}`

export interface BaselineChange extends Omit<LockdownChange, 'id'> {
  id: BaselineId
  /** A sandbox change: the agent OpenClaw must then report sandboxed. */
  sandbox?: {agentId: string; access: 'none' | 'ro'}
}

const KEPT_OFF: LockdownId[] = ['bind', 'proxy', 'http', 'elevated', 'exec', 'auth']

export function baselineChanges(
  config: JsonObject,
  opts: {dmPolicy: 'pairing' | 'allowlist'; newSecret: () => string; version?: string},
): BaselineChange[] {
  // The target's version picks the form of the keys written (tools.exec.mode or .security), as contain's.
  const lock = lockdownChanges(config, {
    dmPolicy: 'disabled',
    groupPolicy: 'allowlist',
    newSecret: opts.newSecret,
    version: opts.version,
  })
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
  // Judged on the config as found and as the baseline leaves it (contain closed groups the baseline re-opens).
  const after = withEdits(
    config,
    out.flatMap((c) => c.edits),
  )
  for (const s of sandboxChanges(config, [config, after])) out.push(sandboxQuestion(s))
  return out
}

function sandboxQuestion(s: SandboxChange): BaselineChange {
  const who = s.reach === 'anyone' ? 'anyone' : 'other people'
  const why = s.why.slice(0, 2).join('; ') + (s.why.length > 2 ? `; +${s.why.length - 2} more` : '')
  return {
    id: `sandbox:${s.agentId}`,
    question: `Sandbox agent "${s.agentId}", which ${who} can reach (${why}): ${s.edits.map((e) => e.line).join('; ')}?`,
    summary: `agent ${s.agentId} sandboxed (${s.reach === 'anyone' ? 'no workspace, no file or shell tools' : 'workspace at most read-only, no write or shell tools'})`,
    edits: s.edits,
    sandbox: {agentId: s.agentId, access: s.access},
  }
}

/** Sandboxed tools run in Docker unless another backend is set: say so when it is not there (they fail closed). */
async function dockerMissing(ctx: ActionContext, config: JsonObject): Promise<boolean> {
  const backend = getPath(config, ['agents', 'defaults', 'sandbox', 'backend'])
  if (backend !== undefined && backend !== 'docker') return false
  const r = await ctx.runner.run('docker', ['version', '--format', '{{.Server.Version}}'], {timeoutMs: 5000})
  return r.notFound === true || r.exitCode !== 0
}

function weakToken(t: string): boolean {
  return /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(t) ? false : t.length < MIN_TOKEN || PLACEHOLDER.test(t)
}

interface BaselinePlanData {
  edit: EditPlan
  edits: Array<BaselineChange['edits'][number]>
  tokenFingerprint?: string
  sandboxed: Array<NonNullable<BaselineChange['sandbox']>>
}

export const recoverBaseline: ActionDefinition<z.infer<typeof Params>> = {
  name: 'recover-baseline',
  description:
    "Bring the config to OpenClaw's secure baseline (one validated, undoable edit; each sub-change asked, shown as a " +
    'diff).',
  params: Params,
  mutates: true,
  async plan(ctx) {
    if (!ctx.install.configExists)
      return {noop: true, summary: `no config file at ${ctx.install.configPath}: nothing to recover`, lines: []}
    const loaded = loadConfig(ctx.install.configPath, {env: ctx.env})
    const dmPolicy = ctx.vars.dmPolicy === 'allowlist' ? 'allowlist' : 'pairing'
    const version = targetCli(ctx)?.version ?? configVersion(loaded.value)
    const changes = baselineChanges(loaded.value, {dmPolicy, newSecret, version})
    const sandboxing = changes.some((c) => c.id.startsWith('sandbox:'))
    const noDocker = sandboxing && (await dockerMissing(ctx, loaded.value))
    const note = 'docker is not available here: sandboxed tool calls fail closed until it is'
    const asked = noDocker
      ? changes.map((c) => (c.id.startsWith('sandbox:') ? {...c, question: `${c.question} (${note})`} : c))
      : changes
    const {accepted, declined} = await askEach(ctx, asked)
    const edits = accepted.flatMap((c) => c.edits)
    if (!edits.length) return nothingToWrite(declined, 'config already on the baseline')
    const edit = planConfigEdit(loaded, edits)
    const lines = edit.files.flatMap((f) => f.diff)
    for (const c of accepted) lines.push(`baseline: ${c.summary}`)
    for (const d of declined) lines.push(`declined: ${d}`)
    if (noDocker && accepted.some((c) => c.id.startsWith('sandbox:'))) lines.push(`note: ${note}`)
    const token = edits.find((e) => e.secret && typeof e.value === 'string')?.value as string | undefined
    const files = edit.files.map((f) => path.basename(f.file)).join(', ')
    const data: BaselinePlanData = {
      edit,
      edits,
      tokenFingerprint: token ? fingerprint(token) : undefined,
      sandboxed: accepted.flatMap((c) => (c.sandbox ? [c.sandbox] : [])),
    }
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
    const applied = await applyConfigEdit(data.edit, configEditOptions(ctx, 'baseline'))
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
    const cli = targetCli(ctx)
    if (validatedBy !== 'openclaw config validate' || !cli)
      return {ok: false, detail: `${UNCONFIRMED}: ${describeCli(cli)}`}
    const req = {runner: ctx.runner, env: ctx.env, stateDir: ctx.install.stateDir, configPath: ctx.install.configPath}
    const problems: string[] = []
    for (const want of data.sandboxed) {
      const p = await sandboxProblem(cli, want, req)
      if (p) problems.push(p)
    }
    if (problems.length) return {ok: false, detail: problems.join('; ')}
    const agents = data.sandboxed.map((s) => s.agentId)
    return {
      ok: true,
      detail: `openclaw config validate accepted it; re-read: ${data.edits.length} key(s) as written${agents.length ? `; openclaw sandbox explain: ${agents.join(', ')} sandboxed` : ''}`,
    }
  },
}
