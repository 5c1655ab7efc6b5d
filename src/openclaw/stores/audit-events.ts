import type Database from 'better-sqlite3'

import {columns, hasTable, quote} from './sqlite-schema.js'

/**
 * OpenClaw's audit ledger (state/openclaw.sqlite `audit_events`, 2026.9+): metadata of every agent
 * run, message and tool action, kept 30 days, surviving the deletion of transcripts. No message
 * text, no arguments: who, what, when, through which channel, and how it ended.
 */

export interface AuditEvent {
  sequence: number
  /** Epoch milliseconds. */
  occurredAt: number
  kind: string
  action: string
  status: string
  actorType?: string
  actorId?: string
  agentId?: string
  sessionKey?: string
  sessionId?: string
  runId?: string
  toolName?: string
  toolCallId?: string
  direction?: string
  channel?: string
  conversationKind?: string
  messageOutcome?: string
  reasonCode?: string
  errorCode?: string
}

const FIELDS: Array<[keyof AuditEvent, string]> = [
  ['sequence', 'sequence'],
  ['occurredAt', 'occurred_at'],
  ['kind', 'kind'],
  ['action', 'action'],
  ['status', 'status'],
  ['actorType', 'actor_type'],
  ['actorId', 'actor_id'],
  ['agentId', 'agent_id'],
  ['sessionKey', 'session_key'],
  ['sessionId', 'session_id'],
  ['runId', 'run_id'],
  ['toolName', 'tool_name'],
  ['toolCallId', 'tool_call_id'],
  ['direction', 'direction'],
  ['channel', 'channel'],
  ['conversationKind', 'conversation_kind'],
  ['messageOutcome', 'message_outcome'],
  ['reasonCode', 'reason_code'],
  ['errorCode', 'error_code'],
]
const PAGE = 2000

export function hasAuditEvents(db: Database.Database): boolean {
  return hasTable(db, 'audit_events')
}

/** Every event in sequence order, a page at a time (memory flat); columns a newer schema dropped read as absent. */
export function* readAuditEvents(db: Database.Database, since?: Date): Generator<AuditEvent> {
  if (!hasAuditEvents(db)) return
  const have = new Set(columns(db, 'audit_events'))
  if (!have.has('sequence') || !have.has('occurred_at')) return
  const sel = FIELDS.filter(([, c]) => have.has(c))
    .map(([k, c]) => `${quote(c)} AS ${quote(k)}`)
    .join(', ')
  const page = db.prepare(
    `SELECT ${sel} FROM audit_events WHERE sequence > ? AND occurred_at >= ? ORDER BY sequence LIMIT ${PAGE}`,
  )
  let after = -1
  for (;;) {
    const rows = page.all(after, since?.getTime() ?? 0) as Array<Record<string, unknown>>
    for (const r of rows) {
      const e: Record<string, unknown> = {}
      for (const [k] of FIELDS) if (r[k] !== null && r[k] !== undefined) e[k] = r[k]
      yield e as unknown as AuditEvent
    }
    if (rows.length < PAGE) return
    after = Number(rows.at(-1)!.sequence)
  }
}
