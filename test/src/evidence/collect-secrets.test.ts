import {execFileSync} from 'node:child_process'
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'

import type {ItemRecord} from '../../../src/evidence/collect-types.js'
import {collectUnder, extract, filesContaining, SECRETS, SESSION_A, sqliteEraState, tmp} from './helpers.js'

// No secret in clear in a default bundle, whatever the input: a config that does not parse, keys
// that span lines in workspace files, a service-account key file, the same key JSON-escaped in a
// transcript row.

const MACHINE_SECRET = 'sk-ant-api03-FAKEmachineFAKEmachine0123456789abcdefghij'
const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, {recursive: true, force: true})
})

/** Key material made for the test: an RSA PEM, an OpenSSH key, a PGP-armored private block, a GCP-style key file. */
function keys(dir: string) {
  const rsa = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey.export({type: 'pkcs1', format: 'pem'})
  const sshFile = path.join(dir, 'id_test')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', sshFile])
  const ssh = readFileSync(sshFile, 'utf8')
  const armor = randomBytes(600)
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')
  const pgp = `-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: test key\n\n${armor}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\n`
  const pkcs8 = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey.export({type: 'pkcs8', format: 'pem'})
  const gcp = {
    type: 'service_account',
    project_id: 'demo-project',
    private_key_id: 'f3b2c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4',
    private_key: pkcs8,
    client_email: 'ir-test@demo-project.iam.gserviceaccount.com',
    client_id: '123456789012345678901',
  }
  // lines of each body that must not be in the bundle
  const bodyLines = (pem: string) => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'))
  return {
    rsa: String(rsa),
    ssh,
    pgp,
    gcp,
    probes: [
      ...bodyLines(String(rsa)),
      ...bodyLines(ssh),
      ...bodyLines(pgp),
      ...bodyLines(String(pkcs8)),
      gcp.private_key_id,
      // the escaped form inside the JSON file and a transcript
      JSON.stringify(String(pkcs8)).slice(1, 60),
    ],
  }
}

describe('ir collect masks every secret, whatever the input', () => {
  it('masks the gateway token everywhere when openclaw.json does not parse, and private keys as blocks', async () => {
    // Given a SQLite-era install whose config has a stray comma, the gateway token pasted into a log, a workspace
    // note and a transcript row, and private keys in workspace files (multi-line) and in a transcript (escaped)
    const root = tmp()
    roots.push(root)
    const s = sqliteEraState(root)
    const config = readFileSync(s.configPath, 'utf8').replace('"bind": "loopback",', '"bind": "loopback",,')
    writeFileSync(s.configPath, config)
    expect(() => JSON.parse(config)).toThrow()
    const k = keys(root)
    const ws = path.join(s.stateDir, 'workspace')
    mkdirSync(path.join(ws, 'backup'), {recursive: true})
    writeFileSync(
      path.join(ws, 'notes.md'),
      `# deploy notes\ntoken is ${SECRETS.gatewayToken}\n\n${k.rsa}\nend of notes\n`,
    )
    writeFileSync(path.join(ws, 'backup', 'signing-key.asc'), k.pgp)
    writeFileSync(path.join(ws, 'backup', 'deploy_key'), k.ssh)
    writeFileSync(path.join(ws, 'gcp-sa.json'), JSON.stringify(k.gcp, null, 2))
    mkdirSync(path.join(s.stateDir, 'logs'), {recursive: true})
    writeFileSync(
      path.join(s.stateDir, 'logs', 'gateway.log'),
      `2026-11-19T08:00:00.000Z connect token=${SECRETS.gatewayToken}\n`,
    )
    const db = new Database(s.agentDb)
    db.prepare('INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?,?,?,?)').run(
      SESSION_A,
      500,
      JSON.stringify({
        type: 'message',
        id: 'k0000001',
        timestamp: '2026-11-19T08:03:00.000Z',
        message: {role: 'user', content: [{type: 'text', text: `use ${SECRETS.gatewayToken} and this key:\n${k.rsa}`}]},
      }),
      1795600020000,
    )
    db.close()
    // and the state store has an audit event and a machine-state credential row, and the doctor's pre-migration
    // copy of it sits beside it under a name no extension gives away
    const st = new Database(s.stateDb)
    st.prepare(
      `INSERT INTO audit_events (event_id, source_id, source_sequence, occurred_at, kind, action, status, actor_type,
       actor_id, agent_id, session_id, tool_name, channel) VALUES ('e1','s1',1,?,'tool','exec','ok','agent','main',
       'main',?,'exec','telegram')`,
    ).run(Date.parse('2026-11-19T08:00:06Z'), SESSION_A)
    st.prepare('INSERT INTO config_machine_state VALUES (?,?,?)').run(
      'authProfiles.anthropic:default',
      JSON.stringify({type: 'api_key', apiKey: MACHINE_SECRET}),
      1795600000000,
    )
    st.pragma('wal_checkpoint(TRUNCATE)')
    st.close()
    const bak = `${s.stateDb}.pre-startup-migration-2026-11-19T08-10-00.000Z.bak`
    copyFileSync(s.stateDb, bak)

    // When it is collected with the defaults
    const r = await collectUnder(root, s.stateDir)

    // Then the bundle verifies and no byte of the token or of any key body is in it (SQLite files included)
    expect(r.verified).toBe(true)
    const x = extract(r.bundle)
    const planted = [SECRETS.gatewayToken, SECRETS.stateDbDevice, SECRETS.taskPrompt, MACHINE_SECRET, ...k.probes]
    expect(filesContaining(x, planted)).toEqual([])
    // and the doctor's backup was recognised by its header: masked, exported and scanned like the live store
    const items = JSON.parse(readFileSync(path.join(x, 'case.json'), 'utf8')).items as ItemRecord[]
    const bakBackup = items.find((i) => i.path === `${bak} (consistent backup)`)
    expect(bakBackup).toMatchObject({outcome: 'collected', method: 'sqlite-backup'})
    expect(existsSync(path.join(x, bakBackup!.bundlePath!))).toBe(true)
    expect(items.find((i) => i.path === bak)).toMatchObject({kind: 'sqlite', method: 'metadata'})
    // and the audit ledger is exported, from both copies
    const audit = items.filter((i) => i.path.endsWith(' audit_events'))
    expect(audit.map((i) => i.events)).toEqual([1, 1])
    const event = JSON.parse(readFileSync(path.join(x, audit[0]!.bundlePath!), 'utf8'))
    expect(event).toMatchObject({time: '2026-11-19T08:00:06.000Z', kind: 'tool', action: 'exec', channel: 'telegram'})
    // and the blocks are there as marks, the rest of the note kept
    const notes = readFileSync(path.join(x, 'evidence/state/workspace/notes.md'), 'utf8')
    expect(notes).toMatch(/-----BEGIN RSA PRIVATE KEY-----\n…«sha256:[0-9a-f]{12}»\n-----END RSA PRIVATE KEY-----/)
    expect(notes).toContain('end of notes')
    const asc = readFileSync(path.join(x, 'evidence/state/workspace/backup/signing-key.asc'), 'utf8')
    expect(asc).toMatch(
      /^-----BEGIN PGP PRIVATE KEY BLOCK-----\n…«sha256:[0-9a-f]{12}»\n-----END PGP PRIVATE KEY BLOCK-----\n$/,
    )
    const sa = JSON.parse(readFileSync(path.join(x, 'evidence/state/workspace/gcp-sa.json'), 'utf8'))
    expect(sa.client_email).toBe(k.gcp.client_email)
    expect(sa.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----\n…«sha256:/)
  })
})
