import {writeFileSync} from 'node:fs'
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
})
