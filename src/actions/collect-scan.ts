import {z} from 'zod'

import {SEVERITIES} from '../detect/finding-types.js'
import {guarded, sessionFor} from './collect-session.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z.object({}).strict()

/** Collect step 4: findings/findings.jsonl and the incident report (report.md, report.html) from the scan. */
export const collectScan: ActionDefinition<z.infer<typeof Params>> = {
  name: 'collect-scan',
  description:
    'Write findings/findings.jsonl and the incident report, findings/report.md and report.html (timeline, entry ' +
    'points, blast radius, grouped findings, next steps).',
  params: Params,
  mutates: false,
  async plan() {
    return {
      noop: false,
      summary:
        'write findings/findings.jsonl, findings/report.md and report.html (the scan runs on the bytes as they are ' +
        'copied)',
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
