import {closeSync, openSync, readSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'

import {readStoreCopy} from './stores/read-only-open.js'
import {readSchemaMeta} from './stores/sqlite-schema.js'
import {AGENT_STORE_FILE, headerUserVersion, isSqliteHeader, STATE_STORE_FILE} from './stores/sqlite-file.js'

/**
 * Storage era: "file" (≤ 2026.7.1: sessions/*.jsonl, pairing JSON) or "sqlite" (≥ 2026.7.2:
 * per-agent openclaw-agent.sqlite with agent schema ≥ 4). Read-only: headers are read from the
 * file bytes; schema_meta through a read-only connection when it opens.
 */

export type Era = 'sqlite' | 'file' | 'empty' | 'unknown'

export interface StoreInfo {
  path: string
  agentId?: string
  /** PRAGMA user_version read from the database header. */
  userVersion?: number
  schemaMeta?: {role?: string; schemaVersion?: number; appVersion?: string}
  problem?: string
}

export interface EraInfo {
  era: Era
  agentStores: StoreInfo[]
  stateDb?: StoreInfo
  /** Legacy transcript files seen (agents/<id>/sessions/*.jsonl…). */
  sessionFiles: number
  agents: string[]
}

export function detectEra(stateDir: string): EraInfo {
  const agentsDir = path.join(stateDir, 'agents')
  const agents = listDirs(agentsDir)
  const agentStores: StoreInfo[] = []
  let sessionFiles = 0
  for (const agentId of agents) {
    const store = path.join(agentsDir, agentId, 'agent', AGENT_STORE_FILE)
    if (exists(store)) agentStores.push({...inspectStore(store), agentId})
    try {
      sessionFiles += readdirSync(path.join(agentsDir, agentId, 'sessions')).filter((n) =>
        /\.jsonl(\.|$)/.test(n),
      ).length
    } catch {
      /* no sessions dir */
    }
  }
  const stateDbPath = path.join(stateDir, STATE_STORE_FILE)
  const stateDb = exists(stateDbPath) ? inspectStore(stateDbPath) : undefined
  const era = eraOf({
    agentStores: agentStores.map((s) => ({userVersion: s.userVersion, schemaVersion: s.schemaMeta?.schemaVersion})),
    stateStore: stateDb && {userVersion: stateDb.userVersion, schemaVersion: stateDb.schemaMeta?.schemaVersion},
    fileEraData: sessionFiles > 0 || agents.length > 0 || exists(path.join(stateDir, 'credentials')),
    anyStore: agentStores.length > 0 || stateDb !== undefined,
  })
  return {era, agentStores, stateDb, sessionFiles, agents}
}

const FIRST_SQLITE_ERA_STATE_SCHEMA = 15

/** The era rule, from facts (status reads them from the install, collect from its copies). */
export function eraOf(facts: {
  agentStores: Array<{userVersion?: number; schemaVersion?: number}>
  /** The global store (`state/openclaw.sqlite`), when there is one. */
  stateStore?: {userVersion?: number; schemaVersion?: number}
  /** Legacy transcripts, agent dirs or a credentials dir. */
  fileEraData: boolean
  anyStore: boolean
}): Era {
  // Agent schema 4 moved sessions and transcripts into SQLite.
  if (facts.agentStores.some((s) => (s.userVersion ?? 0) >= 4 || (s.schemaVersion ?? 0) >= 4)) return 'sqlite'
  // Before its first agent turn a SQLite-era install has only the global store: state schema 15 is 2026.8.1's
  // (the first stable SQLite era); the hybrid versions before it wrote schema 1 with role "global".
  const state = facts.stateStore
  if (state && Math.max(state.userVersion ?? 0, state.schemaVersion ?? 0) >= FIRST_SQLITE_ERA_STATE_SCHEMA)
    return 'sqlite'
  if (facts.fileEraData) return 'file'
  return facts.anyStore ? 'unknown' : 'empty'
}

/** Stores up to this size are read into memory for schema_meta; larger ones give header facts only. */
const MAX_INSPECT_BYTES = 64 * 1024 * 1024

/**
 * Header facts and schema_meta of a SQLite file without touching it: SQLite itself would create or
 * rewrite -wal/-shm next to a WAL store even on a read-only open, so the file's bytes are read and
 * opened as an in-memory copy (WAL flag cleared; un-checkpointed WAL pages are not seen).
 */
export function inspectStore(file: string): StoreInfo {
  // A store in WAL mode keeps its newest pages (a fresh schema, user_version) in the -wal until a
  // checkpoint: a running gateway's store is read from a private copy with its WAL.
  if (walBytes(file) > 0 && statSize(file) + walBytes(file) <= MAX_INSPECT_BYTES) {
    try {
      return readStoreCopy(file, (db) => {
        const m = readSchemaMetaQuietly(db)
        return {
          path: file,
          userVersion: db.pragma('user_version', {simple: true}) as number,
          ...(m ? {schemaMeta: {role: m.role, schemaVersion: m.schemaVersion, appVersion: m.appVersion}} : {}),
        }
      })
    } catch {
      // unreadable copy or WAL: the main file's bytes below still say something
    }
  }
  const info: StoreInfo = {path: file}
  let bytes: Buffer
  try {
    const size = statSync(file).size
    const fd = openSync(file, 'r')
    try {
      bytes = Buffer.alloc(size <= MAX_INSPECT_BYTES ? size : 100)
      readSync(fd, bytes, 0, bytes.length, 0)
    } finally {
      closeSync(fd)
    }
  } catch (err) {
    return {...info, problem: `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})`}
  }
  if (!isSqliteHeader(bytes)) return {...info, problem: 'not a SQLite database'}
  info.userVersion = headerUserVersion(bytes)
  if (bytes.length === 100) return info
  try {
    bytes[18] = 1 // legacy journal mode for the in-memory copy
    bytes[19] = 1
    const db = new Database(bytes)
    try {
      const m = readSchemaMeta(db)
      if (m) info.schemaMeta = {role: m.role, schemaVersion: m.schemaVersion, appVersion: m.appVersion}
    } finally {
      db.close()
    }
  } catch (err) {
    // No schema_meta (older schema) or a damaged file: the header facts still stand.
    if (!/no such table/.test(String(err)))
      info.problem = `schema_meta not readable: ${String((err as Error).message ?? err)}`
  }
  return info
}

function readSchemaMetaQuietly(db: Database.Database): ReturnType<typeof readSchemaMeta> {
  try {
    return readSchemaMeta(db)
  } catch {
    return undefined // older schema: no schema_meta
  }
}

function statSize(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

function walBytes(file: string): number {
  return statSize(`${file}-wal`)
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, {withFileTypes: true})
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
  } catch {
    return []
  }
}

function exists(p: string): boolean {
  try {
    statSync(p)
    return true
  } catch {
    return false
  }
}
