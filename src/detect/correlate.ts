import {DECODED_DANGEROUS, DECODED_HARMLESS, REQUEST_ONLY, RUNS_TAG, SCRIPT_TAG, fingerprintOf} from './rule-engine.js'
import {SEVERITY_RANK, shiftSeverity} from './finding-types.js'
import type {Finding, ScanEvent} from './finding-types.js'

/**
 * Per-session state while a session streams by, and what is decided when it ends: severity by
 * context (an injection in untrusted tool output followed by a tool call is worse than the same
 * words in the owner's own message), the chain "untrusted input → credential access → outbound
 * call", one critical finding, and — whatever the words — "untrusted content, then a dangerous,
 * outbound or persistence tool call the owner's message of that turn did not ask for". Sessions
 * are closed as soon as their source moves on, so memory holds only open sessions (each its
 * current turn's head) and the findings.
 */

interface Pending {
  finding: Finding
  order: number
  senderIsOwner?: boolean
  untrusted?: boolean
}

/** A turn: from a user message to the next. `text`: the message's head; owner false = another sender. */
interface Turn {
  order: number
  owner: boolean
  text: string
}

/** A dangerous tool call made after untrusted content of its turn, not asked for in the turn's message. */
interface Unasked {
  call: Pending
  untrustedAt: number
  turn?: Turn
}

interface Session {
  findings: Pending[]
  seen: Set<string>
  lastToolCall: number
  firstUntrusted: number
  /** The latest untrusted content of the current turn (-1: none yet). */
  lastUntrusted: number
  turn?: Turn
  unasked: Unasked[]
  /** "line" for files, "seq" for SQLite rows. */
  unit: string
}

export const CHAIN_RULE_ID = 'chain.untrusted-credential-exfil'
export const UNASKED_RULE_ID = 'chain.untrusted-unasked-action'

/** What a tool call may do only when asked: the categories of tool-call rules that count. */
const ACTION_CATEGORIES = new Set([
  'dangerous-exec',
  'credential-access',
  'config-tampering',
  'exfiltration',
  'persistence',
  'evasion',
])

export class Correlator {
  private readonly sessions = new Map<string, Session>()
  private readonly done: Finding[] = []

  private get(key: string, unit = 'line'): Session {
    let s = this.sessions.get(key)
    if (!s) {
      s = {
        findings: [],
        seen: new Set(),
        lastToolCall: -1,
        firstUntrusted: Infinity,
        lastUntrusted: -1,
        unasked: [],
        unit,
      }
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
    if (order > s.lastUntrusted) s.lastUntrusted = order
    // a message from another sender starts a turn the owner asked nothing in
    if (s.turn?.order === order) s.turn.owner = false
  }

  /** A user message at `order` starts a turn; `text` is its head (raw JSON or text). Once per message. */
  turn(key: string, order: number, text: string): void {
    const s = this.get(key)
    if (s.turn?.order === order) return
    s.turn = {order, owner: s.lastUntrusted !== order, text: text.toLowerCase()}
    if (s.lastUntrusted !== order) s.lastUntrusted = -1
  }

  add(key: string, finding: Finding, order: number, ev: ScanEvent): void {
    const s = this.get(key)
    if (s.seen.has(finding.fingerprint)) return
    s.seen.add(finding.fingerprint)
    const p: Pending = {finding, order, senderIsOwner: ev.senderIsOwner, untrusted: ev.untrusted}
    s.findings.push(p)
    if (
      finding.kind === 'toolCall' &&
      ACTION_CATEGORIES.has(finding.category) &&
      !finding.tags?.includes(DECODED_HARMLESS) &&
      s.lastUntrusted >= 0 &&
      s.lastUntrusted < order &&
      !(s.turn?.owner && askedFor(s.turn.text, ev.text))
    ) {
      s.unasked.push({call: p, untrustedAt: s.lastUntrusted, turn: s.turn && {...s.turn, text: ''}})
    }
  }

  close(key: string): void {
    const s = this.sessions.get(key)
    if (!s) return
    this.sessions.delete(key)
    for (const p of s.findings) adjustSeverity(p, s)
    judgeScriptRuns(s)
    const chain = chainFinding(s)
    for (const p of s.findings) this.done.push(p.finding)
    if (chain) this.done.push(chain)
    for (const u of s.unasked) {
      const f = unaskedFinding(s, u)
      if (f) this.done.push(f)
    }
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
  if (f.tags?.includes(REQUEST_ONLY)) {
    f.context = 'a request that asks for nothing harmful'
    return
  }
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

/** What may make a request to run a script harmful when the script itself is harmless: being told not to look. */
const MOOT_WHEN_HARMLESS = new Set(['payload:payload.no-inspection'])

/**
 * A request to run a script an earlier message of the session built (`runs:F` after `script:F`) is
 * judged by what that script decodes to: dangerous → at least its severity; harmless → info, when
 * nothing but "do not decode it" made the request harmful.
 */
function judgeScriptRuns(s: Session): void {
  const built = new Map<string, Pending>()
  for (const p of [...s.findings].sort((a, b) => a.order - b.order)) {
    const tags = p.finding.tags ?? []
    for (const t of tags) {
      if (!t.startsWith(RUNS_TAG)) continue
      const file = t.slice(RUNS_TAG.length)
      const by = built.get(file)
      if (!by || by.order >= p.order) continue
      const f = p.finding
      const at = `${file}, built by the message at ${s.unit} ${by.order}`
      if (by.finding.tags?.includes(DECODED_DANGEROUS)) {
        if (SEVERITY_RANK[by.finding.severity] > SEVERITY_RANK[f.severity]) f.severity = by.finding.severity
        f.context = `runs ${at} (${by.finding.title})`
      } else if (
        by.finding.tags?.includes(DECODED_HARMLESS) &&
        tags.every((x) => !x.startsWith('payload:') || MOOT_WHEN_HARMLESS.has(x))
      ) {
        f.severity = 'info'
        f.tags = [...tags, DECODED_HARMLESS]
        f.context = `runs ${at}, which decodes to a harmless command`
      }
    }
    for (const t of tags) if (t.startsWith(SCRIPT_TAG)) built.set(t.slice(SCRIPT_TAG.length), p)
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

/**
 * Whether the owner's message named what the call acts on: a URL, host, path or file name of the
 * call (a token with "/", "." or ":", or its file name) in the message. Conservative by design: a
 * call on something the owner never wrote down counts as not asked for.
 */
export function askedFor(ownerText: string, callText: string): boolean {
  const content = ownerText.indexOf('"content"')
  const asked = content >= 0 ? ownerText.slice(content) : ownerText
  for (const token of salientTokens(callText)) if (asked.includes(token)) return true
  return false
}

function salientTokens(text: string): string[] {
  const out = new Set<string>()
  for (const raw of text
    .slice(0, 4096)
    .toLowerCase()
    .split(/[\s"'`|;&()<>=,]+/)) {
    const t = raw.replace(/^[-@~]+/, '').replace(/[.:,]+$/, '')
    if (t.length < 4 || !/[/.:]/.test(t) || /^-/.test(t)) continue
    out.add(t)
    const name = t.slice(t.lastIndexOf('/') + 1)
    if (name.length >= 4 && name !== t && name.includes('.')) out.add(name)
  }
  return [...out]
}

/**
 * One finding per unasked dangerous call: it names both ends (the untrusted content and the call).
 * Critical when an injection was found in that content, high when the call's rule is at least
 * medium; a low-severity call (a routine memory note) after content with no injection is left out.
 */
function unaskedFinding(s: Session, u: Unasked): Finding | undefined {
  const call = u.call.finding
  const injection = s.findings.find(
    (p) =>
      p.order === u.untrustedAt &&
      p.finding.category === 'prompt-injection' &&
      p.finding.kind !== 'toolCall' &&
      p.finding.severity !== 'info',
  )
  if (!injection && SEVERITY_RANK[call.severity] < SEVERITY_RANK.medium) return undefined
  const short = (t: string) => (t.length > 120 ? `${t.slice(0, 120)}…` : t)
  const what = injection
    ? `${injection.finding.kind === 'user' ? 'message' : `${injection.finding.toolName ?? 'tool'} result`} at ${s.unit} ${u.untrustedAt} (${injection.finding.ruleId})`
    : `untrusted content at ${s.unit} ${u.untrustedAt}`
  const asked = !u.turn
    ? 'no owner message before it'
    : u.turn.owner
      ? `not asked for in the owner's message at ${s.unit} ${u.turn.order}`
      : `the turn began with a message from another sender at ${s.unit} ${u.turn.order}`
  const f: Finding = {
    ruleId: UNASKED_RULE_ID,
    category: call.category,
    severity: injection ? 'critical' : 'high',
    title: 'Untrusted content, then a dangerous tool call nobody asked for, in one turn',
    source: {...call.source},
    kind: call.kind,
    excerpt: `${what} → ${call.ruleId} at ${s.unit} ${u.call.order}: ${short(call.excerpt)}; ${asked}`,
    fingerprint: fingerprintOf([UNASKED_RULE_ID, String(u.untrustedAt), call.fingerprint]),
    chain: [...(injection ? [injection.finding.fingerprint] : []), call.fingerprint],
  }
  if (call.toolName) f.toolName = call.toolName
  if (call.timestamp) f.timestamp = call.timestamp
  if (call.role) f.role = call.role
  call.context ??= `after untrusted content at ${s.unit} ${u.untrustedAt}; ${asked}`
  return f
}
