import {existsSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'

import {ExitCode, IrError, errorMessage} from '../../errors.js'
import {alignOwners} from '../../system/atomic-write.js'
import {readStoreCopy} from '../stores/read-only-open.js'

/**
 * OpenClaw's shared secret store: `state/openclaw.sqlite`, table `secret_store_entries`
 * (scope_kind 'team' with scope_id '' is the only scope SecretRefs resolve; columns name, value,
 * kind 'secret'|'env', created_at_ms, updated_at_ms, updated_by, deleted_at_ms, allowed_hosts).
 * Values are stored unencrypted. Writes are what `openclaw secrets store set` does (upsert of the
 * team row, deleted_at_ms cleared), in one IMMEDIATE transaction with a busy timeout and a bounded
 * retry when the gateway holds the write lock. A running gateway only sees the new value after
 * `secrets.reload` (or a config reload / restart).
 */

export const STORE_TABLE = 'secret_store_entries'

export function stateDbPath(stateDir: string): string {
  return path.join(stateDir, 'state', 'openclaw.sqlite')
}

export interface StoreEntry {
  name: string
  value: string
  kind: 'secret' | 'env'
  updatedAtMs?: number
  updatedBy?: string | null
}

export interface StoreOptions {
  /** SQLite busy timeout per attempt (default 1000 ms). */
  busyTimeoutMs?: number
  /** Attempts when the database stays locked (default 4: about 5 s in all). */
  attempts?: number
  /** Pause between attempts (default 250 ms, doubled each time). */
  retryDelayMs?: number
}

interface Row {
  name: string
  value: string
  kind: 'secret' | 'env'
  updated_at_ms: number
  updated_by: string | null
}

/** One live team entry, or undefined (no DB, no table, no row). Read-only, never creates anything. */
export function readStoreEntry(stateDir: string, name: string, opts: StoreOptions = {}): StoreEntry | undefined {
  const file = stateDbPath(stateDir)
  if (!existsSync(file)) return undefined
  // read from a private copy: a read-only open in place still writes the store's -shm
  return withRetry(file, opts, () =>
    readStoreCopy(file, (db) => {
      if (!hasTable(db)) return undefined
      const row = db
        .prepare(
          `SELECT name, value, kind, updated_at_ms, updated_by FROM ${STORE_TABLE}
        WHERE scope_kind = 'team' AND scope_id = '' AND name = ? AND deleted_at_ms IS NULL`,
        )
        .get(name) as Row | undefined
      return row
        ? {name: row.name, value: row.value, kind: row.kind, updatedAtMs: row.updated_at_ms, updatedBy: row.updated_by}
        : undefined
    }),
  )
}

export interface StoreWrite {
  name: string
  value: string
  /** The value the inventory saw: a different current value aborts (someone else rotated it). */
  expectedValue?: string
  /** Recorded in updated_by (OpenClaw's CLI writes "cli"). */
  updatedBy?: string
  now?: () => number
}

/** Upsert one team entry. Throws IrError STORE_LOCKED / STORE_CHANGED / STORE_MISSING. */
export function writeStoreEntry(stateDir: string, w: StoreWrite, opts: StoreOptions = {}): {created: boolean} {
  const file = stateDbPath(stateDir)
  if (!existsSync(file)) {
    throw new IrError(
      `OpenClaw's state database ${file} does not exist, so the secret store entry ${w.name} cannot be written.`,
      ExitCode.PreconditionFailed,
      ['Start the gateway once (it creates the database), or store the value with `openclaw secrets store set`.'],
      'STORE_MISSING',
    )
  }
  return withRetry(file, opts, () => {
    const db = new Database(file, {fileMustExist: true, timeout: opts.busyTimeoutMs ?? 1000})
    try {
      if (!hasTable(db)) {
        throw new IrError(
          `${file} has no ${STORE_TABLE} table (OpenClaw before the shared secret store).`,
          ExitCode.PreconditionFailed,
          [
            'Update the SecretRef to a source this OpenClaw supports, or store the value with `openclaw secrets ' +
              'store set`.',
          ],
          'STORE_MISSING',
        )
      }
      const now = (w.now ?? Date.now)()
      const tx = db.transaction(() => {
        const current = db
          .prepare(
            `SELECT value, kind FROM ${STORE_TABLE} WHERE scope_kind = 'team' AND scope_id = '' AND name = ? AND deleted_at_ms IS NULL`,
          )
          .get(w.name) as {value: string; kind: string} | undefined
        if (w.expectedValue !== undefined && current?.value !== w.expectedValue) {
          throw new IrError(
            `Secret store entry ${w.name} changed since ir read it; it was left as it is.`,
            ExitCode.PreconditionFailed,
            ['Someone else rotated it meanwhile: re-run `ir rotate` to plan against the current value.'],
            'STORE_CHANGED',
          )
        }
        db.prepare(
          `INSERT INTO ${STORE_TABLE} (scope_kind, scope_id, name, value, kind, created_at_ms, updated_at_ms, updated_by, deleted_at_ms, allowed_hosts)
          VALUES ('team', '', @name, @value, 'secret', @now, @now, @by, NULL, NULL)
          ON CONFLICT (scope_kind, scope_id, name) DO UPDATE SET value = @value, updated_at_ms = @now, updated_by = @by, deleted_at_ms = NULL`,
        ).run({name: w.name, value: w.value, now, by: w.updatedBy ?? 'ir'})
        return {created: current === undefined}
      })
      return tx.immediate()
    } finally {
      db.close()
      alignOwners(
        file,
        ['-wal', '-shm', '-journal'].map((x) => file + x),
      )
    }
  })
}

function hasTable(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(STORE_TABLE) !== undefined
}

function isBusy(err: unknown): boolean {
  const code = (err as {code?: string}).code ?? ''
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
}

function withRetry<T>(file: string, opts: StoreOptions, fn: () => T): T {
  const attempts = Math.max(1, opts.attempts ?? 4)
  let delay = opts.retryDelayMs ?? 250
  for (let i = 1; ; i++) {
    try {
      return fn()
    } catch (err) {
      if (err instanceof IrError) throw err
      if (!isBusy(err)) {
        throw new IrError(
          `OpenClaw's state database ${file} could not be used: ${errorMessage(err)}.`,
          ExitCode.Failure,
          ['Check that the file is a readable SQLite database owned by this user (`ir status` shows the state dir).'],
          'STORE_FAILED',
        )
      }
      if (i >= attempts) {
        throw new IrError(
          `OpenClaw's state database ${file} stayed locked through ${attempts} attempts; the secret store was not changed.`,
          ExitCode.Failure,
          [
            'Another process holds a long write transaction on it: wait a moment and re-run `ir rotate` (nothing ' +
              'else was written for this secret).',
          ],
          'STORE_LOCKED',
        )
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay)
      delay = Math.min(delay * 2, 2000)
    }
  }
}
