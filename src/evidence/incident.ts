import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'

import {fingerprint, isMasked} from '../system/secret-vocabulary.js'
import {type Finding, SEVERITIES, type Severity} from '../detect/finding-types.js'
import {getPath, type JsonObject} from '../openclaw/config.js'
import type {AuditEvent} from '../openclaw/stores/audit-events.js'
import type {ExposureItem} from '../openclaw/exposure.js'
import type {ItemRecord} from './collect-types.js'
import type {AuditOutcome, GatewayFacts} from './volatile.js'

/**
 * The incident as a responder reads it first, built once and rendered twice (report.md and
 * report.html): one UTC timeline across sessions, logs and the audit ledger; the entry points
 * (untrusted input at the start of a chain) and what the agent did next; the blast radius (every
 * secret seen exposed or read, by fingerprint, and what to rotate); findings grouped, most severe
 * first; next steps. Everything here comes from masked findings and metadata: no secret value.
 */

export interface ReportInput {
  caseId: string
  host: string
  startedAt: Date
  endedAt: Date
  stateDir: string
  configPath: string
  era: string
  versions: {installed?: string; config?: string; running?: string; stateDb?: string}
  gateway?: GatewayFacts
  exposure: ExposureItem[]
  audit?: AuditOutcome
  findings: Finding[]
  records: ItemRecord[]
  includeSecrets: boolean
  since?: Date
  /** Collected, but not (fully) scanned: empty files, non-JSON lines, truncated last lines, rejected rules. */
  notScanned?: Array<{path: string; reason: string}>
}

export interface TimelineEntry {
  /** ISO 8601 UTC. */
  time: string
  source: 'session' | 'log' | 'audit' | 'store'
  channel?: string
  sender?: string
  /** true: the owner; false: another sender; undefined: not known. */
  owner?: boolean
  /** message, tool result, tool call, or the audit kind/action. */
  kind: string
  what: string
  severity?: Severity
  ruleId?: string
  where: string
}

export interface EntryPoint {
  time?: string
  where: string
  channel?: string
  sender?: string
  owner?: boolean
  severity: Severity
  title: string
  excerpt: string
  /** What the agent did after, in the same session (tool calls and findings). */
  after: string[]
}

export interface ExposedSecret {
  fingerprint: string
  masked: string
  rule: string
  /** How it was seen: in a message, a tool result, a tool call, a log line, a store. */
  seen: string[]
  where: string[]
  count: number
  rotate: string
}

export interface FindingGroup {
  severity: Severity
  ruleId: string
  title: string
  category: string
  count: number
  first?: string
  last?: string
  where: string[]
}

export interface Incident {
  input: ReportInput
  bySeverity: Record<Severity, number>
  total: number
  timeline: TimelineEntry[]
  /** Entries left out of the timeline (findings.jsonl and the audit export have them all). */
  timelineCut: number
  entryPoints: EntryPoint[]
  secrets: ExposedSecret[]
  groups: FindingGroup[]
  nextSteps: string[]
}

export const MAX_TIMELINE = 500
/** Audit events read for the timeline (newest kept): the exported ledger has them all. */
const MAX_AUDIT = 5000

/** The audit events exported into the bundle (derived/audit/*.jsonl), streamed, newest MAX_AUDIT kept. */
export async function readAuditExports(files: string[]): Promise<AuditEvent[]> {
  const out: AuditEvent[] = []
  for (const f of files) {
    const lines = createInterface({input: createReadStream(f), crlfDelay: Infinity})
    for await (const line of lines) {
      if (line.length > 64 << 10) continue
      try {
        out.push(JSON.parse(line) as AuditEvent)
      } catch {
        /* a torn line: the export's record says how many were written */
      }
      if (out.length > MAX_AUDIT * 2) out.splice(0, out.length - MAX_AUDIT)
    }
  }
  // the live store and the doctor's backups hold the same events: each once
  const seen = new Set<string>()
  const unique = out.filter((e) => {
    const k = `${e.sequence}|${e.occurredAt}|${e.kind}|${e.action}|${e.sessionId ?? ''}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  return unique.sort((a, b) => a.occurredAt - b.occurredAt).slice(-MAX_AUDIT)
}

/** Which `ir rotate` scope a config secret belongs to, by the fingerprint findings carry. */
export function rotationScopes(config: JsonObject | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (!config) return out
  const scopes: Array<[string[], string]> = [
    [['gateway', 'auth', 'token'], 'gateway'],
    [['gateway', 'auth', 'password'], 'gateway'],
    [['gateway', 'remote', 'token'], 'remote'],
    [['gateway', 'remote', 'password'], 'remote'],
    [['hooks', 'token'], 'hooks'],
  ]
  for (const [keyPath, scope] of scopes) {
    const v = getPath(config, keyPath)
    if (typeof v === 'string' && v) out.set(fingerprint(v), scope)
  }
  return out
}

export function buildIncident(input: ReportInput, audit: AuditEvent[], scopes: Map<string, string>): Incident {
  const findings = input.findings
  const bySeverity = Object.fromEntries(
    SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length]),
  ) as Record<Severity, number>
  const all = [...findings.filter((f) => f.timestamp).map(fromFinding), ...audit.map(fromAudit)].sort((a, b) =>
    a.time < b.time ? -1 : a.time > b.time ? 1 : 0,
  )
  // keep every finding; fill up with audit events up to the cap
  const keep = new Set(all.filter((e) => e.severity).slice(0, MAX_TIMELINE))
  for (const e of all) if (keep.size < MAX_TIMELINE && !e.severity) keep.add(e)
  const timeline = all.filter((e) => keep.has(e))
  return {
    input,
    bySeverity,
    total: findings.length,
    timeline,
    timelineCut: all.length - timeline.length,
    entryPoints: entryPoints(findings),
    secrets: exposedSecrets(findings, scopes),
    groups: groupFindings(findings),
    nextSteps: nextSteps(input, findings, scopes),
  }
}

/** `agent:main:telegram:direct:555` → channel telegram, sender 555. */
export function channelOf(sessionKey: string | undefined): {channel?: string; sender?: string} {
  if (!sessionKey) return {}
  const parts = sessionKey.split(':')
  if (parts[0] !== 'agent' || parts.length < 3) return {}
  if (parts.length === 3) return {channel: parts[2]}
  return {channel: parts[2], sender: parts.slice(4).join(':') || undefined}
}

function ownerOf(f: Finding): boolean | undefined {
  if (!f.context) return undefined
  if (f.context.includes("owner's own")) return true
  if (/untrusted|non-owner|another sender|external/.test(f.context)) return false
  return undefined
}

function kindOf(f: Finding): string {
  switch (f.kind) {
    case 'toolCall':
      return 'tool call'
    case 'toolResult':
      return 'tool result'
    case 'user':
    case 'assistant':
      return `${f.kind} message`
    case undefined:
      return f.source.table ? 'store row' : 'log line'
    default:
      return f.kind
  }
}

function whereOf(f: Finding): string {
  const s = f.source
  const at = s.line !== undefined ? `:${s.line}` : s.seq !== undefined ? ` seq ${s.seq}` : ''
  return `${s.file}${at}`
}

function fromFinding(f: Finding): TimelineEntry {
  const ch = channelOf(f.source.sessionKey)
  return {
    time: new Date(f.timestamp!).toISOString(),
    source: f.source.sessionId ? 'session' : f.source.table ? 'store' : 'log',
    ...ch,
    owner: ownerOf(f),
    kind: kindOf(f),
    what: f.title,
    severity: f.severity,
    ruleId: f.ruleId,
    where: whereOf(f),
  }
}

function fromAudit(e: AuditEvent): TimelineEntry {
  const ch = channelOf(e.sessionKey)
  return {
    time: new Date(e.occurredAt).toISOString(),
    source: 'audit',
    channel: e.channel ?? ch.channel,
    sender:
      ch.sender ?? (e.actorType && e.actorType !== 'agent' ? `${e.actorType} ${e.actorId ?? ''}`.trim() : undefined),
    kind: `${e.kind}/${e.action}`,
    what: [e.toolName, e.direction, e.status, e.reasonCode ?? e.errorCode].filter(Boolean).join(' '),
    where: `audit_events #${e.sequence}${e.sessionId ? ` session ${e.sessionId}` : ''}`,
  }
}

function entryPoints(findings: Finding[]): EntryPoint[] {
  const starts = findings.filter(
    (f) => f.category === 'prompt-injection' && ownerOf(f) !== true && f.kind !== 'toolCall',
  )
  const seen = new Set<string>()
  const out: EntryPoint[] = []
  for (const f of [...starts].sort(byTime)) {
    const key = `${f.source.sessionId ?? f.source.file}|${f.ruleId}`
    if (seen.has(key)) continue
    seen.add(key)
    const after = findings
      .filter(
        (g) =>
          g !== f &&
          g.source.sessionId !== undefined &&
          g.source.sessionId === f.source.sessionId &&
          (g.timestamp ?? '') >= (f.timestamp ?? '') &&
          (g.kind === 'toolCall' || g.category !== f.category),
      )
      .sort(byTime)
      .slice(0, 8)
      .map((g) => `${g.timestamp ?? ''} ${kindOf(g)}: ${g.title}${g.toolName ? ` (${g.toolName})` : ''}`.trim())
    out.push({
      time: f.timestamp,
      where: whereOf(f),
      ...channelOf(f.source.sessionKey),
      owner: ownerOf(f),
      severity: f.severity,
      title: f.title,
      excerpt: f.excerpt.slice(0, 300),
      after,
    })
    if (out.length >= 50) break
  }
  return out
}

function exposedSecrets(findings: Finding[], scopes: Map<string, string>): ExposedSecret[] {
  const by = new Map<string, ExposedSecret>()
  for (const f of findings) {
    if (!f.secret) continue
    const fp = f.secret.sha256
    const s = by.get(fp) ?? {
      fingerprint: fp,
      masked: isMasked(f.secret.masked) ? f.secret.masked : `«sha256:${fp}»`,
      rule: f.title,
      seen: [],
      where: [],
      count: 0,
      rotate: rotationFor(fp, f, scopes),
    }
    s.count++
    const k = kindOf(f)
    if (!s.seen.includes(k)) s.seen.push(k)
    const w = f.source.sessionKey ?? f.source.file
    if (!s.where.includes(w) && s.where.length < 5) s.where.push(w)
    by.set(fp, s)
  }
  return [...by.values()].sort((a, b) => b.count - a.count)
}

function rotationFor(fp: string, f: Finding, scopes: Map<string, string>): string {
  const scope = scopes.get(fp)
  if (scope) return `ir rotate --only ${scope}`
  const what = f.title.replace(/^.*?\b(?:for|of)\s+/i, '')
  return `at its issuer (${what}): revoke and replace; see the manual checklist of \`ir rotate\``
}

function groupFindings(findings: Finding[]): FindingGroup[] {
  const by = new Map<string, FindingGroup>()
  for (const f of findings) {
    const k = `${f.ruleId}|${f.severity}`
    const g = by.get(k) ?? {
      severity: f.severity,
      ruleId: f.ruleId,
      title: f.title,
      category: f.category,
      count: 0,
      where: [],
    }
    g.count++
    if (f.timestamp) {
      if (!g.first || f.timestamp < g.first) g.first = f.timestamp
      if (!g.last || f.timestamp > g.last) g.last = f.timestamp
    }
    const w = f.source.sessionKey ?? f.source.file
    if (!g.where.includes(w) && g.where.length < 3) g.where.push(w)
    by.set(k, g)
  }
  return [...by.values()].sort(
    (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || b.count - a.count,
  )
}

function nextSteps(input: ReportInput, findings: Finding[], scopes: Map<string, string>): string[] {
  const steps: string[] = []
  const high = input.exposure.filter((e) => e.severity === 'critical' || e.severity === 'high')
  if (input.gateway?.state === 'up' && (high.length > 0 || findings.some((f) => f.severity === 'critical')))
    steps.push(
      `Contain now: \`ir contain\` (the gateway was running${high.length ? ` with ${high.length} high/critical exposure item(s)` : ''}).`,
    )
  const scoped = new Set(
    findings.filter((f) => f.secret && scopes.has(f.secret.sha256)).map((f) => scopes.get(f.secret!.sha256)!),
  )
  if (scoped.size) steps.push(`Rotate the gateway secrets seen exposed: \`ir rotate --only ${[...scoped].join(',')}\`.`)
  const other = new Set(findings.filter((f) => f.secret && !scopes.has(f.secret.sha256)).map((f) => f.secret!.sha256))
  if (other.size)
    steps.push(`Revoke and replace ${other.size} other credential(s) at their issuers (blast radius below).`)
  if (findings.some((f) => f.category === 'prompt-injection'))
    steps.push('Read each entry point below with its session transcript; block the senders (`ir contain` DM lockdown).')
  if (findings.some((f) => f.kind === 'toolCall' && (f.severity === 'critical' || f.severity === 'high')))
    steps.push('Check the host for what the agent ran (persistence, outbound connections, changed files).')
  steps.push(
    'Keep this bundle read-only and check it with `ir verify <bundle>` before sharing it (it holds transcripts).',
  )
  return steps
}

function byTime(a: Finding, b: Finding): number {
  const ta = a.timestamp ?? ''
  const tb = b.timestamp ?? ''
  return ta < tb ? -1 : ta > tb ? 1 : 0
}
