import type Database from 'better-sqlite3'

/**
 * OpenClaw's SQLite schemas, as far as `ir` reads them: the one place that knows table and column
 * names (openclaw-internals.md §6.3; confirmed against openclaw/openclaw src/state/).
 * Status, scan and collect read OpenClaw's stores through this folder only.
 */

/**
 * Credential-bearing tables, as OpenClaw lists them for its own redacted backups
 * (src/state/secret-state-tables.ts: STATE_SECRET_TABLE_NAMES, AGENT_SECRET_TABLE_NAMES).
 */
export const STATE_SECRET_TABLES: readonly string[] = [
  'audit_identity_keys',
  'apns_registrations',
  'channel_ingress_events',
  'channel_pairing_requests',
  'clawhub_promotion_claims',
  'config_revision_keys',
  'device_auth_tokens',
  'device_bootstrap_tokens',
  'device_identities',
  'device_pairing_join_codes',
  'device_pairing_paired',
  'gateway_origin_device_tokens',
  'mcp_oauth_pending_authorizations',
  'mcp_oauth_stores',
  'native_hook_relay_bridges',
  'secret_store_entries',
  'web_push_subscriptions',
  'worker_environment_credentials',
]
export const AGENT_SECRET_TABLES: readonly string[] = [
  'auth_profile_state',
  'auth_profile_store',
  'cache_entries',
  'session_suggestions',
]
/** config_machine_state rows under these keys hold credentials (STATE_SECRET_CONFIG_STATE_KEY_PREFIXES). */
export const MACHINE_STATE_SECRET_PREFIXES: readonly string[] = ['authProfiles.', 'nodeHost.', 'webPush.vapidKeys']
/** Older stores and plugins: table names that say they hold credentials. */
const SECRET_TABLE_NAME = /(auth|token|secret|credential|oauth|identit|pairing|device|apns|push|password|_keys?$)/i

/** OpenClaw's list, or a name that says so (older schemas). */
export function isSecretTable(name: string): boolean {
  return STATE_SECRET_TABLES.includes(name) || AGENT_SECRET_TABLES.includes(name) || SECRET_TABLE_NAME.test(name)
}

export function isSecretMachineStateKey(key: string): boolean {
  return MACHINE_STATE_SECRET_PREFIXES.some((p) => key.startsWith(p))
}

export interface TableInfo {
  name: string
  type: 'table' | 'virtual' | 'shadow' | 'view'
  withoutRowid: boolean
}

export function tables(db: Database.Database): TableInfo[] {
  const rows = db.prepare("SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'").all() as Array<{
    name: string
    type: TableInfo['type']
    wr: number
  }>
  return rows
    .filter((r) => !r.name.startsWith('sqlite_'))
    .map((r) => ({name: r.name, type: r.type, withoutRowid: r.wr === 1}))
}

export function columns(db: Database.Database, table: string): string[] {
  return (
    db.prepare('SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0').all(table) as Array<{name: string}>
  ).map((r) => r.name)
}

export function hasTable(db: Database.Database, name: string): boolean {
  return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name))
}

export const quote = (id: string) => `"${id.replace(/"/g, '""')}"`

export interface SchemaMeta {
  role?: string
  schemaVersion?: number
  appVersion?: string
  agentId?: string
}

/** schema_meta's primary row (undefined before the table existed). */
export function readSchemaMeta(db: Database.Database): SchemaMeta | undefined {
  if (!hasTable(db, 'schema_meta')) return undefined
  const cols = new Set(columns(db, 'schema_meta'))
  const where = cols.has('meta_key') ? " WHERE meta_key = 'primary'" : ''
  const row = db.prepare(`SELECT * FROM schema_meta${where} LIMIT 1`).get() as Record<string, unknown> | undefined
  if (!row) return undefined
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return {
    role: str(row.role),
    schemaVersion: typeof row.schema_version === 'number' ? row.schema_version : undefined,
    appVersion: str(row.app_version),
    agentId: str(row.agent_id),
  }
}
