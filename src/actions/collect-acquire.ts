import {z} from 'zod'

import {guarded, mib, sessionFor} from './collect-session.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z.object({}).strict()

/** Collect step 3: read-only, streaming copy + SHA-256 + scan + redaction of every source (resumable). */
export const collectAcquire: ActionDefinition<z.infer<typeof Params>> = {
  name: 'collect-acquire',
  description:
    'Copy each source once (read-only), hashing, scanning and masking secrets from the same bytes; SQLite stores raw ' +
    '+ consistent backup + transcript export.',
  params: Params,
  mutates: false,
  async plan(ctx) {
    return guarded(ctx, async () => {
      const s = sessionFor(ctx)
      const d = s.discover()
      const n = (p: string) => d.sources.filter((x) => x.policy === p).length
      return {
        noop: false,
        lines: [],
        summary: `copy ${n('copy')} file(s), mask ${n('masked-config') + n('masked-json') + n('masked-env')}, metadata only ${n('metadata')}, ${n('sqlite')} SQLite store(s), ${n('zst')} zstd archive(s); ${mib(d.bytes)}${s.options.includeSecrets ? ' (secrets INCLUDED)' : ''}`,
      }
    })
  },
  async apply(ctx) {
    return guarded(ctx, async () => {
      const s = sessionFor(ctx)
      await s.acquire()
      const count = (o: string) => s.records.filter((r) => r.outcome === o).length
      const failed = s.records.filter((r) => r.outcome === 'failed')
      const masked = s.records.reduce((n, r) => n + (r.redactions ?? 0), 0)
      const detail = `${count('collected')} collected (${s.resumed} source(s) resumed from an earlier run), ${count('skipped')} skipped, ${count('missing')} missing, ${failed.length} failed; ${mib(s.bytesRead)} read; ${masked} secret value(s) masked`
      ctx.case.journal.append({
        playbook: 'collect',
        step: 'acquire',
        action: 'collect-acquire',
        status: 'acquired',
        detail,
        data: failed.length ? {failed: failed.slice(0, 50).map((f) => ({path: f.path, error: f.error}))} : undefined,
      })
      return {detail, data: {failed: failed.length}}
    })
  },
}
