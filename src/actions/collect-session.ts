import type {ActionContext} from '../playbook/action-types.js'
import {CollectSession, type SessionInit} from '../evidence/collector.js'
import type {CollectSummary, ProgressFn} from '../evidence/collect-types.js'

/**
 * What the collect steps share in one run, and what `ir collect` reads back: the use case gives
 * the live parts (progress callback, Ctrl-C signal, test seams) in the run state, the steps make one
 * CollectSession from the run variables and leave the summary, or the error that stopped the run.
 * Run state is never journaled.
 */
export interface CollectRun {
  onProgress?: ProgressFn
  signal?: AbortSignal
  seams?: SessionInit['seams']
  session?: CollectSession
  summary?: CollectSummary
  /** The error that stopped the run (with its code and suggestions, which the engine's step detail drops). */
  error?: unknown
}

declare module '../playbook/action-types.js' {
  interface RunState {
    collect?: CollectRun
  }
}

/** The run's collect state (the use case gives one; `ir playbook run collect` gets a fresh one here). */
export function collectRunOf(ctx: ActionContext): CollectRun {
  return (ctx.state.collect ??= {})
}

/** The run's session, created by the first collect step from the run variables. */
export function sessionFor(ctx: ActionContext): CollectSession {
  const run = collectRunOf(ctx)
  if (run.session) return run.session
  const v = ctx.vars
  const since =
    typeof v.since === 'string' && v.since ? new Date(v.since) : v.since instanceof Date ? v.since : undefined
  run.session = new CollectSession({
    install: ctx.install,
    case: ctx.case,
    env: ctx.env,
    runner: ctx.runner,
    now: ctx.now,
    seams: run.seams,
    options: {
      out: typeof v.out === 'string' ? v.out : undefined,
      since,
      rules: Array.isArray(v.rules) ? v.rules.filter((x): x is string => typeof x === 'string') : [],
      format: v.format === 'zip' ? 'zip' : 'tar.gz',
      encryptTo: Array.isArray(v.encryptTo) ? v.encryptTo.filter((x): x is string => typeof x === 'string') : [],
      includeSecrets: v.includeSecrets === true,
      onProgress: run.onProgress,
      signal: run.signal,
    },
  })
  return run.session
}

/** Keep the error for the command, then let the engine record the step as failed. */
export async function guarded<T>(ctx: ActionContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const run = collectRunOf(ctx)
    run.error ??= err
    throw err
  }
}

export function mib(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : `${(n / (1 << 20)).toFixed(1)} MiB`
}
