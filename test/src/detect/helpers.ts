import {mkdtemp, mkdir, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import Database from 'better-sqlite3'

/** Builders for real temp state dirs in the shapes OpenClaw writes (openclaw-internals.md §6). */

export async function tempDir(prefix = 'ir-detect-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix))
}

let n = 0
const id = () => (++n).toString(16).padStart(8, '0')
const ts = () => new Date(Date.UTC(2026, 10, 23, 21, 42, 0, n)).toISOString()

export const header = (sessionId: string) => ({
  type: 'session',
  version: 3,
  id: sessionId,
  timestamp: ts(),
  cwd: '/root/.openclaw/workspace',
})
export const user = (text: string, owner = true) => ({
  type: 'message',
  id: id(),
  parentId: null,
  timestamp: ts(),
  message: {role: 'user', content: text, timestamp: 1, __openclaw: {senderIsOwner: owner}},
})
export const assistant = (text: string) => ({
  type: 'message',
  id: id(),
  parentId: null,
  timestamp: ts(),
  message: {role: 'assistant', content: [{type: 'text', text}], stopReason: 'stop'},
})
export const call = (name: string, args: Record<string, unknown>) => ({
  type: 'message',
  id: id(),
  parentId: null,
  timestamp: ts(),
  message: {
    role: 'assistant',
    content: [{type: 'toolCall', id: `call_${id()}`, name, arguments: args}],
    stopReason: 'toolUse',
  },
})
export const result = (toolName: string, text: string) => ({
  type: 'message',
  id: id(),
  parentId: null,
  timestamp: ts(),
  message: {role: 'toolResult', toolCallId: `call_${id()}`, toolName, content: [{type: 'text', text}], isError: false},
})

export const jsonl = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n'

/** Write a file-era transcript: <state>/agents/<agent>/sessions/<sessionId>.jsonl */
export async function writeTranscript(
  state: string,
  agent: string,
  sessionId: string,
  records: unknown[],
  suffix = '',
): Promise<string> {
  const dir = path.join(state, 'agents', agent, 'sessions')
  await mkdir(dir, {recursive: true})
  const file = path.join(dir, `${sessionId}.jsonl${suffix}`)
  await writeFile(file, jsonl([header(sessionId), ...records]))
  return file
}

/**
 * A zstd frame of raw (stored) blocks: valid zstd that fzstd decodes, written without a
 * compressor (Node 20's zlib has none). Real compressed frames are covered by a fixture.
 */
export function zstdStored(data: Uint8Array): Buffer {
  const parts: Buffer[] = []
  const head = Buffer.alloc(9)
  head.writeUInt32LE(0xfd2fb528, 0)
  head[4] = 0xa0 // single segment, 4-byte frame content size
  head.writeUInt32LE(data.length, 5)
  parts.push(head)
  const MAX = 128 * 1024
  let off = 0
  do {
    const size = Math.min(MAX, data.length - off)
    const last = off + size >= data.length ? 1 : 0
    const bh = Buffer.alloc(3)
    bh.writeUIntLE((size << 3) | last, 0, 3) // block type 0 = raw
    parts.push(bh, Buffer.from(data.subarray(off, off + size)))
    off += size
  } while (off < data.length)
  return Buffer.concat(parts)
}

export interface StoreSession {
  sessionId: string
  sessionKey: string
  records: unknown[]
  /** Store rows from this seq on as event_zstd (like OpenClaw does for large events). */
  zstdFrom?: number
}

/** A SQLite-era per-agent store with the columns `ir scan` reads (2026.9.6 schema subset). */
export function writeAgentStore(file: string, sessions: StoreSession[]): void {
  const db = new Database(file)
  db.exec(`CREATE TABLE session_windows (session_id TEXT PRIMARY KEY, session_key TEXT NOT NULL, status TEXT);
    CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL,
      event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT, PRIMARY KEY (session_id, seq));`)
  const win = db.prepare('INSERT INTO session_windows VALUES (?, ?, ?)')
  const ev = db.prepare(
    'INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes) VALUES (?, ?, ?, ?, ?, ?)',
  )
  for (const s of sessions) {
    win.run(s.sessionId, s.sessionKey, 'done')
    const rows = [header(s.sessionId), ...s.records]
    rows.forEach((r, i) => {
      const json = JSON.stringify(r)
      if (s.zstdFrom !== undefined && i >= s.zstdFrom)
        ev.run(s.sessionId, i, null, 1, zstdStored(Buffer.from(json)), Buffer.byteLength(json))
      else ev.run(s.sessionId, i, json, 1, null, null)
    })
  }
  db.close()
}
