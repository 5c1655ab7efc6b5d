import {z} from 'zod'

import {guarded, sessionFor} from './collect-session.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z.object({}).strict()

/** Collect step 2: volatile facts before anything is copied; every probe bounded. */
export const collectVolatile: ActionDefinition<z.infer<typeof Params>> = {
  name: 'collect-volatile',
  description:
    'Record host, user, clock, the gateway process and sockets, /healthz /startupz, exposure, and `openclaw security ' +
    'audit --deep --json` (on a scratch mirror).',
  params: Params,
  mutates: false,
  async plan() {
    // The CLI is located by the step itself (from the running gateway): looking now would read the config.
    return {
      noop: false,
      summary: `host, clock, gateway process, health probes, exposure; the install's own openclaw security audit on a scratch mirror (when its CLI is found)`,
      lines: [],
    }
  },
  async apply(ctx) {
    return guarded(ctx, async () => {
      const v = await sessionFor(ctx).captureVolatile()
      const audit = v.audit.ran
        ? `audit exit ${v.audit.exitCode ?? '?'}${v.audit.timedOut ? ' (timed out)' : ''}`
        : `audit not run (${v.audit.reason})`
      return {
        detail: `gateway ${v.gateway.state}${v.gateway.pid ? ` pid ${v.gateway.pid}` : ''}; ${v.exposure.filter((e) => e.severity !== 'info').length} exposure item(s); ${audit}`,
      }
    })
  },
}
