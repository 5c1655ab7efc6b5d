import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {sha256} from '../case/journal.js'
import {errorMessage} from '../errors.js'
import {isObject, loadConfig, type JsonObject} from '../openclaw/config.js'
import {maskSecrets} from '../openclaw/config-edit.js'
import {configExposure, permissionExposure} from '../openclaw/exposure.js'
import {findOpenClawCli} from '../openclaw/version.js'
import type {ActionContext, ActionDefinition} from '../playbook/types.js'

const Params = z
  .object({
    /** `--deep`: also probe the running gateway (only useful with --keep-running). */
    deep: z.boolean().default(false),
    timeoutSeconds: z.number().positive().max(600).default(120),
  })
  .strict()
type Params = z.infer<typeof Params>

export interface AuditFinding {
  checkId: string
  severity: string
  title: string
}

export interface AuditOutcome {
  /** OpenClaw's own audit ran and parsed. */
  ran: boolean
  file?: string
  fileSha256?: string
  /** The config the audit judged. */
  configSha256?: string
  summary?: {critical: number; warn: number; info: number}
  criticals: AuditFinding[]
  /** ir's own exposure model after containment (always computed). */
  irCriticals: Array<{checkId: string; title: string}>
  problem?: string
}

/**
 * Verify and report: re-read the config and modes with ir's own exposure model, and when an
 * `openclaw` CLI is found record `openclaw security audit --json` in the case (secrets masked) and
 * list the critical findings that remain. Read-only on the target.
 */
export const securityAudit: ActionDefinition<Params> = {
  name: 'security-audit',
  description: 'Record `openclaw security audit --json` in the case and list the critical findings that remain.',
  params: Params,
  mutates: false,
  async plan(ctx, params) {
    const cli = findOpenClawCli(ctx.env)
    const lines = [
      cli
        ? `run: openclaw security audit --json${params.deep ? ' --deep' : ''} (openclaw ${cli.version ?? '?'}), saved as security-audit.json in the case`
        : "no openclaw CLI found: only ir's own exposure check runs",
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
    const names = outcome.criticals.map((f) => f.checkId)
    const own = outcome.irCriticals.map((f) => f.checkId)
    const parts: string[] = []
    if (outcome.ran) {
      parts.push(
        `openclaw security audit: ${outcome.summary?.critical ?? 0} critical, ${outcome.summary?.warn ?? 0} warn (saved ${path.basename(outcome.file ?? '')})`,
      )
      parts.push(names.length ? `critical findings remain: ${names.join(', ')}` : 'no critical finding remains')
    } else {
      parts.push(outcome.problem ?? 'openclaw security audit did not run')
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
  async verify(ctx, _params, _plan, applied) {
    const o = applied.data as AuditOutcome
    if (o.problem && findOpenClawCli(ctx.env)) return {ok: false, detail: o.problem}
    const broken = o.irCriticals.filter((f) => f.checkId === 'config.unreadable').map((f) => f.checkId)
    const remaining = [
      ...broken,
      ...(o.ran
        ? o.criticals.map((f) => f.checkId)
        : o.irCriticals.map((f) => f.checkId).filter((id) => id !== 'config.unreadable')),
    ]
    return remaining.length
      ? {ok: false, detail: `${remaining.length} critical finding(s) remain: ${remaining.join(', ')}`}
      : {ok: true, detail: 'no critical finding'}
  },
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
  const outcome: AuditOutcome = {ran: false, criticals: [], irCriticals}
  const cli = findOpenClawCli(ctx.env)
  if (!cli) return {...outcome, problem: 'no openclaw CLI found (set IR_OPENCLAW_BIN or put openclaw on PATH)'}
  const env = {
    ...ctx.env,
    OPENCLAW_STATE_DIR: ctx.install.stateDir,
    OPENCLAW_CONFIG_PATH: ctx.install.configPath,
    NO_COLOR: '1',
  }
  const args = [...cli.args, 'security', 'audit', '--json', ...(params.deep ? ['--deep'] : [])]
  const r = await ctx.runner.run(cli.command, args, {env, timeoutMs: params.timeoutSeconds * 1000})
  const report = parseReport(r.stdout)
  if (!report) {
    return {
      ...outcome,
      problem: `openclaw security audit gave no JSON report (exit ${r.exitCode ?? '?'}${r.timedOut ? ', timed out' : ''}): ${firstLine(maskSecrets(r.stderr || r.stdout, secretsOf(config)))}`,
    }
  }
  const masked = maskSecrets(JSON.stringify(report, null, 2), secretsOf(config)) + '\n'
  const file = path.join(ctx.case.dir, 'security-audit.json')
  writeFileSync(file, masked, {mode: 0o600})
  const findings = Array.isArray(report.findings) ? report.findings.filter(isObject) : []
  const summary = isObject(report.summary) ? (report.summary as AuditOutcome['summary']) : undefined
  return {
    ...outcome,
    ran: true,
    file,
    fileSha256: sha256(masked),
    configSha256: sha256(configText),
    summary,
    criticals: findings
      .filter((f) => f.severity === 'critical')
      .map((f) => ({checkId: String(f.checkId), severity: 'critical', title: String(f.title ?? '')})),
  }
}

function parseReport(stdout: string): JsonObject | undefined {
  const start = stdout.indexOf('{')
  if (start < 0) return undefined
  try {
    const v = JSON.parse(stdout.slice(start)) as unknown
    if (!isObject(v)) return undefined
    // `--fix` shape nests the report; plain `--json` is the report itself.
    return isObject(v.report) ? v.report : v
  } catch {
    return undefined
  }
}

/** String values at secret-looking keys of the config: masked wherever they might be echoed. */
export function secretsOf(config: JsonObject | undefined): string[] {
  const out: string[] = []
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string') {
      if (
        /(token|password|secret|apikey|api_key|privatekey|key)$/i.test(key) &&
        v.length >= 4 &&
        !/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(v)
      )
        out.push(v)
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key))
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, k)
  }
  walk(config, '')
  return out
}

function firstLine(s: string): string {
  return (
    (
      s
        .split('\n')
        .map((l) => l.trim())
        .find(Boolean) ?? ''
    ).slice(0, 200) || errorMessage('no output')
  )
}
