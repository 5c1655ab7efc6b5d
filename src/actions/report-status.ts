import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {loadConfig, type JsonObject} from '../openclaw/config.js'
import {triageInstalls} from '../openclaw/install-status.js'
import {realHost} from '../openclaw/locate.js'
import {persistenceChanges} from '../openclaw/persistence.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z.object({}).strict()

/**
 * Record the `ir status` picture (exposure, gateway, era) in the case, and list what may persist
 * after containment (plugins, skills, hook packs, cron jobs, identity files changed in the incident
 * window). Read-only on the target: nothing listed is changed.
 */
export const reportStatus: ActionDefinition<z.infer<typeof Params>> = {
  name: 'report-status',
  description: 'Record the exposure summary and gateway state of the install in the case.',
  params: Params,
  mutates: false,
  async plan() {
    return {noop: false, summary: 'record the exposure summary in the case', lines: []}
  },
  async apply(ctx) {
    // The run's own effects: its process runner and environment (a test's seams, a target's env).
    const target = {stateDir: ctx.install.stateDir, configPath: ctx.install.configPath, profile: ctx.install.profile}
    const result = await triageInstalls(target, {runner: ctx.runner, host: {...realHost(), env: ctx.env}})
    const file = path.join(ctx.case.dir, 'status.json')
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n', {mode: 0o600})
    const install = result.installs[0]
    const crit = install?.exposure.filter((e) => e.severity === 'critical').length ?? 0
    const high = install?.exposure.filter((e) => e.severity === 'high').length ?? 0
    const sinceMs = typeof ctx.vars.sinceMs === 'number' ? ctx.vars.sinceMs : 0
    let config: JsonObject | undefined
    try {
      config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
    } catch {
      /* the default workspace is still listed */
    }
    const persistence = persistenceChanges(ctx.install.stateDir, config, sinceMs)
    writeFileSync(
      path.join(ctx.case.dir, 'persistence.json'),
      JSON.stringify({since: new Date(sinceMs).toISOString(), items: persistence}, null, 2) + '\n',
      {mode: 0o600},
    )
    const review = persistence.length
      ? `; review ${persistence.length} possible persistence item(s) changed since ${new Date(sinceMs).toISOString()}: ${persistence
          .slice(0, 5)
          .map((p) => `${p.kind} ${p.path}`)
          .join(', ')}${persistence.length > 5 ? ', …' : ''} (persistence.json; ir changed none)`
      : ''
    return {
      detail: `gateway ${install?.gateway.state ?? 'unknown'}; ${crit} critical, ${high} high exposure item(s); saved status.json${review}`,
      data: {...result, persistence},
    }
  },
}
