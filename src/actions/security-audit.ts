import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {sha256} from '../case/journal.js'
import {errorMessage} from '../errors.js'
import {isObject, loadConfig, type JsonObject} from '../openclaw/config.js'
import {maskSecrets} from '../openclaw/config-edit.js'
import {configExposure, permissionExposure} from '../openclaw/exposure.js'
import {UNCONFIRMED, describeCli} from '../openclaw/openclaw-cli.js'
import {runSecurityAudit, type AuditFinding, type AuditRun} from '../openclaw/security-audit-cli.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {SECRET_KEY_NAME} from '../system/secret-vocabulary.js'
import {targetCli} from './target-cli.js'

const Params = z
  .object({
    /** `--deep`: also probe the running gateway (only useful with --keep-running). */
    deep: z.boolean().default(false),
    timeoutSeconds: z.number().positive().max(600).default(120),
  })
  .strict()
type Params = z.infer<typeof Params>

export interface AuditOutcome extends AuditRun {
  file?: string
  fileSha256?: string
  /** The config the audit judged. */
  configSha256?: string
  /** The CLI that ran it (or why none did), for the case. */
  cli: string
  criticals: AuditFinding[]
  /** ir's own exposure model after containment (always computed, shown, never the verdict). */
  irCriticals: Array<{checkId: string; title: string}>
}

/**
 * Verify and report: record the target's own `openclaw security audit --json` in the case (secrets
 * masked) and list the critical findings that remain; ir's own exposure model is shown beside it.
 * Only OpenClaw's audit can verify: without its CLI the step is not verified. Read-only on the target.
 */
export const securityAudit: ActionDefinition<Params> = {
  name: 'security-audit',
  description: 'Record `openclaw security audit --json` in the case and list the critical findings that remain.',
  params: Params,
  mutates: false,
  async plan(ctx, params) {
    const cli = targetCli(ctx)
    const lines = [
      cli
        ? `run: openclaw security audit --json${params.deep ? ' --deep' : ''} (${describeCli(cli)}), saved as security-audit.json in the case`
        : `${describeCli(cli)}: only ir's own exposure check runs, and the run cannot be verified`,
    ]
    return {
      noop: false,
      summary: cli
        ? 'run openclaw security audit and list remaining criticals'
        : 'list remaining critical exposure (no openclaw CLI found)',
      lines,
    }
  },
  async apply(ctx, params) {
    const outcome = await runAudit(ctx, params)
    const names = remainingCriticals(outcome)
    const own = outcome.irCriticals.map((f) => f.checkId)
    const parts: string[] = []
    if (outcome.json) {
      parts.push(
        `openclaw security audit: ${outcome.summary?.critical ?? 0} critical, ${outcome.summary?.warn ?? 0} warn (saved ${path.basename(outcome.file ?? '')})`,
      )
      parts.push(names.length ? `critical findings remain: ${names.join(', ')}` : 'no critical finding remains')
    } else {
      parts.push(outcome.reason ?? 'openclaw security audit did not run')
      parts.push(
        own.length
          ? `ir's check: critical exposure remains: ${own.join(', ')}`
          : "ir's check: no critical exposure remains",
      )
    }
    const files: Array<{path: string; sha256: string; role: 'collected' | 'read'}> =
      outcome.file && outcome.fileSha256 ? [{path: outcome.file, sha256: outcome.fileSha256, role: 'collected'}] : []
    if (outcome.configSha256) files.push({path: ctx.install.configPath, sha256: outcome.configSha256, role: 'read'})
    return {detail: parts.join('; '), files, data: outcome}
  },
  async verify(_ctx, _params, _plan, applied) {
    const o = applied.data as AuditOutcome
    if (!o.json) {
      const own = o.irCriticals.map((f) => f.checkId)
      const seen = own.length ? `ir's check sees ${own.join(', ')}` : "ir's check sees no critical exposure"
      return {ok: false, detail: `${UNCONFIRMED}: ${o.reason ?? o.cli}; ${seen}`}
    }
    const remaining = remainingCriticals(o)
    return remaining.length
      ? {ok: false, detail: `${remaining.length} critical finding(s) remain: ${remaining.join(', ')}`}
      : {ok: true, detail: `no critical finding (${o.cli})`}
  },
}

/** OpenClaw's criticals, and a config ir cannot read (OpenClaw may audit its defaults instead). */
function remainingCriticals(o: AuditOutcome): string[] {
  const broken = o.irCriticals.filter((f) => f.checkId === 'config.unreadable').map((f) => f.checkId)
  return [...broken, ...o.criticals.map((f) => f.checkId)]
}

async function runAudit(ctx: ActionContext, params: Params): Promise<AuditOutcome> {
  let config: JsonObject | undefined
  let configText = ''
  let unreadable: {checkId: string; title: string} | undefined
  try {
    const loaded = loadConfig(ctx.install.configPath, {env: ctx.env})
    config = loaded.value
    configText = loaded.text
  } catch (err) {
    // An unreadable config cannot be shown to be locked down: that is itself critical.
    unreadable = {checkId: 'config.unreadable', title: `config not readable, exposure unknown: ${errorMessage(err)}`}
  }
  const irCriticals = [
    ...(unreadable ? [unreadable] : []),
    ...(config ? configExposure(config) : []),
    ...permissionExposure(ctx.install.stateDir, ctx.install.configPath),
  ]
    .filter((e) => !('severity' in e) || e.severity === 'critical')
    .map((e) => ({checkId: e.checkId, title: e.title}))
  const cli = targetCli(ctx)
  const run = await runSecurityAudit({
    cli,
    runner: ctx.runner,
    env: ctx.env,
    stateDir: ctx.install.stateDir,
    configPath: ctx.install.configPath,
    deep: params.deep,
    timeoutMs: params.timeoutSeconds * 1000,
    redact: (s) => maskSecrets(s, secretsOf(config)),
  })
  const outcome: AuditOutcome = {...run, cli: describeCli(cli), criticals: [], irCriticals}
  if (!run.json) return outcome
  const masked = JSON.stringify(run.json, null, 2) + '\n'
  const file = path.join(ctx.case.dir, 'security-audit.json')
  writeFileSync(file, masked, {mode: 0o600})
  return {
    ...outcome,
    file,
    fileSha256: sha256(masked),
    configSha256: sha256(configText),
    criticals: run.findings.filter((f) => f.severity === 'critical'),
  }
}

/** String values at secret-looking keys of the config: masked wherever they might be echoed. */
export function secretsOf(config: JsonObject | undefined): string[] {
  const out: string[] = []
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string') {
      if (SECRET_KEY_NAME.test(key) && v.length >= 4 && !/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(v)) out.push(v)
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key))
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, k)
  }
  walk(config, '')
  return out
}
