import {randomBytes} from 'node:crypto'
import os from 'node:os'

import {z} from 'zod'

import {httpProber, waitReady} from '../openclaw/auth-probe.js'
import {getPath, loadConfig, resolveEnvString, type JsonObject} from '../openclaw/config.js'
import {probeGateway} from '../openclaw/gateway.js'
import {openclawHome} from '../openclaw/locate.js'
import {commandLine, restoreCommands, restoreService} from '../openclaw/service-control.js'
import {findServiceDefinitions, serviceMatches, type ServiceDefinition} from '../openclaw/services.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {readServiceChanges} from './stop-gateway.js'

const Params = z.object({readySeconds: z.number().positive().max(600).default(90)}).strict()

interface StartPlan {
  service?: ServiceDefinition
  running?: number
  port: number
}

/**
 * Start the gateway through its service (re-enabled first when contain disabled it) and probe it:
 * /readyz, a wrong token rejected (401), the configured token accepted. Without a service ir never
 * starts a gateway itself: the step is manual and names the command.
 */
export const recoverStart: ActionDefinition<z.infer<typeof Params>> = {
  name: 'recover-start',
  description:
    'Start the gateway through its service, then probe it: ready, a wrong token rejected, the token accepted.',
  params: Params,
  mutates: true,
  async plan(ctx) {
    const audit = [...ctx.results.values()].find((r) => r.action === 'security-audit')
    if (audit && (audit.status !== 'done' || (audit.data as {ran?: boolean} | undefined)?.ran !== true))
      return {
        noop: true,
        summary: "not started: OpenClaw's own audit did not confirm the baseline (see the audit step)",
        lines: [],
      }
    const config = readConfig(ctx)
    const gw = await probeGateway(ctx.install.stateDir, ctx.install.configPath, config, ctx.env, ctx.install.profile)
    const service = serviceOf(ctx)
    const uid = hostUid()
    if (gw.state === 'up')
      return {
        noop: false,
        summary: `gateway already running (pid ${gw.pid ?? '?'}, port ${gw.port}): probe it`,
        lines: ['probe: /readyz, a wrong token, the configured token'],
        data: {running: gw.pid ?? 0, port: gw.port} satisfies StartPlan,
        question: 'Probe the running gateway (a wrong token must be rejected)?',
      }
    const lines = service
      ? restoreCommands(service, uid, true).map((c) => `run: ${commandLine(c)}`)
      : [`no service for ${ctx.install.stateDir}: start it yourself (${startCommand(ctx)}), then re-run`]
    return {
      noop: false,
      summary: service
        ? `start ${service.name} and probe the gateway on port ${gw.port}`
        : 'start the gateway (manual)',
      lines,
      data: {service, port: gw.port} satisfies StartPlan,
      question: `${lines.join('\n')}\nStart the gateway now?`,
    }
  },

  async apply(ctx, params, plan) {
    const data = plan.data as StartPlan
    if (data.running !== undefined) return {detail: `gateway running (pid ${data.running})`, data}
    if (!data.service)
      return {
        status: 'manual',
        detail: `no service for this install: start it yourself with \`${startCommand(ctx)}\`, then \`ir recover --case ${ctx.case.id}\` probes it`,
      }
    const r = await restoreService(data.service, ctx.runner, hostUid(), true)
    ctx.case.journal.append({
      playbook: 'recover',
      step: 'start',
      action: 'recover-start',
      status: r.ok ? 'service started' : 'service start failed',
      detail: r.commands.map((c) => c.detail).join('; '),
    })
    if (!r.ok) throw new Error(`service start failed: ${r.commands.map((c) => c.detail).join('; ')}`)
    const ready = await waitReady(data.port, params.readySeconds * 1000)
    return {detail: `${data.service.name} enabled and started; /readyz ${ready ? '200' : 'no answer'}`, data}
  },

  async verify(ctx, _params, plan) {
    const {port} = plan.data as StartPlan
    const config = readConfig(ctx)
    const target = {kind: 'gateway' as const, port}
    const wrong = await httpProber(target, `ir-wrong-${randomBytes(16).toString('hex')}`)
    if (wrong.verdict !== 'rejected')
      return {
        ok: false,
        detail: `a wrong token was not rejected (${wrong.status ?? wrong.verdict}): auth is not enforced`,
      }
    const token = configuredToken(config, ctx.env)
    if (!token) return {ok: true, detail: 'wrong token rejected (401); token held outside the config: not probed'}
    const right = await httpProber(target, token)
    return right.verdict === 'accepted'
      ? {ok: true, detail: 'probed: wrong token rejected (401), the configured token accepted'}
      : {ok: false, detail: `the configured token was not accepted (${right.status ?? right.verdict})`}
  },
}

function readConfig(ctx: ActionContext): JsonObject | undefined {
  try {
    return loadConfig(ctx.install.configPath, {env: ctx.env}).value
  } catch {
    return undefined
  }
}

function configuredToken(config: JsonObject | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const t = getPath(config, ['gateway', 'auth', 'token'])
  return typeof t === 'string' ? resolveEnvString(t, env) : undefined
}

/** This install's service: one contain disabled in this case first, else one found for the state dir. */
function serviceOf(ctx: ActionContext): ServiceDefinition | undefined {
  const disabled = readServiceChanges(ctx.case).find((r) => r.service && r.results?.some((x) => x.what === 'disable'))
  if (disabled?.service) return disabled.service
  const home = openclawHome({env: ctx.env, homedir: os.homedir(), uid: hostUid()})
  return findServiceDefinitions(home, ctx.install.stateDir).find(
    (d) => !d.nodeHost && serviceMatches(d, ctx.install.stateDir, home, ctx.install.profile),
  )
}

function startCommand(ctx: ActionContext): string {
  const profile = ctx.install.profile ? ` --profile ${ctx.install.profile}` : ''
  return `openclaw${profile} gateway install && openclaw${profile} gateway start`
}

function hostUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0
}
