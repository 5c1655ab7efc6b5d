import {z} from 'zod'

import {guarded, mib, sessionFor} from './collect-session.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z.object({}).strict()

/** Collect step 1: every source of the install, both storage eras (lstat and readdir only). */
export const collectDiscover: ActionDefinition<z.infer<typeof Params>> = {
  name: 'collect-discover',
  description:
    'List every evidence source of the install: config and history, logs, transcripts (JSONL and SQLite), stores, ' +
    'workspaces, services.',
  params: Params,
  mutates: false,
  async plan(ctx) {
    return guarded(ctx, async () => {
      const s = sessionFor(ctx)
      await s.loadRules() // a bad --rules pack stops here, before anything is read
      const d = s.discover()
      const byPolicy = new Map<string, number>()
      for (const s of d.sources) byPolicy.set(s.policy, (byPolicy.get(s.policy) ?? 0) + 1)
      const lines = [...byPolicy].map(([p, n]) => `${String(n).padStart(6)}  ${p}`)
      for (const r of d.records.slice(0, 20)) lines.push(`  ${r.outcome}: ${r.path}${r.reason ? ` (${r.reason})` : ''}`)
      if (d.records.length > 20)
        lines.push(`  … ${d.records.length - 20} more decided at discovery (case.json lists them)`)
      return {
        noop: false,
        summary: `${d.sources.length} source(s), ${mib(d.bytes)}; ${d.records.length} recorded without copying (symlinks, skipped dirs, --since)`,
        lines,
      }
    })
  },
  async apply(ctx, _p, plan) {
    const d = sessionFor(ctx).discover()
    return {detail: plan.summary, data: {sources: d.sources.length, bytes: d.bytes, recorded: d.records.length}}
  },
}
