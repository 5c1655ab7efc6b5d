import type {ActionContext} from '../playbook/action-types.js'
import {CollectSession, type SessionInit} from '../evidence/collector.js'
import type {CollectSummary, ProgressFn} from '../evidence/collect-types.js'

/**
 * How the collect playbook's steps share one CollectSession, and how `ir collect` talks to them:
 * the command puts a runtime object into the run variables (progress callback, Ctrl-C signal,
 * test seams) and reads the summary or the fatal error back from it. The runtime never reaches
 * the journal (its toJSON is empty).
 */

export interface CollectRuntime {
  onProgress?: ProgressFn
  signal?: AbortSignal
  seams?: SessionInit['seams']
  summary?: CollectSummary
  /** The error that stopped the run (with its code and suggestions, which the engine's step detail drops). */
  error?: unknown
  toJSON(): undefined
}

export function collectRuntime(init: Omit<CollectRuntime, 'toJSON'> = {}): CollectRuntime {
  return {...init, toJSON: () => undefined}
}

const sessions = new WeakMap<object, CollectSession>()

export function runtimeOf(ctx: ActionContext): CollectRuntime | undefined {
  const r = ctx.vars.runtime
  return r && typeof r === 'object' ? (r as CollectRuntime) : undefined
}

/** The run's session, created by the first collect step from the run variables. */
export function sessionFor(ctx: ActionContext): CollectSession {
  let s = sessions.get(ctx.results)
  if (s) return s
  const v = ctx.vars
  const rt = runtimeOf(ctx)
  const since =
    typeof v.since === 'string' && v.since ? new Date(v.since) : v.since instanceof Date ? v.since : undefined
  s = new CollectSession({
    install: ctx.install,
    case: ctx.case,
    env: ctx.env,
    runner: ctx.runner,
    now: ctx.now,
    seams: rt?.seams,
    options: {
      out: typeof v.out === 'string' ? v.out : undefined,
      since,
      rules: Array.isArray(v.rules) ? v.rules.filter((x): x is string => typeof x === 'string') : [],
      format: v.format === 'zip' ? 'zip' : 'tar.gz',
      encryptTo: Array.isArray(v.encryptTo) ? v.encryptTo.filter((x): x is string => typeof x === 'string') : [],
      includeSecrets: v.includeSecrets === true,
      onProgress: rt?.onProgress,
      signal: rt?.signal,
    },
  })
  sessions.set(ctx.results, s)
  return s
}

/** Keep the error for the command, then let the engine record the step as failed. */
export async function guarded<T>(ctx: ActionContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const rt = runtimeOf(ctx)
    if (rt && rt.error === undefined) rt.error = err
    throw err
  }
}

export function mib(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : `${(n / (1 << 20)).toFixed(1)} MiB`
}
