import {readFileSync} from 'node:fs'

import type {ProcessRunner} from '../system/process-runner.js'
import {getPath, isObject, type JsonObject} from './config.js'
import type {ConfigEdit} from './config-edit.js'
import {findOpenClawCli, type OpenClawCli} from './version.js'

/**
 * Did the *running* gateway apply a config edit (hot reload, or its in-process restart for
 * gateway.* keys)? Asked of the gateway itself over its own RPC: `openclaw gateway call config.get`
 * answers with `configRevisionHash` (the file as it reads it now) and `appliedConfigHash` (what the
 * runtime applied). Equal hashes + the edited values in that snapshot = applied. (OpenClaw
 * 2026.9.6; verified live.) Without a CLI, the gateway's own log lines are the fallback evidence.
 */

export interface AppliedCheck {
  applied: boolean
  detail: string
  /** How it was established. */
  via: 'rpc config.get' | 'gateway log' | 'none'
  attempts: number
}

export interface AppliedCheckOptions {
  runner: ProcessRunner
  env: NodeJS.ProcessEnv
  stateDir: string
  configPath: string
  /** The edits to find in the gateway's snapshot (secret values are redacted there and skipped). */
  edits: ConfigEdit[]
  timeoutMs: number
  /** Gateway log files to search when no CLI is found, and the edit time (ms since epoch). */
  logFiles?: string[]
  editedAtMs?: number
  /** The target's own CLI (default: the one the environment names). */
  cli?: OpenClawCli
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function gatewayApplied(opts: AppliedCheckOptions): Promise<AppliedCheck> {
  const cli = opts.cli ?? findOpenClawCli(opts.env)
  if (!cli) return logEvidence(opts)
  const env = {...opts.env, OPENCLAW_STATE_DIR: opts.stateDir, OPENCLAW_CONFIG_PATH: opts.configPath, NO_COLOR: '1'}
  const deadline = Date.now() + opts.timeoutMs
  let attempts = 0
  let last = 'no answer'
  for (;;) {
    attempts++
    const r = await opts.runner.run(cli.command, [...cli.args, 'gateway', 'call', 'config.get', '--json'], {
      env,
      timeoutMs: 30_000,
    })
    const snap = r.exitCode === 0 ? parseJsonObject(r.stdout) : undefined
    if (!snap) {
      last = r.timedOut
        ? 'config.get timed out'
        : `config.get failed (exit ${r.exitCode ?? '?'}): ${firstLine(r.stderr || r.stdout)}`
    } else {
      const verdict = judgeSnapshot(snap, opts.edits)
      if (verdict.applied) return {applied: true, detail: verdict.detail, via: 'rpc config.get', attempts}
      last = verdict.detail
    }
    if (Date.now() >= deadline) break
    await sleep(1000)
  }
  return {
    applied: false,
    detail: `not applied after ${Math.round(opts.timeoutMs / 1000)} s: ${last}`,
    via: 'rpc config.get',
    attempts,
  }
}

/** One config.get answer: is the edited file what the runtime runs? */
export function judgeSnapshot(snap: JsonObject, edits: ConfigEdit[]): {applied: boolean; detail: string} {
  if (snap.valid !== true) return {applied: false, detail: 'the gateway reads the config as invalid (reload skipped)'}
  const rev = snap.configRevisionHash
  const applied = snap.appliedConfigHash
  const source = isObject(snap.sourceConfig) ? snap.sourceConfig : isObject(snap.config) ? snap.config : undefined
  if (!source) return {applied: false, detail: 'config.get returned no config'}
  const missing = edits
    .filter((e) => !e.secret)
    .filter((e) => {
      const got = getPath(source, e.path)
      return e.remove ? got !== undefined : JSON.stringify(got) !== JSON.stringify(e.value)
    })
  if (missing.length)
    return {applied: false, detail: `the gateway does not see the edit yet (${missing[0]!.path.join('.')})`}
  if (typeof rev !== 'string' || rev !== applied)
    return {applied: false, detail: 'the gateway has not applied the edited config yet (applied hash differs)'}
  return {
    applied: true,
    detail: `the running gateway applied the edited config (config.get: appliedConfigHash = configRevisionHash, ${edits.length} edited key(s) present)`,
  }
}

const RELOAD_LINE = /config hot reload applied|config change requires gateway restart|restarting gateway now/

/** Fallback: the gateway's own reload lines after the edit, in its JSONL file log. */
function logEvidence(opts: AppliedCheckOptions): AppliedCheck {
  const since = opts.editedAtMs ?? 0
  for (const file of opts.logFiles ?? []) {
    let text = ''
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').reverse()) {
      if (!RELOAD_LINE.test(line)) continue
      try {
        const rec = JSON.parse(line) as JsonObject
        const t = Date.parse(String(rec.time ?? (rec._meta as JsonObject | undefined)?.date ?? ''))
        if (Number.isFinite(t) && t >= since) {
          const msg = String(rec['1'] ?? rec.message ?? '').slice(0, 160)
          return {applied: true, detail: `gateway log ${file}: "${msg}"`, via: 'gateway log', attempts: 1}
        }
      } catch {
        /* not a JSON line */
      }
    }
  }
  return {
    applied: false,
    detail: 'no openclaw CLI to ask the running gateway, and no reload line in its log since the edit',
    via: 'none',
    attempts: 0,
  }
}

function parseJsonObject(text: string): JsonObject | undefined {
  const start = text.indexOf('{')
  if (start < 0) return undefined
  try {
    const v = JSON.parse(text.slice(start)) as unknown
    return isObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  ).slice(0, 200)
}
