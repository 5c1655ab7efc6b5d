import os from 'node:os'

import {z} from 'zod'

import {waitReady} from '../openclaw/auth-probe.js'
import {maskSecrets} from '../openclaw/config-edit.js'
import {loadConfig} from '../openclaw/config.js'
import {probeGateway} from '../openclaw/gateway.js'
import {openclawHome} from '../openclaw/locate.js'
import {findServiceDefinitions, serviceMatches, serviceRuntime, type ServiceDefinition} from '../openclaw/services.js'
import type {ActionDefinition} from '../playbook/action-types.js'
import {proveEntries, rotateRunOf, summarize, type ProveData} from './shared/rotate-run.js'

const Params = z
  .object({
    /** How long the gateway may take to answer /readyz after the restart (measured 10–15 s). */
    readyTimeoutSeconds: z.number().min(5).max(600).default(90),
    /** Poll budget for the proof after the restart. */
    timeoutSeconds: z.number().min(1).max(120).default(10),
  })
  .strict()

interface RestartPlan {
  commands: Array<{file: string; args: string[]}>
  manual?: string
  port: number
}

/**
 * When the old secret is still accepted (an environment variable, an old build that keeps
 * credentials across reloads): restart through the service manager that runs the gateway
 * (systemd: `systemctl [--user] restart`; launchd: bootout + bootstrap so the plist's environment
 * is re-read), wait for /readyz, prove again. ir cannot restart a gateway it did not start and no
 * service manager runs (foreground, tmux, a container): that is a manual step.
 */
export const rotateRestart: ActionDefinition<z.infer<typeof Params>> = {
  name: 'rotate-restart',
  description:
    'Restart the gateway through its service manager when the old secret is still accepted, then prove again.',
  params: Params,
  mutates: true,
  async plan(ctx) {
    const prove = rotateRunOf(ctx).prove
    if (!prove?.restartNeeded) return {noop: true, summary: 'no restart needed', lines: []}
    let config
    try {
      config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
    } catch {
      /* defaults */
    }
    const gw = await probeGateway(ctx.install.stateDir, ctx.install.configPath, config, ctx.env, ctx.install.profile)
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0
    const home = openclawHome({env: ctx.env, homedir: os.homedir(), uid})
    const defs = findServiceDefinitions(home, ctx.install.stateDir).filter((d) =>
      serviceMatches(d, ctx.install.stateDir, home, ctx.install.profile),
    )
    let chosen: ServiceDefinition | undefined
    for (const d of defs) {
      if (d.kind === 'schtasks') continue
      const rt = await serviceRuntime(d, ctx.runner, uid)
      if (rt.active) {
        chosen = d
        break
      }
    }
    const data: RestartPlan = {commands: [], port: gw.port}
    if (chosen?.kind === 'systemd') {
      data.commands.push({
        file: 'systemctl',
        args: [...(chosen.file.startsWith('/etc/systemd/system') ? [] : ['--user']), 'restart', chosen.name],
      })
    } else if (chosen?.kind === 'launchd') {
      data.commands.push(
        {file: 'launchctl', args: ['bootout', `gui/${uid}/${chosen.name}`]},
        {file: 'launchctl', args: ['bootstrap', `gui/${uid}`, chosen.file]},
      )
    } else {
      data.manual =
        `The gateway${gw.pid ? ` (pid ${gw.pid})` : ''} runs outside a service manager ir can drive (foreground, tmux, container…), and ir does not restart what it did not start: ` +
        `stop it (${gw.pid ? `kill -TERM ${gw.pid}` : 'the way it runs'}), start it the way it was started, then prove the rotation with \`ir rotate --dry-run\` or the probes in the case.`
    }
    const keys = prove.results.filter((r) => r.outcome === 'old-still-accepted').map((r) => r.key)
    return {
      noop: false,
      summary: data.manual
        ? `restart needed for ${keys.join(', ')} (manual: no service manager runs this gateway)`
        : `restart the gateway (${data.commands.map((c) => [c.file, ...c.args].join(' ')).join(' && ')}) and prove again`,
      lines: data.manual ? [data.manual] : data.commands.map((c) => [c.file, ...c.args].join(' ')),
      question: data.manual
        ? undefined
        : `The old secret is still accepted. Restart the gateway now (${data.commands.map((c) => [c.file, ...c.args].join(' ')).join(' && ')})?`,
      data,
    }
  },
  async apply(ctx, params, plan) {
    const data = plan.data as RestartPlan
    if (data.manual) return {detail: data.manual, status: 'manual', data: {restarted: false}}
    const secrets = rotateRunOf(ctx).vault.secretValues()
    for (const c of data.commands) {
      const r = await ctx.runner.run(c.file, c.args, {timeoutMs: 60_000})
      // bootout of a job that is not loaded is fine before a bootstrap.
      if (r.exitCode !== 0 && !(c.file === 'launchctl' && c.args[0] === 'bootout')) {
        throw new Error(
          `${[c.file, ...c.args].join(' ')} failed (${r.notFound ? 'not found' : `exit ${r.exitCode}`}): ${maskSecrets((r.stderr || r.stdout).trim().split('\n')[0] ?? '', secrets)}`,
        )
      }
    }
    const t0 = Date.now()
    if (!(await waitReady(data.port, params.readyTimeoutSeconds * 1000))) {
      throw new Error(
        `the gateway did not answer /readyz on port ${data.port} within ${params.readyTimeoutSeconds} s after the restart`,
      )
    }
    const written = rotateRunOf(ctx)
      .vault.all()
      .filter((x) => x.state === 'written')
    const results = await proveEntries(written, data.port, () => params.timeoutSeconds * 1000)
    const prove = summarize(results)
    rotateRunOf(ctx).restart = {restarted: true, ...prove}
    return {
      detail: `restarted (ready after ${((Date.now() - t0) / 1000).toFixed(1)} s); ${results.map((r) => `${r.key}: ${r.outcome}`).join('; ')}`,
      data: {restarted: true, ...prove},
    }
  },
  async verify(_ctx, _params, _plan, applied) {
    const d = applied.data as ProveData
    return d.verified
      ? {ok: true, detail: 'old rejected, new accepted after the restart'}
      : {
          ok: false,
          detail: `after the restart: ${d.results
            .filter((r) => r.outcome !== 'proven')
            .map((r) => `${r.key}: ${r.detail}`)
            .join('; ')}`,
        }
  },
}
