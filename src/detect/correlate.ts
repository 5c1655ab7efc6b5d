import {fingerprintOf} from './engine.js'
import {shiftSeverity} from './types.js'
import type {Finding, ScanEvent} from './types.js'

/**
 * Per-session state while a session streams by, and what is decided when it ends: severity by
 * context (an injection in untrusted tool output followed by a tool call is worse than the same
 * words in the owner's own message) and the chain "untrusted input → credential access →
 * outbound call", one critical finding. Sessions are closed as soon as their source moves on, so
 * memory holds only open sessions and the findings.
 */

interface Pending {
  finding: Finding
  order: number
  senderIsOwner?: boolean
  untrusted?: boolean
}

interface Session {
  findings: Pending[]
  seen: Set<string>
  lastToolCall: number
  firstUntrusted: number
  /** "line" for files, "seq" for SQLite rows. */
  unit: string
}

export const CHAIN_RULE_ID = 'chain.untrusted-credential-exfil'

export class Correlator {
  private readonly sessions = new Map<string, Session>()
  private readonly done: Finding[] = []

  private get(key: string, unit = 'line'): Session {
    let s = this.sessions.get(key)
    if (!s) {
      s = {findings: [], seen: new Set(), lastToolCall: -1, firstUntrusted: Infinity, unit}
      this.sessions.set(key, s)
    }
    return s
  }

  open(key: string, unit: 'line' | 'seq'): void {
    this.get(key, unit)
  }

  toolCall(key: string, order: number): void {
    const s = this.get(key)
    if (order > s.lastToolCall) s.lastToolCall = order
  }

  untrusted(key: string, order: number): void {
    const s = this.get(key)
    if (order < s.firstUntrusted) s.firstUntrusted = order
  }

  add(key: string, finding: Finding, order: number, ev: ScanEvent): void {
    const s = this.get(key)
    if (s.seen.has(finding.fingerprint)) return
    s.seen.add(finding.fingerprint)
    s.findings.push({finding, order, senderIsOwner: ev.senderIsOwner, untrusted: ev.untrusted})
  }

  close(key: string): void {
    const s = this.sessions.get(key)
    if (!s) return
    this.sessions.delete(key)
    for (const p of s.findings) adjustSeverity(p, s)
    const chain = chainFinding(s)
    for (const p of s.findings) this.done.push(p.finding)
    if (chain) this.done.push(chain)
  }

  closeAll(): void {
    for (const key of [...this.sessions.keys()]) this.close(key)
  }

  /** Findings of sessions closed elsewhere (another scanner, another thread). */
  adopt(findings: Finding[]): void {
    for (const f of findings) this.done.push(f)
  }

  findings(): Finding[] {
    return this.done
  }
}

function adjustSeverity(p: Pending, s: Session): void {
  const f = p.finding
  if (f.category !== 'prompt-injection') return
  const followed = s.lastToolCall > p.order
  if (f.kind === 'toolResult' || (f.kind === 'user' && (p.untrusted || p.senderIsOwner === false))) {
    const where = f.kind === 'toolResult' ? 'untrusted tool output' : 'content from a non-owner or external source'
    if (followed) {
      f.severity = shiftSeverity(f.severity, +1)
      f.context = `in ${where}, followed by a tool call in the same session`
    } else {
      f.context = `in ${where}`
    }
  } else if (f.kind === 'user' && p.senderIsOwner === true) {
    f.severity = shiftSeverity(f.severity, -1)
    f.context = "in the owner's own message"
  } else if (f.kind === 'assistant') {
    f.context = 'in the model output'
  }
}

const isUntrustedInput = (p: Pending) =>
  p.finding.category === 'prompt-injection' &&
  (p.finding.kind === 'toolResult' || p.untrusted || p.senderIsOwner === false)

function chainFinding(s: Session): Finding | undefined {
  let u = s.firstUntrusted
  for (const p of s.findings) if (isUntrustedInput(p) && p.order < u) u = p.order
  if (!Number.isFinite(u)) return undefined
  const byOrder = [...s.findings].sort((a, b) => a.order - b.order)
  const cred = byOrder.find(
    (p) => p.finding.category === 'credential-access' && p.finding.kind === 'toolCall' && p.order > u,
  )
  if (!cred) return undefined
  const out = byOrder.find(
    (p) =>
      p.finding.category === 'exfiltration' &&
      p.finding !== cred.finding &&
      (p.finding.kind === 'toolCall' || p.finding.kind === 'assistant') &&
      p.order >= cred.order,
  )
  if (!out) return undefined
  const src = out.finding.source
  const untrustedBy = s.findings.find((p) => isUntrustedInput(p) && p.order === u)
  const short = (t: string) => (t.length > 120 ? `${t.slice(0, 120)}…` : t)
  const f: Finding = {
    ruleId: CHAIN_RULE_ID,
    category: 'exfiltration',
    severity: 'critical',
    title: 'Untrusted input, then credential access, then an outbound call in one session',
    source: {...src},
    kind: out.finding.kind,
    excerpt: [
      `untrusted input at ${s.unit} ${u}${untrustedBy ? ` (${untrustedBy.finding.ruleId})` : ''}`,
      `${cred.finding.ruleId} at ${s.unit} ${cred.order}: ${short(cred.finding.excerpt)}`,
      `${out.finding.ruleId} at ${s.unit} ${out.order}: ${short(out.finding.excerpt)}`,
    ].join(' → '),
    // from the parts' fingerprints (which use paths relative to the scanned root): stable when the dir moves
    fingerprint: fingerprintOf([CHAIN_RULE_ID, String(u), cred.finding.fingerprint, out.finding.fingerprint]),
    chain: [
      ...(untrustedBy ? [untrustedBy.finding.fingerprint] : []),
      cred.finding.fingerprint,
      out.finding.fingerprint,
    ],
  }
  if (out.finding.toolName) f.toolName = out.finding.toolName
  if (out.finding.timestamp) f.timestamp = out.finding.timestamp
  if (out.finding.role) f.role = out.finding.role
  return f
}
