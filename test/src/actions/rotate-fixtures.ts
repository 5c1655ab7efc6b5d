import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'

import {openCase} from '../../../src/case/case-store.js'
import {stateDbPath} from '../../../src/openclaw/secrets/store.js'
import type {ActionContext} from '../../../src/playbook/action-types.js'
import {defaultsPrompter, type Prompter} from '../../../src/playbook/prompter.js'
import {realRunner} from '../../../src/system/process-runner.js'
import {tempDir} from '../../helpers/temp.js'

/** Fixtures for the rotate tests: real temp state dirs, the real secret store schema. */

/** The table exactly as openclaw@2026.9.6 creates it (dist/openclaw-state-db-read-connection-*.mjs). */
export const SECRET_STORE_SCHEMA = `CREATE TABLE IF NOT EXISTS secret_store_entries (
  scope_kind TEXT NOT NULL CHECK (scope_kind IN ('team', 'identity')),
  scope_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('secret', 'env')),
  created_at_ms INTEGER NOT NULL CHECK (created_at_ms >= 0),
  updated_at_ms INTEGER NOT NULL CHECK (updated_at_ms >= 0),
  updated_by TEXT,
  deleted_at_ms INTEGER,
  allowed_hosts TEXT,
  CHECK ((scope_kind = 'team' AND scope_id = '') OR (scope_kind = 'identity' AND length(scope_id) > 0)),
  PRIMARY KEY (scope_kind, scope_id, name)
) STRICT;
CREATE INDEX IF NOT EXISTS secret_store_entries_live_idx ON secret_store_entries (scope_kind, scope_id, name) WHERE deleted_at_ms IS NULL;`

/**
 * A state dir whose state/openclaw.sqlite holds the given team entries (as `openclaw secrets store set` writes them).
 */
export function stateWithStore(
  entries: Record<string, string> = {},
  opts: {table?: boolean; state?: string} = {},
): string {
  const state = opts.state ?? tempDir('ir-store-')
  mkdirSync(path.join(state, 'state'), {recursive: true})
  const db = new Database(stateDbPath(state))
  db.pragma('journal_mode = WAL')
  if (opts.table !== false) db.exec(SECRET_STORE_SCHEMA)
  for (const [name, value] of Object.entries(entries)) {
    db.prepare(`INSERT INTO secret_store_entries VALUES ('team', '', ?, ?, 'secret', 1, 1, 'cli', NULL, NULL)`).run(
      name,
      value,
    )
  }
  db.close()
  return state
}

/** A state dir with this config text (0600). */
export function stateWithConfig(
  config: string | object,
  state = tempDir('ir-rot-'),
): {state: string; configPath: string} {
  mkdirSync(state, {recursive: true})
  const configPath = path.join(state, 'openclaw.json')
  writeFileSync(configPath, typeof config === 'string' ? config : JSON.stringify(config, null, 2) + '\n')
  chmodSync(configPath, 0o600)
  return {state, configPath}
}

/**
 * A stand-in for the gateway's HTTP auth surface: /healthz, /readyz, POST /tools/invoke (404 for
 * the current secret, 401 otherwise) and POST <hooks path> (same for the hooks token). The
 * secrets come from functions, so a test decides whether a change "hot-applies" (read the config
 * on every request) or needs a restart (a value captured at start).
 */
export interface FakeGateway {
  port: number
  requests: Array<{path: string; status: number}>
  close(): Promise<void>
}

export async function fakeGateway(
  secrets: {gateway: () => string | undefined; hooks?: () => string | undefined; hooksPath?: string},
  port = 0,
): Promise<FakeGateway> {
  const {createServer} = await import('node:http')
  const requests: FakeGateway['requests'] = []
  const server = createServer((req, res) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    let status = 404
    if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/readyz')) status = 200
    else if (req.method === 'POST' && req.url === '/tools/invoke')
      status = bearer !== undefined && bearer === secrets.gateway() ? 404 : 401
    else if (req.method === 'POST' && req.url === (secrets.hooksPath ?? '/hooks'))
      status = bearer !== undefined && bearer === secrets.hooks?.() ? 404 : 401
    requests.push({path: req.url ?? '', status})
    req.resume()
    req.on('end', () =>
      res.writeHead(status, {'content-type': 'application/json'}).end(status === 200 ? '{"ok":true}' : '{}'),
    )
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const {createServer} = await import('node:net')
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 1))
    })
  })
}

/** An action's context on one install, with a fresh case and no OpenClaw on PATH (a rotate step run alone). */
export function actionContext(state: string, configPath: string, prompter: Prompter = defaultsPrompter): ActionContext {
  return {
    install: {stateDir: state, configPath, source: 'flag', stateDirExists: true, configExists: true},
    case: openCase(undefined, {home: tempDir('ir-home-')}),
    prompter,
    runner: realRunner,
    env: {PATH: ''},
    now: () => new Date(),
    vars: {},
    dryRun: false,
    results: new Map(),
    state: {},
  }
}
