import {chmodSync, mkdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {ProcessRunner} from '../system/process-runner.js'
import {isObject, type JsonObject} from './config.js'
import {cliStartHint, type OpenClawCli} from './version.js'

/**
 * The one runner of OpenClaw's own `openclaw security audit --json [--deep]` (contain's re-check,
 * collect's volatile facts). With `scratch`, it runs on a mirror instead of the real state dir:
 * measured with openclaw 2026.9.6, the CLI writes into state/openclaw.sqlite (and a CLI logger start
 * prunes /tmp/openclaw logs older than 24 h) — the mirror holds the merged config (logging.file
 * pointed into the scratch) and the state dir's mode, with HOME and TMPDIR in the scratch too.
 */

export interface AuditFinding {
  checkId: string
  severity: string
  title: string
}

export interface AuditRun {
  /** The CLI started (its report may still not parse: see json). */
  ran: boolean
  reason?: string
  version?: string
  exitCode?: number
  timedOut?: boolean
  durationMs?: number
  /** The report as OpenClaw printed it, secrets masked (undefined when it did not parse). */
  json?: unknown
  summary?: {critical: number; warn: number; info: number}
  findings: AuditFinding[]
  /** Last lines of the output when no report parsed, secrets masked. */
  stderrTail?: string
}

export interface AuditRequest {
  cli: OpenClawCli | undefined
  runner: ProcessRunner
  env: NodeJS.ProcessEnv
  stateDir: string
  configPath: string
  /** The loaded config (needed for the mirror). */
  config?: JsonObject
  deep?: boolean
  timeoutMs?: number
  /** Masks secrets in anything kept from the output. */
  redact: (s: string) => string
  /** Run on a mirror in this private dir (removed by the caller) instead of the real state dir. */
  scratch?: string
}

export async function runSecurityAudit(req: AuditRequest): Promise<AuditRun> {
  const {cli} = req
  if (!cli)
    return {ran: false, findings: [], reason: 'no openclaw CLI found (set IR_OPENCLAW_BIN or put openclaw on PATH)'}
  let env: NodeJS.ProcessEnv
  let cwd: string | undefined
  if (req.scratch) {
    if (!req.config)
      return {ran: false, findings: [], reason: 'the config did not load: nothing to audit', version: cli.version}
    env = mirrorEnv(req, req.scratch, req.config)
    cwd = req.scratch
  } else {
    env = {...req.env, OPENCLAW_STATE_DIR: req.stateDir, OPENCLAW_CONFIG_PATH: req.configPath, NO_COLOR: '1'}
  }
  const started = Date.now()
  const args = [...cli.args, 'security', 'audit', ...(req.deep ? ['--deep'] : []), '--json']
  const r = await req.runner.run(cli.command, args, {timeoutMs: req.timeoutMs ?? 120_000, env, cwd})
  if (r.notFound) return {ran: false, findings: [], reason: `could not start ${cli.command}`, version: cli.version}
  const out: AuditRun = {
    ran: true,
    findings: [],
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    durationMs: Date.now() - started,
    version: cli.version,
  }
  const parsed = parseReport(r.stdout, req.redact)
  // OpenClaw exits 0 after printing a report, whatever it found; anything else is a failed audit, even
  // with JSON on stdout (a read-only state dir gives `{"ok":false,"error":{…}}` and exit 1).
  const report = r.exitCode === 0 && !r.timedOut && parsed && isAuditReport(parsed) ? parsed : undefined
  if (!report) {
    out.stderrTail = req.redact(`${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-20).join('\n'))
    const first = out.stderrTail.split('\n').find((l) => l.trim()) ?? ''
    const said =
      parsed && isObject(parsed.error) && typeof parsed.error.message === 'string' ? parsed.error.message : first
    out.reason = `openclaw security audit gave no report (exit ${r.exitCode ?? '?'}${r.timedOut ? ', timed out' : ''}): ${said.slice(0, 200)}${cliStartHint(said)}`
    return out
  }
  out.json = report
  out.summary = isObject(report.summary) ? (report.summary as AuditRun['summary']) : undefined
  out.findings = (Array.isArray(report.findings) ? report.findings.filter(isObject) : []).map((f) => ({
    checkId: String(f.checkId),
    severity: String(f.severity),
    title: String(f.title ?? ''),
  }))
  return out
}

/** What OpenClaw's audit prints: counts per severity and the findings (not an error object). */
function isAuditReport(v: JsonObject): boolean {
  const sum = v.summary
  return (
    isObject(sum) && ['critical', 'warn', 'info'].every((k) => typeof sum[k] === 'number') && Array.isArray(v.findings)
  )
}

/** The report object: `--fix` nests it under `report`, plain `--json` prints it (after any log lines). */
function parseReport(stdout: string, redact: (s: string) => string): JsonObject | undefined {
  const start = stdout.indexOf('{')
  if (start < 0) return undefined
  try {
    const v = JSON.parse(redact(stdout.slice(start))) as unknown
    if (!isObject(v)) return undefined
    return isObject(v.report) ? v.report : v
  } catch {
    return undefined
  }
}

function mirrorEnv(req: AuditRequest, root: string, config: JsonObject): NodeJS.ProcessEnv {
  const state = path.join(root, 'state')
  const home = path.join(root, 'home')
  const tmp = path.join(root, 'tmp')
  for (const d of [root, state, home, tmp, path.join(root, 'logs')]) mkdirSync(d, {recursive: true, mode: 0o700})
  copyMode(req.stateDir, state)
  const mirrorConfig = structuredClone(config)
  const logging = (isObject(mirrorConfig.logging) ? mirrorConfig.logging : {}) as JsonObject
  logging.file = path.join(root, 'logs', 'openclaw-audit.log')
  mirrorConfig.logging = logging
  const configPath = path.join(state, path.basename(req.configPath))
  writeFileSync(configPath, JSON.stringify(mirrorConfig, null, 2) + '\n', {mode: 0o600})
  copyMode(req.configPath, configPath)
  const env: NodeJS.ProcessEnv = {
    PATH: req.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    OPENCLAW_HOME: home,
    OPENCLAW_STATE_DIR: state,
    OPENCLAW_CONFIG_PATH: configPath,
    TMPDIR: tmp,
    OPENCLAW_NO_AUTO_UPDATE: '1',
    OPENCLAW_DISABLE_BONJOUR: '1',
    NO_COLOR: '1',
    DO_NOT_TRACK: '1',
  }
  for (const k of ['LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME', 'OPENCLAW_GATEWAY_PORT', 'OPENCLAW_PROFILE'])
    if (req.env[k]) env[k] = req.env[k]
  return env
}

function copyMode(from: string, to: string): void {
  try {
    chmodSync(to, statSync(from).mode & 0o777)
  } catch {
    /* keep the private default */
  }
}
