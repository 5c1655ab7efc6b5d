import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {fingerprint} from '../../../../src/openclaw/config-edit.js'
import {inventorySecrets, type InventoryOptions} from '../../../../src/openclaw/secrets/inventory.js'
import {inventoryTable} from '../../../../src/openclaw/secrets/inventory-table.js'
import {stateWithConfig, stateWithStore} from '../../actions/rotate-fixtures.js'
import {tempDir} from '../../../helpers/temp.js'

const T0 = 'tok-OLD-0123456789abcdef0123456789abcdef'
const H0 = 'hook-OLD-0123456789abcdef0123456789abcd'

function opts(state: string, configPath: string, extra: Partial<InventoryOptions> = {}): InventoryOptions {
  return {
    stateDir: state,
    configPath,
    env: {},
    home: extra.home ?? tempDir('ir-home-'),
    gateway: {state: 'down', port: 28999},
    ...extra,
  }
}

function unit(home: string, name: string, body: string): string {
  const dir = path.join(home, '.config', 'systemd', 'user')
  mkdirSync(dir, {recursive: true})
  const file = path.join(dir, name)
  writeFileSync(
    file,
    `[Unit]\nDescription=OpenClaw Gateway\n\n[Service]\nExecStart=/usr/bin/node /opt/openclaw/dist/index.js gateway --port 18789\n${body}\nRestart=always\n`,
  )
  return file
}

describe('secret inventory', () => {
  it('finds plain config values, a stale .env copy, and residue in backups and the config-audit argv; fingerprints only', () => {
    // Given a plain gateway token and hooks token, the same token in .env, and old copies OpenClaw left
    const {state, configPath} = stateWithConfig({
      gateway: {mode: 'local', auth: {mode: 'token', token: T0}},
      hooks: {enabled: true, token: H0},
    })
    writeFileSync(
      path.join(state, '.env'),
      `# copied by an old install\nexport OPENCLAW_GATEWAY_TOKEN=${T0}\nOPENAI_API_KEY=sk-x\n`,
    )
    writeFileSync(`${configPath}.bak.1`, JSON.stringify({gateway: {auth: {token: T0}}}))
    mkdirSync(path.join(state, 'logs'))
    writeFileSync(
      path.join(state, 'logs', 'config-audit.jsonl'),
      JSON.stringify({argv: ['node', 'openclaw.mjs', 'config', 'set', 'hooks.token', H0]}) + '\n',
    )
    // When inventoried
    const {inventory, values} = inventorySecrets(opts(state, configPath))
    // Then both secrets, their places and the residue are there, as fingerprints
    expect(inventory.secrets.map((s) => [s.key, s.form, s.fingerprint])).toEqual([
      ['gateway.auth.token', 'plain', fingerprint(T0)],
      ['hooks.token', 'plain', fingerprint(H0)],
    ])
    expect(inventory.secrets[0]!.locations.map((l) => [l.kind, l.path, l.active, l.writable])).toEqual([
      ['config', configPath, true, true],
      ['env-file', path.join(state, '.env'), false, true],
    ])
    expect(inventory.residue).toEqual([
      {path: `${configPath}.bak.1`, keys: ['gateway.auth.token'], what: 'config backup/history copy'},
      {
        path: path.join(state, 'logs', 'config-audit.jsonl'),
        keys: ['hooks.token'],
        what: 'config write audit log (argv of an old `config set`)',
      },
    ])
    expect(values.get('gateway.auth.token')).toBe(T0)
    const printable = JSON.stringify(inventory) + inventoryTable(inventory).join('\n')
    expect(printable).not.toContain(T0)
    expect(printable).not.toContain(H0)
    expect(inventoryTable(inventory)[1]).toMatch(
      new RegExp(
        `^gateway\\.auth\\.token +plain +«sha256:${fingerprint(T0)}» +${configPath.replace(/[.]/g, '\\.')} +gateway\\.auth\\.token +active$`,
      ),
    )
  })

  it('follows ${VAR} to .env, and a value exported into the running gateway from elsewhere becomes a manual step', () => {
    const {state, configPath} = stateWithConfig({gateway: {auth: {mode: 'token', token: '${OPENCLAW_GATEWAY_TOKEN}'}}})
    writeFileSync(path.join(state, '.env'), `OPENCLAW_GATEWAY_TOKEN="${T0}"\n`)
    // .env only: the gateway reads it from there (dotenv)
    const a = inventorySecrets(opts(state, configPath))
    expect(a.inventory.secrets[0]).toMatchObject({
      form: 'env',
      envName: 'OPENCLAW_GATEWAY_TOKEN',
      fingerprint: fingerprint(T0),
      resolved: true,
    })
    expect(a.inventory.secrets[0]!.locations).toMatchObject([
      {kind: 'env-file', active: true, writable: true, target: {type: 'env-file', name: 'OPENCLAW_GATEWAY_TOKEN'}},
    ])
    // Running gateway with another value exported by whatever started it: that one wins and cannot be written
    const b = inventorySecrets(
      opts(state, configPath, {
        gateway: {state: 'up', pid: 4242, port: 28999},
        readProcessEnv: () => ({OPENCLAW_GATEWAY_TOKEN: 'exported-elsewhere-0123456789'}),
        readProcessCwd: () => undefined,
      }),
    )
    expect(b.inventory.secrets[0]!.locations.map((l) => [l.kind, l.active, l.writable])).toEqual([
      ['process-env', true, false],
      ['env-file', false, true],
    ])
    expect(b.inventory.secrets[0]!.locations[0]!.manual).toMatch(
      /exported into the running gateway \(pid 4242\).*restart the gateway/,
    )
    expect(b.values.get('gateway.auth.token')).toBe('exported-elsewhere-0123456789')
  })

  it('finds a token embedded in the gateway service unit by an old installer (and its EnvironmentFile), for env refs and the implicit fallback', () => {
    const home = tempDir('ir-home-')
    const {state, configPath} = stateWithConfig({gateway: {mode: 'local', auth: {mode: 'token'}}})
    const envFile = path.join(home, 'gw.env')
    writeFileSync(envFile, `OPENCLAW_GATEWAY_TOKEN=${T0}\n`)
    const file = unit(
      home,
      'openclaw-gateway.service',
      `Environment="OPENCLAW_STATE_DIR=${state}" "OPENCLAW_GATEWAY_TOKEN=${T0}"\nEnvironmentFile=-${envFile}`,
    )
    const {inventory} = inventorySecrets(opts(state, configPath, {home}))
    const s = inventory.secrets[0]!
    expect(s).toMatchObject({
      key: 'gateway.auth.token',
      form: 'implicit-env',
      envName: 'OPENCLAW_GATEWAY_TOKEN',
      fingerprint: fingerprint(T0),
    })
    expect(s.locations.map((l) => [l.kind, l.path, l.active])).toEqual([
      ['service', file, true],
      ['env-file', envFile, false],
    ])
    expect(s.locations[0]!.target).toEqual({
      type: 'service',
      file,
      name: 'OPENCLAW_GATEWAY_TOKEN',
      service: 'systemd',
      unit: 'openclaw-gateway.service',
      system: false,
    })
  })

  it('reads file, store and exec SecretRefs; exec and symlinked files are manual', () => {
    const home = tempDir('ir-home-')
    const secrets = path.join(home, 'secrets.json')
    writeFileSync(secrets, JSON.stringify({gateway: {token: T0}}), {mode: 0o600})
    const state = stateWithStore({OPENCLAW_GATEWAY_TOKEN: T0})
    const file = (provider: object) =>
      stateWithConfig(
        {
          gateway: {auth: {mode: 'token', token: {source: 'file', provider: 'fm', id: '/gateway/token'}}},
          secrets: {providers: {fm: provider}},
        },
        path.join(tempDir(), 's'),
      )
    // file provider, JSON pointer, ~ expanded with the OpenClaw home
    const f = file({source: 'file', path: '~/secrets.json', mode: 'json'})
    const fi = inventorySecrets(opts(f.state, f.configPath, {home})).inventory.secrets[0]!
    expect(fi).toMatchObject({
      form: 'file',
      fingerprint: fingerprint(T0),
      locations: [
        {
          kind: 'secret-file',
          path: secrets,
          writable: true,
          target: {type: 'secret-file', file: secrets, mode: 'json', pointer: '/gateway/token'},
        },
      ],
    })
    // a symlinked file: OpenClaw rejects it and ir does not write through it
    const link = path.join(home, 'link.json')
    symlinkSync(secrets, link)
    const l = file({source: 'file', path: link})
    expect(inventorySecrets(opts(l.state, l.configPath, {home})).inventory.secrets[0]!.locations[0]).toMatchObject({
      writable: false,
      manual: expect.stringMatching(/private regular file/),
    })
    // store provider (implicit default alias)
    const {configPath} = stateWithConfig(
      {gateway: {auth: {mode: 'token', token: {source: 'store', provider: 'default', id: 'OPENCLAW_GATEWAY_TOKEN'}}}},
      state,
    )
    expect(inventorySecrets(opts(state, configPath)).inventory.secrets[0]).toMatchObject({
      form: 'store',
      fingerprint: fingerprint(T0),
      locations: [
        {
          kind: 'store',
          where: 'secret_store_entries team/OPENCLAW_GATEWAY_TOKEN',
          writable: true,
          target: {type: 'store', name: 'OPENCLAW_GATEWAY_TOKEN'},
        },
      ],
    })
    // exec provider: never run, manual with the provider and id
    const e = stateWithConfig({
      gateway: {auth: {mode: 'token', token: {source: 'exec', provider: 'vault', id: 'gw/token#value'}}},
      secrets: {providers: {vault: {source: 'exec', command: '/usr/local/bin/vault-resolver'}}},
    })
    const ex = inventorySecrets(opts(e.state, e.configPath))
    expect(ex.inventory.secrets[0]).toMatchObject({form: 'exec', resolved: false})
    expect(ex.inventory.secrets[0]!.locations[0]!.manual).toBe(
      'Store the new gateway.auth.token in the secret manager behind exec provider "vault" (/usr/local/bin/vault-resolver) under id "gw/token#value", then run `openclaw secrets reload` (or restart the gateway).',
    )
    expect(ex.values.size).toBe(0)
  })

  it('says there is nothing to rotate with auth mode none, and points to ir contain', () => {
    const {state, configPath} = stateWithConfig({gateway: {bind: 'lan', auth: {mode: 'none'}}})
    const {inventory} = inventorySecrets(opts(state, configPath, {scopes: ['gateway']}))
    expect(inventory.secrets).toEqual([])
    expect(inventory.notes[0]).toMatch(/gateway\.auth\.mode is "none".*Run `ir contain`/)
  })

  it('tells a remote credential for this gateway from one for another gateway, and honours --only', () => {
    const here = stateWithConfig({
      gateway: {port: 28999, auth: {token: T0}, remote: {url: 'ws://127.0.0.1:28999', token: T0}},
      hooks: {token: H0},
    })
    const a = inventorySecrets(opts(here.state, here.configPath, {scopes: ['remote']}))
    expect(a.inventory.secrets.map((s) => [s.key, s.remote])).toEqual([
      ['gateway.remote.token', {url: 'ws://127.0.0.1:28999', local: true}],
    ])
    const there = stateWithConfig({
      gateway: {mode: 'remote', remote: {url: 'wss://gw.example.net', password: 'remote-pass-0123456789'}},
    })
    expect(
      inventorySecrets(opts(there.state, there.configPath)).inventory.secrets.map((s) => [s.key, s.remote]),
    ).toEqual([['gateway.remote.password', {url: 'wss://gw.example.net', local: false}]])
  })

  it('locates a key in the $include file that holds it', () => {
    const {state, configPath} = stateWithConfig('{ "gateway": { "$include": "./gateway.json5" } }')
    writeFileSync(path.join(state, 'gateway.json5'), `{ auth: { mode: 'token', token: '${T0}' } }`)
    const s = inventorySecrets(opts(state, configPath)).inventory.secrets[0]!
    expect(s.locations[0]).toMatchObject({
      kind: 'config',
      path: path.join(state, 'gateway.json5'),
      target: {type: 'config', keyPath: ['gateway', 'auth', 'token']},
    })
  })
})
