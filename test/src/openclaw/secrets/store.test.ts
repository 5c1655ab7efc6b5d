import {spawn} from 'node:child_process'

import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'

import {readStoreEntry, stateDbPath, writeStoreEntry} from '../../../../src/openclaw/secrets/store.js'
import {stateWithStore} from '../../actions/rotate-fixtures.js'
import {tempDir} from '../../../helpers/temp.js'

describe('secret store (state/openclaw.sqlite secret_store_entries)', () => {
  it('reads the live team entry and updates it in place, recording who wrote it', () => {
    // Given a store entry as onboarding writes it
    const state = stateWithStore({OPENCLAW_GATEWAY_TOKEN: 'store-old-0123456789abcdef'})
    expect(readStoreEntry(state, 'OPENCLAW_GATEWAY_TOKEN')).toMatchObject({
      value: 'store-old-0123456789abcdef',
      kind: 'secret',
      updatedBy: 'cli',
    })
    // When ir replaces it
    const r = writeStoreEntry(state, {
      name: 'OPENCLAW_GATEWAY_TOKEN',
      value: 'store-new-0123456789abcdef',
      expectedValue: 'store-old-0123456789abcdef',
      now: () => 42,
    })
    // Then the same row holds the new value (kind kept), stamped by ir
    expect(r.created).toBe(false)
    const db = new Database(stateDbPath(state), {readonly: true})
    expect(
      db.prepare('SELECT name, value, kind, updated_at_ms, updated_by, deleted_at_ms FROM secret_store_entries').all(),
    ).toEqual([
      {
        name: 'OPENCLAW_GATEWAY_TOKEN',
        value: 'store-new-0123456789abcdef',
        kind: 'secret',
        updated_at_ms: 42,
        updated_by: 'ir',
        deleted_at_ms: null,
      },
    ])
    db.close()
  })

  it('creates a missing entry, revives a deleted one, and ignores other scopes', () => {
    const state = stateWithStore()
    const db = new Database(stateDbPath(state))
    db.prepare(
      `INSERT INTO secret_store_entries VALUES ('identity', 'u1', 'X_TOKEN', 'other-scope', 'secret', 1, 1, 'cli', NULL, NULL)`,
    ).run()
    db.prepare(
      `INSERT INTO secret_store_entries VALUES ('team', '', 'Y_TOKEN', 'deleted', 'secret', 1, 1, 'cli', 5, NULL)`,
    ).run()
    db.close()
    expect(readStoreEntry(state, 'X_TOKEN')).toBeUndefined()
    expect(readStoreEntry(state, 'Y_TOKEN')).toBeUndefined()
    expect(writeStoreEntry(state, {name: 'X_TOKEN', value: 'new-x-0123456789'}).created).toBe(true)
    writeStoreEntry(state, {name: 'Y_TOKEN', value: 'new-y-0123456789'})
    expect(readStoreEntry(state, 'X_TOKEN')?.value).toBe('new-x-0123456789')
    expect(readStoreEntry(state, 'Y_TOKEN')?.value).toBe('new-y-0123456789')
  })

  it('refuses to overwrite a value that changed since the inventory', () => {
    const state = stateWithStore({OPENCLAW_GATEWAY_TOKEN: 'rotated-by-someone-else'})
    expect(() =>
      writeStoreEntry(state, {name: 'OPENCLAW_GATEWAY_TOKEN', value: 'mine', expectedValue: 'what-ir-saw'}),
    ).toThrow(expect.objectContaining({code: 'STORE_CHANGED'}))
    expect(readStoreEntry(state, 'OPENCLAW_GATEWAY_TOKEN')?.value).toBe('rotated-by-someone-else')
  })

  it('retries a locked database a bounded number of times, then fails clearly without writing', () => {
    // Given another connection holding the write lock (as a busy gateway would)
    const state = stateWithStore({OPENCLAW_GATEWAY_TOKEN: 'old-value-0123456789'})
    const holder = new Database(stateDbPath(state))
    holder.exec('BEGIN IMMEDIATE')
    try {
      // When ir writes with a short busy timeout
      const started = Date.now()
      let error: unknown
      try {
        writeStoreEntry(
          state,
          {name: 'OPENCLAW_GATEWAY_TOKEN', value: 'new-value-0123456789'},
          {busyTimeoutMs: 20, attempts: 3, retryDelayMs: 10},
        )
      } catch (err) {
        error = err
      }
      // Then it gave up after the bounded retries with an actionable error that holds no value
      expect(error).toMatchObject({code: 'STORE_LOCKED', exitCode: 1})
      expect((error as Error).message).toMatch(/stayed locked through 3 attempts; the secret store was not changed/)
      expect((error as Error).message).not.toContain('new-value')
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      holder.exec('ROLLBACK')
      holder.close()
    }
    expect(readStoreEntry(state, 'OPENCLAW_GATEWAY_TOKEN')?.value).toBe('old-value-0123456789')
  })

  it('succeeds when the lock holder lets go during the retries', async () => {
    // Given another process that holds the write lock for 300 ms
    const state = stateWithStore({A_TOKEN: 'a-old-0123456789'})
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(stateDbPath(state))});
      db.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { db.exec('ROLLBACK'); db.close() }, 300)`,
      ],
      {cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit']},
    )
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()))
    // When ir writes with short busy timeouts but enough attempts
    writeStoreEntry(
      state,
      {name: 'A_TOKEN', value: 'a-new-0123456789'},
      {busyTimeoutMs: 50, attempts: 20, retryDelayMs: 50},
    )
    await new Promise((resolve) => holder.once('exit', resolve))
    // Then the write went through once the lock was gone
    expect(readStoreEntry(state, 'A_TOKEN')?.value).toBe('a-new-0123456789')
  })

  it('says so when there is no database or no store table', () => {
    const empty = tempDir()
    expect(readStoreEntry(empty, 'A_TOKEN')).toBeUndefined()
    expect(() => writeStoreEntry(empty, {name: 'A_TOKEN', value: 'v'})).toThrow(
      expect.objectContaining({code: 'STORE_MISSING', exitCode: 3}),
    )
    const noTable = stateWithStore({}, {table: false})
    expect(readStoreEntry(noTable, 'A_TOKEN')).toBeUndefined()
    expect(() => writeStoreEntry(noTable, {name: 'A_TOKEN', value: 'v'})).toThrow(/has no secret_store_entries table/)
  })
})
