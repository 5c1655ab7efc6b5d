import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {normalizeHooksPath} from '../openclaw/auth-probe.js'
import {fingerprint} from '../openclaw/config-edit.js'
import {loadConfig} from '../openclaw/config.js'
import {probeGateway} from '../openclaw/gateway.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {
  rotateRunOf,
  summarize,
  UNDECIDED,
  proveEntries,
  type ProveData,
  type RotationEntry,
} from './shared/rotate-run.js'

const Params = z
  .object({
    /** How long to poll for the hot reload (measured: < 1.5 s). */
    timeoutSeconds: z.number().min(1).max(120).default(10),
  })
  .strict()

/**
 * Step 4 of rotate: ask the running gateway. Old value 401 and new value 404 on `/tools/invoke`
 * (and on the hooks path for the hooks token), polling while the hot reload applies. A gateway
 * that is down gets "verify on next start" in the case; an unreachable one or an undecided answer
 * fails the step (exit 3) unless --allow-unverified. "Old still accepted" hands over to the
 * restart step.
 */
export const rotateProve: ActionDefinition<z.infer<typeof Params>> = {
  name: 'rotate-prove',
  description:
    'Prove the rotation on the running gateway: old secret rejected (401), new accepted (404), over HTTP paths that ' +
    'never act.',
  params: Params,
  mutates: false,
  async plan(ctx) {
    const entries = provable(ctx)
    const pending = rotateRunOf(ctx)
      .vault.all()
      .filter((e) => e.state === 'manual')
    if (!entries.length) {
      return {
        noop: true,
        summary: pending.length
          ? `nothing ir can prove now: ${pending.map((e) => e.key).join(', ')} wait for a manual step`
          : 'nothing rotated to prove',
        lines: [],
      }
    }
    return {
      noop: false,
      summary: `prove ${entries.map((e) => e.key).join(', ')} on the running gateway`,
      lines: entries.flatMap((e) =>
        e.proofTargets.map(
          (t) =>
            `${e.key}: ${t.kind === 'gateway' ? 'POST /tools/invoke (nonexistent tool)' : `POST ${normalizeHooksPath(t.path)}`}: old must get 401, new 404`,
        ),
      ),
    }
  },
  async apply(ctx, params) {
    const entries = provable(ctx)
    let config
    try {
      config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
    } catch {
      /* port falls back to lock/env/default */
    }
    const gw = await probeGateway(ctx.install.stateDir, ctx.install.configPath, config, ctx.env, ctx.install.profile)
    if (gw.state === 'down') {
      const file = recordVerifyOnNextStart(ctx, entries, gw.port)
      const data: ProveData = {state: 'down', results: [], restartNeeded: false, verified: false, unverified: true}
      rotateRunOf(ctx).prove = data
      return {
        detail: `gateway is not running: not verified now; "verify on next start" recorded in ${path.basename(file)}`,
        data,
      }
    }
    // An environment variable cannot reach a running process: one look, then the restart step.
    const results = await proveEntries(entries, gw.port, (e) => (e.needsRestart ? 1500 : params.timeoutSeconds * 1000))
    const data = summarize(results)
    rotateRunOf(ctx).prove = data
    const head = data.verified
      ? 'proven'
      : data.restartNeeded
        ? 'the old secret is still accepted: a restart is needed'
        : 'NOT proven'
    return {
      detail: `${head}: ${results.map((r) => `${r.key}: ${r.outcome} (${(r.elapsedMs / 1000).toFixed(1)} s)`).join('; ')}`,
      data,
      fingerprints: Object.fromEntries(entries.map((e) => [`${e.key}:new`, fingerprint(e.newValue)])),
    }
  },
  async verify(ctx, _params, _plan, applied) {
    const data = applied.data as ProveData
    if (data.state === 'down')
      return {ok: true, detail: 'nothing to ask while the gateway is down (verify on next start)'}
    const undecided = data.results.filter((r) => UNDECIDED.includes(r.outcome))
    if (!undecided.length)
      return {
        ok: true,
        detail: data.restartNeeded
          ? 'answers are clear; the restart step handles the old secret'
          : 'old rejected, new accepted',
      }
    if (ctx.vars.allowUnverified)
      return {
        ok: true,
        detail: `not verified (${undecided.map((r) => `${r.key}: ${r.outcome}`).join('; ')}), accepted by --allow-unverified`,
      }
    return {ok: false, detail: undecided.map((r) => `${r.key}: ${r.detail}`).join('; ')}
  },
}

function provable(ctx: ActionContext): RotationEntry[] {
  return rotateRunOf(ctx)
    .vault.all()
    .filter((e) => e.state === 'written' && e.proofTargets.length > 0)
}

function recordVerifyOnNextStart(ctx: ActionContext, entries: RotationEntry[], port: number): string {
  const file = path.join(ctx.case.dir, 'verify-on-next-start.md')
  const lines = [
    '# Verify on next start',
    '',
    `The gateway of ${ctx.install.stateDir} was not running when ir rotated its secrets, so nothing could be proven.`,
    'After it starts, check each value (take the values from the --secrets-out file; never type them on a shared ' +
      'shell history):',
    '',
  ]
  for (const e of entries) {
    for (const t of e.proofTargets) {
      const url =
        t.kind === 'gateway'
          ? `http://127.0.0.1:${port}/tools/invoke`
          : `http://127.0.0.1:${port}${normalizeHooksPath(t.path)}`
      const body = t.kind === 'gateway' ? `'{"tool":"__ir_probe_nonexistent__"}'` : `'{}'`
      lines.push(
        `- ${e.key} (new «sha256:${fingerprint(e.newValue)}»${e.oldValue ? `, old «sha256:${fingerprint(e.oldValue)}»` : ''}):`,
        `  \`curl -s -o /dev/null -w '%{http_code}\\n' -X POST ${url} -H "Authorization: Bearer $VALUE" -H 'content-type: application/json' -d ${body}\``,
        '  old value → 401, new value → 404.',
      )
    }
  }
  lines.push(
    '',
    'Or re-run `ir rotate --case ' + ctx.case.id + '` with the gateway up (it rotates again and proves the result).',
    '',
  )
  writeFileSync(file, lines.join('\n'), {mode: 0o600})
  ctx.case.journal.append({
    step: 'prove',
    action: 'rotate-prove',
    status: 'verify-on-next-start',
    detail: `gateway down; instructions in ${file}`,
  })
  return file
}
