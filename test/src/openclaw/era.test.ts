import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {detectEra, inspectStore} from '../../../src/openclaw/era.js'
import {fileEraStateDir, sqliteEraStateDir} from '../../fixtures/state-dirs.js'
import {tempDir} from '../../helpers/temp.js'

describe('detectEra', () => {
  it('recognises the file era from session JSONL files', () => {
    const info = detectEra(fileEraStateDir(tempDir()))
    expect(info).toMatchObject({era: 'file', sessionFiles: 1, agents: ['main'], agentStores: []})
  })

  it('recognises the SQLite era from the agent store user_version and schema_meta', () => {
    const dir = sqliteEraStateDir(tempDir())
    const info = detectEra(dir)
    expect(info.era).toBe('sqlite')
    expect(info.agentStores[0]).toMatchObject({
      agentId: 'main',
      userVersion: 23,
      schemaMeta: {role: 'agent', schemaVersion: 23, appVersion: '2026.9.6'},
    })
    expect(info.stateDb?.schemaMeta?.role).toBe('state')
  })

  it('calls a SQLite-era install before its first agent turn sqlite (global store only), a hybrid one unknown', async () => {
    const Database = (await import('better-sqlite3')).default
    const withGlobalStore = (role: string, version: number) => {
      const dir = tempDir()
      mkdirSync(path.join(dir, 'state'))
      const db = new Database(path.join(dir, 'state', 'openclaw.sqlite'))
      db.exec(
        'CREATE TABLE schema_meta (meta_key TEXT PRIMARY KEY, role TEXT NOT NULL, schema_version INTEGER NOT NULL)',
      )
      db.prepare('INSERT INTO schema_meta VALUES (?,?,?)').run('primary', role, version)
      db.pragma(`user_version = ${version}`)
      db.close()
      return dir
    }
    // Given the global store as 2026.9.6 writes it (role state, schema 18) and as 2026.6.35 does (global, 1)
    // Then the first is the SQLite era, the second not known from the store alone
    expect(detectEra(withGlobalStore('state', 18)).era).toBe('sqlite')
    expect(detectEra(withGlobalStore('global', 1)).era).toBe('unknown')
  })

  it('calls an empty dir empty, and a store that is not a database a problem', () => {
    const dir = tempDir()
    expect(detectEra(dir).era).toBe('empty')
    const fake = path.join(dir, 'x.sqlite')
    writeFileSync(fake, 'this is not sqlite')
    expect(inspectStore(fake).problem).toBe('not a SQLite database')
  })
})

describe('inspectStore leaves the store untouched', () => {
  it('reads schema_meta of a WAL store without creating -wal/-shm or changing mtimes', async () => {
    // Given a real WAL-mode store whose -wal/-shm were checkpointed away
    const dir = sqliteEraStateDir(tempDir())
    const store = path.join(dir, 'agents', 'main', 'agent', 'openclaw-agent.sqlite')
    const Database = (await import('better-sqlite3')).default
    const db = new Database(store)
    db.pragma('journal_mode = WAL')
    db.close()
    const fs = await import('node:fs')
    const before = fs.readdirSync(path.dirname(store)).sort()
    const mtime = fs.statSync(store).mtimeMs
    // When it is inspected
    const info = inspectStore(store)
    // Then the facts are read and nothing appeared or changed next to it
    expect(info.schemaMeta?.appVersion).toBe('2026.9.6')
    expect(fs.readdirSync(path.dirname(store)).sort()).toEqual(before)
    expect(fs.statSync(store).mtimeMs).toBe(mtime)
  })

  it('sees a schema that is still in the -wal (a running gateway), and leaves store, -wal and -shm as they were', async () => {
    // Given a store whose writer keeps it open with the schema and user_version only in the WAL
    const dir = tempDir()
    const agentDir = path.join(dir, 'agents', 'main', 'agent')
    const fs = await import('node:fs')
    fs.mkdirSync(agentDir, {recursive: true})
    const store = path.join(agentDir, 'openclaw-agent.sqlite')
    const Database = (await import('better-sqlite3')).default
    const writer = new Database(store)
    try {
      writer.pragma('journal_mode = WAL')
      writer.pragma('wal_autocheckpoint = 0')
      writer.exec('CREATE TABLE transcript_events (id INTEGER PRIMARY KEY)')
      writer.pragma('user_version = 23')
      const files = [store, `${store}-wal`, `${store}-shm`]
      const facts = () => files.map((f) => `${f} ${fs.statSync(f).size} ${fs.statSync(f).mtimeMs}`)
      const before = facts()
      const walBefore = fs.readFileSync(`${store}-wal`)
      const shmBefore = fs.readFileSync(`${store}-shm`)
      // When the era is detected
      const info = detectEra(dir)
      // Then the WAL's schema counts (SQLite era), and not a byte or mtime moved
      expect(info.agentStores[0]?.userVersion).toBe(23)
      expect(info.era).toBe('sqlite')
      expect(facts()).toEqual(before)
      expect(fs.readFileSync(`${store}-wal`).equals(walBefore)).toBe(true)
      expect(fs.readFileSync(`${store}-shm`).equals(shmBefore)).toBe(true)
    } finally {
      writer.close()
    }
  })
})
