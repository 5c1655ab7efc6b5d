import {statSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {ExitCode, IrError} from '../errors.js'
import {getPath, loadConfig, type JsonObject} from '../openclaw/config.js'
import {applyConfigEdit, fingerprint, maskSecrets, planConfigEdit, type EditPlan} from '../openclaw/config-edit.js'
import {gatewayLogFiles} from '../openclaw/files.js'
import {probeGateway} from '../openclaw/gateway.js'
import {
  lockdownChanges,
  selectEdits,
  type DmPolicy,
  type LockdownEdit,
  type LockdownId,
} from '../openclaw/lockdown-edits.js'
import {isTestedVersion} from '../openclaw/config-keys.js'
import {UNCONFIRMED, describeCli, validateConfigWithCli, type TargetCli} from '../openclaw/openclaw-cli.js'
import {gatewayApplied} from '../openclaw/runtime-config.js'
import {configVersion} from '../openclaw/version.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import type {ProcessRunner} from '../system/process-runner.js'
import {newSecret} from '../system/secret-generator.js'
import {askEach, nothingToWrite} from './shared/ask-changes.js'
import {configEditOptions, targetCli} from './target-cli.js'

const Params = z
  .object({
    /** groupPolicy for every channel: "disabled" (default) or "allowlist" (what `security audit --fix` picks). */
    groupPolicy: z.enum(['disabled', 'allowlist']).default('disabled'),
    /** Reset Tailscale serve/funnel on this host when the config used them and they are active. */
    resetTailscale: z.boolean().default(true),
    /** How long a running gateway (--keep-running) may take to apply the edit. */
    applyTimeoutSeconds: z.number().positive().max(600).default(60),
  })
  .strict()
type Params = z.infer<typeof Params>

const DM_POLICIES: DmPolicy[] = ['disabled', 'pairing', 'allowlist']

interface LockdownPlanData {
  edit: EditPlan
  edits: LockdownEdit[]
  tailscale: boolean
  tokenFingerprint?: string
}

/**
 * One config edit that closes every inbound surface (DMs, "*", groups, mentions, bind, Tailscale,
 * mDNS, real-IP trust, HTTP extras, elevated, exec, hooks, browser, auth "none"). Each sub-change is
 * asked in an interactive run (yes = the safe choice); the diff is shown before anything is written.
 * The edit keeps comments, is atomic, backed up in the case and validated (`openclaw config
 * validate` when found); a rejected edit puts the original bytes back and fails the step.
 */
export const lockdown: ActionDefinition<Params> = {
  name: 'lockdown',
  description:
    'Lock down inbound surfaces in the OpenClaw config (one validated, undoable edit, shown as a diff first).',
  params: Params,
  mutates: true,
  async plan(ctx, params) {
    const dmPolicy = dmPolicyVar(ctx.vars.dmPolicy)
    if (!ctx.install.configExists) {
      return {
        noop: true,
        summary: `no config file at ${ctx.install.configPath}: nothing to lock down (OpenClaw refuses to start without one)`,
        lines: [],
      }
    }
    // A broken config throws here with file:line:col; nothing is written.
    const loaded = loadConfig(ctx.install.configPath, {env: ctx.env})
    const cli = targetCli(ctx)
    const version = cli?.version ?? configVersion(loaded.value)
    const changes = lockdownChanges(loaded.value, {dmPolicy, groupPolicy: params.groupPolicy, newSecret, version})
    const answers = await askEach(ctx, changes)
    const {declined} = answers
    const accepted = new Set<LockdownId>(answers.accepted.map((c) => c.id))
    const edits = selectEdits(changes, accepted)
    const tailscale = accepted.has('tailscale') && params.resetTailscale ? await tailscaleActive(ctx.runner) : false
    if (edits.length === 0 && !tailscale) return nothingToWrite(declined, 'config already locked down')
    const lines: string[] = []
    const edit = planConfigEdit(loaded, edits)
    for (const f of edit.files) refuseReadOnly(f.file)
    for (const f of edit.files) {
      lines.push(...f.diff)
      if (!f.commentsKept)
        lines.push(`note: ${path.basename(f.file)} is JSON5 beyond JSONC: values are kept, comments cannot be`)
    }
    for (const c of changes.filter((x) => accepted.has(x.id))) lines.push(`lock: ${c.summary}`)
    for (const d of declined) lines.push(`declined: ${d}`)
    if (tailscale)
      lines.push('run: tailscale serve reset   (Serve/Funnel config persists in tailscaled after the gateway stops)')
    const token = edits.find((e) => e.secret && typeof e.value === 'string')?.value as string | undefined
    if (token) {
      lines.push(
        `new gateway token (sha256:${fingerprint(token)}) is written to ${ctx.install.configPath} only — never printed;`,
      )
      lines.push('  hand it to clients with `ir rotate --secrets-out FILE` (a 0600 file), or read it from the config')
    }
    lines.push(
      `check: ${describeCli(cli)}${cli && !isTestedVersion(cli.version) ? ' — a version ir has not been tested on' : ''}`,
    )
    const files = edit.files.map((f) => path.basename(f.file)).join(', ')
    const data: LockdownPlanData = {edit, edits, tailscale, tokenFingerprint: token ? fingerprint(token) : undefined}
    const keys = edit.edits.length
    return {
      noop: false,
      summary: `${keys} key(s) in ${files || 'no file'}${tailscale ? ' + tailscale serve reset' : ''}${declined.length ? ` (${declined.length} declined)` : ''}`,
      lines,
      data,
      question: `${lines.join('\n')}\nWrite this change to ${files}?`,
    }
  },

  async apply(ctx, _params, plan) {
    const data = plan.data as LockdownPlanData
    const editedAtMs = Date.now()
    let detail = 'no config change'
    let files: Array<{path: string; sha256: string; role: 'wrote'}> = []
    let validatedBy: AppliedLockdown['validatedBy']
    let unconfirmed: string | undefined
    if (data.edit.files.length) {
      const cli = targetCli(ctx)
      const applied = await applyConfigEdit(data.edit, configEditOptions(ctx, 'lockdown', cli)).catch(
        async (err: unknown) => {
          // Rejected (the original bytes are back): say so in OpenClaw's words when the original was already invalid.
          if (cli && (err as {code?: string}).code === 'CONFIG_REJECTED') await refuseInvalidConfig(ctx, cli)
          throw err
        },
      )
      files = applied.files.map((f) => ({path: f.path, sha256: f.sha256After, role: 'wrote' as const}))
      validatedBy = applied.validatedBy
      unconfirmed = applied.unconfirmed
      const by =
        applied.validatedBy === 're-parse'
          ? `re-parse only${applied.unconfirmed ? ` (${applied.unconfirmed})` : ''}`
          : describeCli(targetCli(ctx))
      detail = `${data.edit.edits.length} key(s) written to ${applied.files.map((f) => path.basename(f.path)).join(', ')}; validated by ${by}`
      if (data.tokenFingerprint)
        detail += `; new gateway token sha256:${data.tokenFingerprint} is in the config (hand it over with \`ir rotate --secrets-out FILE\`)`
    }
    if (data.tailscale) {
      const r = await ctx.runner.run('tailscale', ['serve', 'reset'], {timeoutMs: 15_000})
      detail +=
        r.exitCode === 0
          ? '; tailscale serve reset'
          : `; tailscale serve reset FAILED (${(r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.exitCode}`})`
    }
    return {
      detail,
      files,
      fingerprints: data.tokenFingerprint ? {'gateway.auth.token': data.tokenFingerprint} : undefined,
      data: {editedAtMs, validatedBy, unconfirmed} satisfies AppliedLockdown,
    }
  },

  async verify(ctx, params, plan, applied) {
    const data = plan.data as LockdownPlanData
    const {editedAtMs, validatedBy, unconfirmed} = applied.data as AppliedLockdown
    const problems: string[] = []
    const notes: string[] = []
    // "Verified" is OpenClaw's word, not ir's: a re-parse alone never verifies.
    if (validatedBy === 're-parse')
      problems.push(`${UNCONFIRMED}: ${unconfirmed ?? describeCli(undefined)}; the file re-parses with the new values`)
    let config: JsonObject | undefined
    try {
      config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
    } catch (err) {
      problems.push(`the config no longer loads: ${(err as Error).message}`)
    }
    if (config) {
      const wrong = data.edits.filter((e) => {
        const got = getPath(config, e.path)
        if (e.secret) return typeof got !== 'string' || fingerprint(got) !== fingerprint(String(e.value))
        return e.remove ? got !== undefined : JSON.stringify(got) !== JSON.stringify(e.value)
      })
      if (wrong.length) problems.push(`re-read config: ${wrong.map((e) => e.path.join('.')).join(', ')} not as written`)
      else notes.push(`re-read: ${data.edits.length} key(s) hold the locked-down values`)
    }
    if (data.tailscale && (await tailscaleActive(ctx.runner))) problems.push('tailscale serve/funnel still active')
    // A gateway that still runs (--keep-running, or a stop that failed) must show it applied the edit.
    const gw = await probeGateway(ctx.install.stateDir, ctx.install.configPath, config, ctx.env, ctx.install.profile)
    if (gw.state === 'up' && data.edit.files.length) {
      const check = await gatewayApplied({
        runner: ctx.runner,
        env: ctx.env,
        stateDir: ctx.install.stateDir,
        configPath: ctx.install.configPath,
        edits: data.edits,
        timeoutMs: params.applyTimeoutSeconds * 1000,
        editedAtMs,
        logFiles: gatewayLogFiles(ctx.install.stateDir, config),
        cli: targetCli(ctx),
      })
      const secrets = data.edits.filter((e) => e.secret && typeof e.value === 'string').map((e) => e.value as string)
      const said = maskSecrets(check.detail, secrets)
      if (check.applied && check.via !== 'rpc config.get')
        problems.push(`running gateway (pid ${gw.pid ?? '?'}): its applied config hash could not be read (${said})`)
      else if (check.applied) notes.push(`running gateway (pid ${gw.pid ?? '?'}): ${said}`)
      else problems.push(`running gateway (pid ${gw.pid ?? '?'}) has NOT applied the lockdown: ${said}`)
    } else if (gw.state === 'down') {
      notes.push('gateway is stopped: the lockdown applies when it starts again')
    }
    return problems.length ? {ok: false, detail: problems.join('; ')} : {ok: true, detail: notes.join('; ')}
  },
}

interface AppliedLockdown {
  editedAtMs: number
  /** Undefined when nothing was written. */
  validatedBy?: 're-parse' | 'openclaw config validate'
  /** Why the target's CLI gave no verdict on the edit. */
  unconfirmed?: string
}

/** A config its own OpenClaw already rejected before ir's edit: the operator sees OpenClaw's words about it. */
async function refuseInvalidConfig(ctx: ActionContext, cli: TargetCli): Promise<void> {
  const v = await validateConfigWithCli(cli, {
    runner: ctx.runner,
    env: ctx.env,
    stateDir: ctx.install.stateDir,
    configPath: ctx.install.configPath,
    redact: (s) => maskSecrets(s),
  })
  if (!v.ok && v.answered) {
    throw new IrError(
      `${ctx.install.configPath} is already invalid for openclaw ${cli.version ?? ''}: ${v.issues.join(' / ')}; the lockdown was not written.`,
      ExitCode.PreconditionFailed,
      ['Fix it by hand (or `openclaw doctor --fix`), then re-run with the same --case.'],
      'CONFIG_INVALID',
    )
  }
}

function dmPolicyVar(v: unknown): DmPolicy {
  if (v === undefined || v === null || v === '') return 'disabled'
  if (typeof v === 'string' && (DM_POLICIES as string[]).includes(v)) return v as DmPolicy
  throw new IrError(
    `--dm-policy "${String(v)}" is not one of ${DM_POLICIES.join(', ')}.`,
    ExitCode.Usage,
    ['Use --dm-policy disabled (default), pairing or allowlist.'],
    'USAGE',
  )
}

/** A config the owner made read-only stays untouched: atomic rename would otherwise replace it anyway. */
function refuseReadOnly(file: string): void {
  const mode = statSync(file).mode & 0o777
  if ((mode & 0o200) === 0) {
    throw new IrError(
      `${file} is read-only (mode ${mode.toString(8).padStart(3, '0')}); nothing was written.`,
      ExitCode.PreconditionFailed,
      [`Make it writable (chmod u+w ${file}) and re-run with the same --case, or lock it down by hand.`],
      'CONFIG_READONLY',
    )
  }
}

/** Tailscale serve/funnel configured on this host (`tailscale serve status --json` not empty). */
async function tailscaleActive(runner: ProcessRunner): Promise<boolean> {
  const r = await runner.run('tailscale', ['serve', 'status', '--json'], {timeoutMs: 10_000})
  if (r.notFound || r.exitCode !== 0) return false
  try {
    const v = JSON.parse(r.stdout || '{}') as unknown
    return typeof v === 'object' && v !== null && Object.keys(v).length > 0
  } catch {
    return false
  }
}
