import {type ChildProcess, spawn} from 'node:child_process'
import {createRequire} from 'node:module'
import {existsSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {defaultsPrompter} from '../../../src/playbook/prompter.js'
import {rotate} from '../../../src/rotate.js'
import {scan} from '../../../src/scan.js'
import {status} from '../../../src/status.js'
import {noRunner, type Snapshot, snapshot, sqliteEraState, type SqliteEra, tmp} from './helpers.js'

// Read-only commands leave the evidence as they found it: `ir scan`, `ir status` and
// `ir rotate --dry-run` on stores a killed gateway left with their -wal/-shm, and on a store a live
// gateway holds open, change no byte and no mtime of any file (the -shm included).

const require = createRequire(import.meta.url)
let root: string
let era: SqliteEra
let writer: ChildProcess | undefined
let before: Snapshot
let mtimesNs: Map<string, bigint>

/** A gateway's connection: WAL mode, a row not checkpointed, the store held open until killed. */
function liveWriter(db: string): Promise<ChildProcess> {
  const script = `
const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))})
const db = new Database(process.argv[1])
db.pragma('journal_mode = WAL')
db.pragma('wal_autocheckpoint = 0')
db.prepare("INSERT INTO device_auth_tokens VALUES ('dev-live','operator','devtok_LIVE_0000000000000000', '[]', 1795600000001)").run()
process.stdout.write('ready\\n')
setInterval(() => {}, 60000)
`
  const child = spawn(process.execPath, ['-e', script, db], {stdio: ['ignore', 'pipe', 'inherit']})
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child))
    child.once('exit', (code) => reject(new Error(`writer exited ${code}`)))
  })
}

function mtimes(dir: string, snap: Snapshot): Map<string, bigint> {
  return new Map(Object.keys(snap).map((rel) => [rel, statSync(path.join(dir, rel), {bigint: true}).mtimeNs]))
}

beforeAll(async () => {
  // Given an install of the SQLite era: the agent store left with its -wal/-shm by a killed
  // gateway, the state store held open by a live one, and a hooks token kept in the secret store
  root = tmp('ir-ev-untouched-')
  era = sqliteEraState(root)
  const config = JSON.parse(readFileSync(era.configPath, 'utf8')) as Record<string, unknown>
  config.hooks = {enabled: true, token: {source: 'store', provider: 'default', id: 'hooks-token'}}
  writeFileSync(era.configPath, JSON.stringify(config, null, 2))
  writer = await liveWriter(era.stateDb)
  expect(existsSync(`${era.agentDb}-shm`) && existsSync(`${era.stateDb}-shm`)).toBe(true)
  before = snapshot(era.stateDir)
  mtimesNs = mtimes(era.stateDir, before)
}, 60_000)

afterAll(() => {
  writer?.kill('SIGKILL')
  rmSync(root, {recursive: true, force: true})
})

describe('read-only commands on live and crashed stores', () => {
  it('ir scan, ir status and ir rotate --dry-run change no byte and no mtime under the state dir', async () => {
    // When each runs against the install
    const home = path.join(root, 'home')
    const host = {env: {HOME: home, PATH: ''}, homedir: home, uid: 0}
    const scanned = await scan({paths: [], target: {stateDir: era.stateDir}})
    await status({stateDir: era.stateDir}, {host, runner: noRunner, gatewaySeams: {fetchTimeoutMs: 100}})
    const planned = await rotate({
      target: {stateDir: era.stateDir},
      dryRun: true,
      prompter: defaultsPrompter,
      mayChange: false,
      runner: noRunner,
      host,
      irHome: path.join(root, 'ir-home'),
    })
    // Then they did read the stores (the scan found the transcripts; the rotate plan ran)
    expect(scanned.result.scanned.files).toBeGreaterThan(0)
    expect(planned.steps.length).toBeGreaterThan(0)
    // And every file, -wal and -shm included, has the same bytes, size and mtime (to the nanosecond)
    const after = snapshot(era.stateDir)
    const strip = (s: Snapshot) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, {...v, atimeMs: 0, mtimeMs: 0}]))
    expect(strip(after)).toEqual(strip(before))
    expect(mtimes(era.stateDir, after)).toEqual(mtimesNs)
  })
})
