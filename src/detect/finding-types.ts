/** Public types of the detection engine (DESIGN.md "Detection", "A Finding"). */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const
export type Severity = (typeof SEVERITIES)[number]

export const CATEGORIES = [
  'prompt-injection',
  'secret-exposure',
  'dangerous-exec',
  'exfiltration',
  'credential-access',
  'config-tampering',
  'persistence',
  'evasion',
  'exposure',
] as const
export type Category = (typeof CATEGORIES)[number]

export const EVENT_KINDS = ['user', 'assistant', 'toolCall', 'toolResult', 'log', 'config'] as const
export type EventKind = (typeof EVENT_KINDS)[number]

/** Higher is worse; used for sorting, --fail-on and context adjustments. */
export const SEVERITY_RANK: Record<Severity, number> = {info: 0, low: 1, medium: 2, high: 3, critical: 4}

export function severityAtLeast(s: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[s] >= SEVERITY_RANK[threshold]
}

export function shiftSeverity(s: Severity, by: number): Severity {
  const rank = Math.max(0, Math.min(4, SEVERITY_RANK[s] + by))
  return (Object.keys(SEVERITY_RANK) as Severity[]).find((k) => SEVERITY_RANK[k] === rank) ?? s
}

/** Where a stream of events comes from. `file` is what reports show; `rel` (if set) keys fingerprints. */
export interface SourceRef {
  file: string
  /** Path relative to the scanned root: fingerprints use it so they survive a moved state dir. */
  rel?: string
  /** Hint; each record's shape decides in the end. */
  kind?: 'transcript' | 'log' | 'config-audit'
  agentId?: string
  sessionId?: string
}

export interface FindingSource {
  file: string
  line?: number
  /** SQLite store (path as shown) when the event came from a database row. */
  store?: string
  table?: string
  agentId?: string
  sessionId?: string
  sessionKey?: string
  eventId?: string
  seq?: number
}

export interface Finding {
  ruleId: string
  category: Category
  severity: Severity
  title: string
  source: FindingSource
  kind?: EventKind
  role?: string
  toolName?: string
  timestamp?: string
  /** Context around the match; secrets masked (`sk-p…«sha256:ab12cd34ef56»`). */
  excerpt: string
  /** Stable across runs: rule, location and a hash of the matched text. */
  fingerprint: string
  /** Why the severity differs from the rule's (context), e.g. "in untrusted tool output, followed by a tool call". */
  context?: string
  /** Masked secret and its short hash, for secret findings. */
  secret?: {masked: string; sha256: string; entropy?: number}
  tags?: string[]
  /** Fingerprints of the findings a correlation finding is made of. */
  chain?: string[]
  /** The same event seen in other stores (a task_runs row, a JSONL copy): one finding, every place. */
  also?: FindingSource[]
  /** Internal, never in output: the matched text and what precedes it on its line, hashed (merges copies). */
  digest?: string
}

export interface SkippedItem {
  path: string
  reason: string
}

export interface ScanResult {
  /** events = lines and rows read; suppressed = findings dropped by a baseline. */
  scanned: {files: number; events: number; bytes: number; skipped: SkippedItem[]; suppressed?: number}
  findings: Finding[]
}

/** One normalized event (DESIGN.md event model). `order` is the line or seq inside its session. */
export interface ScanEvent {
  kind: EventKind
  text: string
  role?: string
  toolName?: string
  timestamp?: string
  eventId?: string
  /** The owner typed it (OpenClaw `__openclaw.senderIsOwner`); false = another sender. */
  senderIsOwner?: boolean
  /** Content from outside: web/browser/email tool output, wrapped external content, non-owner senders. */
  untrusted?: boolean
  fields?: Record<string, unknown>
}

/** Where one event sits: the location part of a Finding's source plus its order in the session. */
export interface EventLocation {
  source: SourceRef
  line?: number
  seq?: number
  store?: string
  table?: string
  sessionId?: string
  sessionKey?: string
  agentId?: string
}
