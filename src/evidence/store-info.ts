import Database from 'better-sqlite3'

import {eraOf} from '../openclaw/era.js'
import {readSchemaMeta} from '../openclaw/stores/sqlite-schema.js'
import type {StagedFile} from './acquire.js'
import type {Source} from './discover.js'

/** What a collected SQLite store says about the install: its schema versions, and from them the storage era. */

export interface StoreInfo {
  path: string
  agentId?: string
  userVersion?: number
  schemaVersion?: number
  appVersion?: string
  role?: string
}

/** The consistent backup of a per-agent store (a doctor's .bak copy is not one). */
const AGENT_STORE_BACKUP = /openclaw-agent\.sqlite$/
const STATE_STORE_BACKUP = /(?:^|\/)state\/openclaw\.sqlite$/

/** The versions in a staged store backup (read-only); undefined when it cannot be read (its record says why). */
export function storeInfoOf(s: StagedFile): StoreInfo | undefined {
  try {
    const db = new Database(s.stagedPath, {readonly: true, fileMustExist: true})
    try {
      return {
        path: s.bundlePath,
        userVersion: db.pragma('user_version', {simple: true}) as number,
        ...readSchemaMeta(db),
      }
    } finally {
      db.close()
    }
  } catch {
    return undefined
  }
}

export function collectedEra(stores: StoreInfo[], sources: Source[]): string {
  return eraOf({
    agentStores: stores.filter((s) => s.role !== 'global' && AGENT_STORE_BACKUP.test(s.path)),
    stateStore: stores.find((s) => STATE_STORE_BACKUP.test(s.path)),
    fileEraData: sources.some(
      (s) => s.kind === 'transcript' || s.rel?.startsWith('agents/') || s.rel?.startsWith('credentials/'),
    ),
    anyStore: sources.length > 0,
  })
}
