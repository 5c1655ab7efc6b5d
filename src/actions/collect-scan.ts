import {z} from 'zod'

import {SEVERITIES} from '../detect/types.js'
import {guarded, sessionFor} from './collect-session.js'
import type {ActionDefinition} from '../playbook/types.js'

const Params = z.object({}).strict()

/** Collect step 4: findings/findings.jsonl and findings/report.md from the scan done while copying. */
export const collectScan: ActionDefinition<z.infer<typeof Params>> = {
  name: 'collect-scan',
  description:
    'Write findings/findings.jsonl and the human findings/report.md (summary, per-session timeline, exposure, what was and was not collected).',
  params: Params,
  mutates: false,
  async plan() {
    return {
      noop: false,
      summary: 'write findings/findings.jsonl and findings/report.md (the scan runs on the bytes as they are copied)',
      lines: [],
    }
  },
  async apply(ctx) {
    return guarded(ctx, async () => {
      const s = sessionFor(ctx)
      await s.writeFindings()
      const by = SEVERITIES.map((sev) => [sev, s.findings.filter((f) => f.severity === sev).length] as const).filter(
        ([, n]) => n > 0,
      )
      return {
        detail: `${s.findings.length} finding(s)${by.length ? ` (${by.map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}; ${s.scanned.events} event(s) scanned`,
      }
    })
  },
}
