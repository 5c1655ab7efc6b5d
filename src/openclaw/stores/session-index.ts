import type Database from 'better-sqlite3'

import {columns, hasTable, quote} from './sqlite-schema.js'

/**
 * The session index of an agent store (`session_windows`): which session key a session id belongs
 * to, and when it last changed.
 */

export interface SessionWindow {
  key?: string
  /** Epoch milliseconds. */
  updatedAt?: number
}

export function readSessionWindows(db: Database.Database): Map<string, SessionWindow> {
  const out = new Map<string, SessionWindow>()
  if (!hasTable(db, 'session_windows')) return out
  // older agent schemas lack some columns: select what is there
  const have = new Set(columns(db, 'session_windows'))
  const col = (c: string) => (have.has(c) ? quote(c) : 'NULL')
  for (const r of db
    .prepare(`SELECT session_id AS s, ${col('session_key')} AS k, ${col('updated_at')} AS u FROM session_windows`)
    .iterate() as Iterable<{s: string; k: string | null; u: number | null}>) {
    out.set(r.s, {key: r.k ?? undefined, updatedAt: r.u ?? undefined})
  }
  return out
}
