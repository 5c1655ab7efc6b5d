/**
 * Prove a rotation over HTTP without acting (openclaw-internals.md §2.6, openclaw-live.md §4, §7):
 * - gateway secret: `POST /tools/invoke` for a tool that does not exist: 401 = rejected, 404 = accepted;
 * - hooks token: `POST <hooks.path>` (the bare path has no action): 401 = rejected, 404 = accepted.
 *   After 20 failed attempts a minute the hooks path answers 429 to *invalid* credentials only
 *   (valid ones pass and reset the counter), so a 429 there means rejected.
 * A token edit hot-applies in about 1.3 s, so the new value is polled (with growing pauses, to stay
 * under the hooks throttle) and the old one checked once the new one is in.
 */

export type Verdict = 'accepted' | 'rejected' | 'rate-limited' | 'unreachable' | 'unexpected'

export interface ProbeTarget {
  kind: 'gateway' | 'hooks'
  port: number
  host?: string
  /** hooks.path (default /hooks). */
  path?: string
}

export interface ProbeAnswer {
  verdict: Verdict
  status?: number
  retryAfterMs?: number
}

export type Prober = (target: ProbeTarget, secret: string) => Promise<ProbeAnswer>

export const PROBE_TOOL = '__ir_probe_nonexistent__'

export const httpProber: Prober = async (target, secret) => {
  const url = `http://${target.host ?? '127.0.0.1'}:${target.port}${target.kind === 'gateway' ? '/tools/invoke' : normalizeHooksPath(target.path)}`
  const body = target.kind === 'gateway' ? JSON.stringify({tool: PROBE_TOOL}) : '{}'
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(3000),
      headers: {'content-type': 'application/json', authorization: `Bearer ${secret}`},
    })
    await res.arrayBuffer()
    const retry = Number(res.headers.get('retry-after'))
    return {
      verdict: classifyStatus(target.kind, res.status),
      status: res.status,
      retryAfterMs: Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined,
    }
  } catch {
    return {verdict: 'unreachable'}
  }
}

export function classifyStatus(kind: ProbeTarget['kind'], status: number): Verdict {
  if (status === 401 || status === 403) return 'rejected'
  if (status === 404) return 'accepted'
  if (status === 429) return kind === 'hooks' ? 'rejected' : 'rate-limited'
  return 'unexpected'
}

export function normalizeHooksPath(p: string | undefined): string {
  const trimmed = (p ?? '/hooks').trim() || '/hooks'
  const withSlash = trimmed.startsWith('/') ? trimmed : `/${trimmed}`
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash
}

export type ProofOutcome =
  /** New accepted, old rejected. */
  | 'proven'
  /** New accepted; the old value is unknown to ir (exec provider…). */
  | 'new-accepted'
  /** The old value still works: the gateway did not pick the change up (restart needed). */
  | 'old-still-accepted'
  /** Neither works: the gateway reads the secret from somewhere ir did not write. */
  | 'both-rejected'
  | 'unreachable'
  | 'rate-limited'

export interface Proof {
  outcome: ProofOutcome
  elapsedMs: number
  attempts: number
  /** One line, no values. */
  detail: string
}

export interface ProveOptions {
  prober?: Prober
  /** Poll budget for the new value (default 10 s). */
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

const PAUSES = [250, 400, 600, 900, 1200, 1500, 2000]

export async function proveRotation(
  target: ProbeTarget,
  oldValue: string | undefined,
  newValue: string,
  opts: ProveOptions = {},
): Promise<Proof> {
  const probe = opts.prober ?? httpProber
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const now = opts.now ?? Date.now
  const start = now()
  const deadline = start + (opts.timeoutMs ?? 10_000)
  const what = target.kind === 'gateway' ? 'POST /tools/invoke' : `POST ${normalizeHooksPath(target.path)}`
  let attempts = 0
  let last: ProbeAnswer = {verdict: 'unreachable'}
  const done = (outcome: ProofOutcome, detail: string): Proof => ({
    outcome,
    elapsedMs: now() - start,
    attempts,
    detail: `${what}: ${detail}`,
  })
  for (let i = 0; ; i++) {
    attempts++
    last = await probe(target, newValue)
    if (last.verdict === 'accepted') {
      if (oldValue === undefined)
        return done(
          'new-accepted',
          `new value accepted (${last.status}) after ${secs(now() - start)}; the old value is unknown to ir`,
        )
      // The switch is atomic; re-check the old value a few times only if it still passes.
      for (;;) {
        attempts++
        const old = await probe(target, oldValue)
        if (old.verdict === 'rejected')
          return done(
            'proven',
            `old value rejected (${old.status}), new value accepted (${last.status}) after ${secs(now() - start)}`,
          )
        if (now() >= deadline) {
          return old.verdict === 'accepted'
            ? done(
                'old-still-accepted',
                `new value accepted but the old one is still accepted (${old.status}) after ${secs(now() - start)}`,
              )
            : done(
                old.verdict === 'unreachable' ? 'unreachable' : 'rate-limited',
                `new value accepted, the old one could not be checked (${old.status ?? old.verdict})`,
              )
        }
        await sleep(Math.min(PAUSES[Math.min(i, PAUSES.length - 1)]!, Math.max(0, deadline - now())))
      }
    }
    if (now() >= deadline) break
    const pause =
      last.verdict === 'rate-limited' && last.retryAfterMs
        ? Math.min(last.retryAfterMs, 5000)
        : PAUSES[Math.min(i, PAUSES.length - 1)]!
    await sleep(Math.min(pause, Math.max(0, deadline - now())))
  }
  if (last.verdict === 'unreachable')
    return done('unreachable', `gateway not reachable on 127.0.0.1:${target.port} for ${secs(now() - start)}`)
  if (last.verdict === 'rate-limited') return done('rate-limited', 'rate-limited (429) while polling; not verified')
  if (oldValue === undefined)
    return done('both-rejected', `new value still rejected (${last.status}) after ${secs(now() - start)}`)
  attempts++
  const old = await probe(target, oldValue)
  if (old.verdict === 'accepted')
    return done(
      'old-still-accepted',
      `old value still accepted (${old.status}), new value rejected (${last.status}) after ${secs(now() - start)}: the running gateway did not pick the change up`,
    )
  if (old.verdict === 'unreachable') return done('unreachable', `gateway stopped answering on 127.0.0.1:${target.port}`)
  return done(
    'both-rejected',
    `new value rejected (${last.status}) and old value rejected (${old.status}): the gateway reads this secret from somewhere ir did not write`,
  )
}

/** One probe of a value (baseline before the rotation). */
export async function probeOnce(
  target: ProbeTarget,
  secret: string,
  prober: Prober = httpProber,
): Promise<ProbeAnswer> {
  return prober(target, secret)
}

/** Wait until GET /readyz answers 200 (after a restart). */
export async function waitReady(
  port: number,
  timeoutMs: number,
  opts: {sleep?: (ms: number) => Promise<void>; now?: () => number; host?: string} = {},
): Promise<boolean> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const now = opts.now ?? Date.now
  const deadline = now() + timeoutMs
  while (now() < deadline) {
    try {
      const res = await fetch(`http://${opts.host ?? '127.0.0.1'}:${port}/readyz`, {signal: AbortSignal.timeout(2000)})
      await res.arrayBuffer()
      if (res.status === 200) return true
    } catch {
      /* not up yet */
    }
    await sleep(500)
  }
  return false
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
