// Reads transcripts back from OpenClaw's per-agent SQLite store (openclaw-live.md §8), read-only.
import Database from 'better-sqlite3'
import {decompress} from 'fzstd'

export interface TranscriptRow {
  sessionId: string
  seq: number
  createdAt: number
  /** `event_json` was NULL and the event came from `event_zstd`. */
  compressed: boolean
  /** The event, parsed: the same object as one line of a legacy session JSONL file. */
  event: {type?: string; message?: {role?: string; content?: unknown; toolName?: string}; [key: string]: unknown}
}

interface RawRow {
  session_id: string
  seq: number
  created_at: number
  event_json: string | null
  event_zstd: Buffer | null
}

export function decodeEvent(row: {event_json: string | null; event_zstd: Uint8Array | null}): unknown {
  if (row.event_json !== null) return JSON.parse(row.event_json)
  if (row.event_zstd) return JSON.parse(Buffer.from(decompress(new Uint8Array(row.event_zstd))).toString('utf8'))
  throw new Error('transcript row has neither event_json nor event_zstd')
}

/** Session ids recorded for a session key in `session_windows`. */
export function sessionIdsForKey(dbPath: string, sessionKey: string): string[] {
  const db = new Database(dbPath, {readonly: true, fileMustExist: true})
  try {
    return db
      .prepare('SELECT DISTINCT session_id FROM session_windows WHERE session_key = ?')
      .all(sessionKey)
      .map((r) => (r as {session_id: string}).session_id)
  } finally {
    db.close()
  }
}

/** Every transcript event of the sessions behind `sessionKey`, in (session, seq) order. */
export function readTranscript(dbPath: string, sessionKey: string): TranscriptRow[] {
  const db = new Database(dbPath, {readonly: true, fileMustExist: true})
  try {
    const rows = db
      .prepare(
        `SELECT e.session_id, e.seq, e.created_at, e.event_json, e.event_zstd
      FROM transcript_events e
      WHERE e.session_id IN (SELECT session_id FROM session_windows WHERE session_key = ?)
      ORDER BY e.session_id, e.seq`,
      )
      .all(sessionKey) as RawRow[]
    return rows.map((r) => ({
      sessionId: r.session_id,
      seq: r.seq,
      createdAt: r.created_at,
      compressed: r.event_json === null,
      event: decodeEvent(r) as TranscriptRow['event'],
    }))
  } finally {
    db.close()
  }
}
