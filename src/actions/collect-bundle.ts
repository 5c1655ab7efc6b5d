import {z} from 'zod'

import {collectRunOf, guarded, sessionFor} from './collect-session.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z.object({}).strict()

/**
 * Collect step 5: case.json + journal + manifest + archive (temp name, rename) + sibling .sha256; verified by reading
 * it back.
 */
export const collectBundle: ActionDefinition<z.infer<typeof Params>> = {
  name: 'collect-bundle',
  description:
    'Seal the bundle: manifest-sha256.txt, case.json, the journal, the archive (0600) and its .sha256; then verify ' +
    'it as `ir verify` does.',
  params: Params,
  mutates: false,
  async plan(ctx) {
    const s = sessionFor(ctx)
    return {
      noop: false,
      summary: `write <case>-<host>-<UTC>.${s.options.format} and its .sha256 into ${s.options.out ?? ctx.case.dir}`,
      lines: [],
    }
  },
  async apply(ctx) {
    return guarded(ctx, async () => {
      const summary = await sessionFor(ctx).bundle()
      collectRunOf(ctx).summary = summary
      ctx.case.journal.append({
        playbook: 'collect',
        step: 'bundle',
        action: 'collect-bundle',
        status: 'sealed',
        detail: summary.bundle,
        files: [{path: summary.bundle, sha256: summary.bundleSha256, role: 'wrote'}],
      })
      return {
        detail: `${summary.bundle} (sha256 ${summary.bundleSha256.slice(0, 16)}…)`,
        data: {bundle: summary.bundle, sha256: summary.bundleSha256},
      }
    })
  },
  async verify(ctx) {
    const s = sessionFor(ctx)
    if (!s.sealed) return {ok: false, detail: 'no bundle was written'}
    s.init.options.onProgress?.({
      phase: 'verify',
      filesDone: 0,
      filesTotal: 0,
      bytesDone: 0,
      bytesTotal: 0,
      elapsedMs: 0,
    })
    const r = await s.verifySealed()
    if (r.ok) s.cleanup()
    return {ok: r.ok, detail: r.detail}
  },
}
