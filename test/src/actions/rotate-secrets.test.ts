import {existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {ACTIONS} from '../../../src/actions/registry.js'

import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'

import {
  releaseSecretsOut,
  reserveSecretsOut,
  SecretVault,
  type RotateRun,
  type SecretsOut,
} from '../../../src/actions/shared/rotate-run.js'
import {rotationVerdict} from '../../../src/rotate.js'
import {openCase} from '../../../src/case/case-store.js'
import {verifyChain} from '../../../src/case/journal.js'
import {fingerprint} from '../../../src/openclaw/config-edit.js'
import {loadConfig} from '../../../src/openclaw/config.js'
import {readStoreEntry, stateDbPath} from '../../../src/openclaw/secrets/store.js'
import {runPlaybook, type RunOutcome} from '../../../src/playbook/engine.js'
import {loadPlaybook, resolvePlaybook} from '../../../src/playbook/loader.js'
import {defaultsPrompter, type Prompter} from '../../../src/playbook/prompter.js'
import type {ActionContext} from '../../../src/playbook/action-types.js'
import type {ProcessRunner, RunOptions} from '../../../src/system/process-runner.js'
import {fileEraStateDir} from '../../fixtures/state-dirs.js'
import {closedPort, fakeGateway, stateWithConfig, stateWithStore, type FakeGateway} from './rotate-fixtures.js'
import {scriptedPrompter, tempDir} from '../../helpers/temp.js'

const T0 = 'tok-OLD-0123456789abcdef0123456789abcdef'
const H0 = 'hook-OLD-0123456789abcdef0123456789abcd'

const gateways: FakeGateway[] = []
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close()
})

interface Call {
  file: string
  args: string[]
  options?: RunOptions
}

/** Records every subprocess; answers systemctl as the test says; "no such command" otherwise. */
function fakeRunner(
  answers: Record<string, {exitCode: number; stdout?: string}> = {},
  onCall?: (c: Call) => void,
): ProcessRunner & {calls: Call[]} {
  const calls: Call[] = []
  return {
    calls,
    async run(file, args, options) {
      const c = {file, args, options}
      calls.push(c)
      onCall?.(c)
      const a = answers[[file, ...args].join(' ')]
      return a
        ? {exitCode: a.exitCode, stdout: a.stdout ?? '', stderr: '', timedOut: false, notFound: false}
        : {exitCode: undefined, stdout: '', stderr: '', timedOut: false, notFound: true}
    },
  }
}

interface Run {
  outcome: RunOutcome
  /** The run's typed state (vault, inventory, proofs), as the rotate use case reads it. */
  run: RotateRun
  ctx: ActionContext
  out: SecretsOut
  handed: Record<string, string>
  caseText: string
}

async function rotate(
  state: string,
  configPath: string,
  o: {
    vars?: Record<string, unknown>
    runner?: ProcessRunner
    env?: NodeJS.ProcessEnv
    prompter?: Prompter
    dryRun?: boolean
    home?: string
    playbook?: string
    /** No --secrets-out file for this run. */
    noSecretsOut?: boolean
  } = {},
): Promise<Run> {
  const outFile = path.join(tempDir('ir-out-'), 'rotated.json')
  const out = reserveSecretsOut(outFile, !o.dryRun)
  const ctx: ActionContext = {
    install: {stateDir: state, configPath, source: 'flag', stateDirExists: true, configExists: true},
    case: openCase(undefined, {home: tempDir('ir-home-')}),
    prompter: o.prompter ?? defaultsPrompter,
    runner: o.runner ?? fakeRunner(),
    env: o.env ?? {PATH: '', HOME: o.home ?? tempDir('ir-oc-home-')},
    now: () => new Date(),
    dryRun: Boolean(o.dryRun),
    results: new Map(),
    state: {rotate: {vault: new SecretVault(), secretsOut: o.noSecretsOut ? undefined : out}},
    vars: {...o.vars},
  }
  const outcome = await runPlaybook(loadPlaybook(o.playbook ?? resolvePlaybook('rotate'), ACTIONS), ctx, {
    mayChange: true,
    actions: ACTIONS,
  })
  releaseSecretsOut(out)
  const handed = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, string>) : {}
  return {outcome, run: ctx.state.rotate!, ctx, out, handed, caseText: readTree(ctx.case.dir)}
}

function readTree(dir: string): string {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n')
}

function statuses(o: RunOutcome): string[] {
  return o.steps.map((s) => `${s.id}:${s.status}`)
}

/** What the gateway would use now: the config value, resolved like OpenClaw (plain only here). */
const configValue =
  (configPath: string, ...keys: string[]) =>
  () => {
    let v: unknown = loadConfig(configPath).value
    for (const k of keys) v = (v as Record<string, unknown> | undefined)?.[k]
    return typeof v === 'string' ? v : undefined
  }

describe('rotate playbook: write and prove', () => {
  it('rotates a plain gateway token and hooks token, proves them on the running gateway, hands them over, and keeps every value out of the case', async () => {
    // Given a running gateway that hot-applies config edits, with token T0 and hooks token H0
    const dir = tempDir('ir-rot-')
    let configPath = ''
    const gw = await fakeGateway({
      gateway: () => configValue(configPath, 'gateway', 'auth', 'token')(),
      hooks: () => configValue(configPath, 'hooks', 'token')(),
    })
    gateways.push(gw)
    ;({configPath} = stateWithConfig(
      `{\n  // owner's note\n  "gateway": {"mode": "local", "port": ${gw.port}, "auth": {"mode": "token", "token": "${T0}"}},\n  "hooks": {"enabled": true, "token": "${H0}"}\n}\n`,
      dir,
    ))
    // When ir rotates with --yes --secrets-out
    const {outcome, run, ctx, out, handed, caseText} = await rotate(dir, configPath)
    // Then every step ran, the gateway rejects T0/H0 and accepts the new values
    expect(statuses(outcome)).toEqual([
      'inventory:done',
      'rotate:done',
      'prove:done',
      'restart:noop',
      'handover:done',
      'checklist:done',
      'paste:noop',
    ])
    expect(rotationVerdict(outcome, run)).toMatchObject({verified: true, exitCode: 0})
    expect(Object.keys(handed)).toEqual(['gateway.auth.token', 'hooks.token'])
    const [G1, H1] = [handed['gateway.auth.token']!, handed['hooks.token']!]
    expect(G1).toMatch(/^[A-Za-z0-9._~-]{43}$/)
    expect(H1).not.toBe(G1)
    expect(statSync(out.path).mode & 0o777).toBe(0o600)
    const text = readFileSync(configPath, 'utf8')
    expect(text).toContain("// owner's note")
    expect(text).toContain(`"token": "${G1}"`)
    expect(text).not.toContain(T0)
    expect(gw.requests.filter((r) => r.path === '/tools/invoke').map((r) => r.status)).toEqual([404, 404, 401])
    // And the journal has fingerprints of old and new, the chain holds, and no value is anywhere in the case or the
    // result
    const entry = ctx.case.journal.entries().find((e) => e.step === 'rotate')!
    expect(entry.fingerprints).toEqual({
      'gateway.auth.token:old': fingerprint(T0),
      'gateway.auth.token:new': fingerprint(G1),
      'hooks.token:old': fingerprint(H0),
      'hooks.token:new': fingerprint(H1),
    })
    expect(verifyChain(readFileSync(ctx.case.journal.file, 'utf8'))).toEqual([])
    for (const v of [T0, H0, G1, H1]) {
      expect(caseText).not.toContain(v)
      expect(JSON.stringify(outcome)).not.toContain(v)
    }
    expect(readdirSync(path.join(ctx.case.dir, 'backups'))).toEqual([
      expect.stringMatching(/-openclaw\.json\.redacted$/),
    ])
    expect(caseText).toContain(`«sha256:${fingerprint(T0)}»`)
  })

  it('rewrites the .env behind ${VAR}; the running gateway keeps the old value, and with no service manager the restart is a manual step (exit 5)', async () => {
    const dir = tempDir('ir-rot-')
    writeFileSync(path.join(dir, '.env'), `OPENCLAW_GATEWAY_TOKEN=${T0}\n`, {mode: 0o600})
    const gw = await fakeGateway({gateway: () => T0}) // read from its environment at start
    gateways.push(gw)
    const {configPath} = stateWithConfig(
      {gateway: {port: gw.port, auth: {mode: 'token', token: '${OPENCLAW_GATEWAY_TOKEN}'}}},
      dir,
    )
    const {outcome, run, handed} = await rotate(dir, configPath)
    const G1 = handed['gateway.auth.token']!
    expect(readFileSync(path.join(dir, '.env'), 'utf8')).toBe(`OPENCLAW_GATEWAY_TOKEN=${G1}\n`)
    expect(statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600)
    expect(readFileSync(configPath, 'utf8')).toContain('${OPENCLAW_GATEWAY_TOKEN}')
    expect(statuses(outcome)).toEqual([
      'inventory:done',
      'rotate:done',
      'prove:done',
      'restart:manual',
      'handover:done',
      'checklist:done',
      'paste:noop',
    ])
    expect(outcome.steps[3]!.detail).toMatch(
      /runs outside a service manager ir can drive.*start it the way it was started/,
    )
    const verdict = rotationVerdict(outcome, run)
    expect(verdict).toMatchObject({verified: false, exitCode: 5})
    expect(verdict.messages[0]).toMatch(/still accepts the old secret and ir cannot restart it/)
  })

  it('restarts the systemd user service when the old value is still accepted, then proves it', async () => {
    // Given a gateway run by a user unit that embeds the token (old installer), config-less token
    const home = tempDir('ir-home-')
    const dir = tempDir('ir-rot-')
    let live = T0
    const unitDir = path.join(home, '.config', 'systemd', 'user')
    mkdirSync(unitDir, {recursive: true})
    const unitFile = path.join(unitDir, 'openclaw-gateway.service')
    writeFileSync(
      unitFile,
      `[Service]\nEnvironment=OPENCLAW_STATE_DIR=${dir} OPENCLAW_GATEWAY_TOKEN=${T0}\nExecStart=/usr/bin/openclaw gateway\n`,
    )
    const gw = await fakeGateway({gateway: () => live})
    gateways.push(gw)
    const {configPath} = stateWithConfig({gateway: {port: gw.port, auth: {mode: 'token'}}}, dir)
    const runner = fakeRunner(
      {
        'systemctl --user daemon-reload': {exitCode: 0},
        'systemctl --user is-active openclaw-gateway.service': {exitCode: 0, stdout: 'active\n'},
        'systemctl --user is-enabled openclaw-gateway.service': {exitCode: 0, stdout: 'enabled\n'},
        'systemctl --user restart openclaw-gateway.service': {exitCode: 0},
      },
      (c) => {
        // The restart makes the process read its unit environment again.
        if (c.args.includes('restart')) live = /OPENCLAW_GATEWAY_TOKEN=(\S+)/.exec(readFileSync(unitFile, 'utf8'))![1]!
      },
    )
    const {outcome, run, handed} = await rotate(dir, configPath, {runner, env: {PATH: '', HOME: home}, home})
    const G1 = handed['gateway.auth.token']!
    expect(readFileSync(unitFile, 'utf8')).toContain(`OPENCLAW_GATEWAY_TOKEN=${G1}`)
    expect(runner.calls.map((c) => [c.file, ...c.args].join(' '))).toEqual(
      expect.arrayContaining(['systemctl --user daemon-reload', 'systemctl --user restart openclaw-gateway.service']),
    )
    expect(statuses(outcome)).toEqual([
      'inventory:done',
      'rotate:done',
      'prove:done',
      'restart:done',
      'handover:done',
      'checklist:done',
      'paste:noop',
    ])
    expect(outcome.steps[3]!.verified).toBe(true)
    expect(rotationVerdict(outcome, run)).toMatchObject({verified: true, exitCode: 0})
  })

  it('leaves an exec SecretRef to the operator with exact instructions, rotates the rest, hands the value over and exits 5', async () => {
    const dir = tempDir('ir-rot-')
    const port = await closedPort()
    const {configPath} = stateWithConfig(
      {
        gateway: {port, auth: {mode: 'token', token: {source: 'exec', provider: 'vault', id: 'gw/token'}}},
        secrets: {providers: {vault: {source: 'exec', command: '/usr/local/bin/vault-resolver'}}},
        hooks: {enabled: true, token: H0},
      },
      dir,
    )
    const {outcome, handed} = await rotate(dir, configPath)
    expect(statuses(outcome)).toEqual([
      'inventory:done',
      'rotate:manual',
      'prove:done',
      'restart:noop',
      'handover:done',
      'checklist:done',
      'paste:noop',
    ])
    expect(outcome.steps[1]!.detail).toContain(
      'Store the new gateway.auth.token in the secret manager behind exec provider "vault" (/usr/local/bin/vault-resolver) under id "gw/token"',
    )
    expect(Object.keys(handed)).toEqual(['gateway.auth.token', 'hooks.token'])
    expect(loadConfig(configPath).value).toMatchObject({
      hooks: {token: handed['hooks.token']},
      gateway: {auth: {token: {source: 'exec'}}},
    })
    expect(outcome.exitCode).toBe(5)
  })

  it('writes a file provider value at its pointer (mode kept) and a store value, and records "verify on next start" when the gateway is down', async () => {
    const dir = tempDir('ir-rot-')
    stateWithStore({OPENCLAW_GATEWAY_TOKEN: T0}, {state: dir})
    const secretsFile = path.join(dir, 'secrets.json')
    writeFileSync(secretsFile, JSON.stringify({remote: {token: 'remote-OLD-0123456789'}}, null, 2) + '\n', {
      mode: 0o600,
    })
    const port = await closedPort()
    const {configPath} = stateWithConfig(
      {
        gateway: {
          port,
          auth: {mode: 'token', token: {source: 'store', provider: 'default', id: 'OPENCLAW_GATEWAY_TOKEN'}},
          remote: {url: 'wss://other.example.net', token: {source: 'file', provider: 'fm', id: '/remote/token'}},
        },
        secrets: {providers: {fm: {source: 'file', path: secretsFile}}},
      },
      dir,
    )
    const {outcome, run, handed, ctx, caseText} = await rotate(dir, configPath, {vars: {only: ['gateway', 'remote']}})
    expect(readStoreEntry(dir, 'OPENCLAW_GATEWAY_TOKEN')).toMatchObject({
      value: handed['gateway.auth.token'],
      updatedBy: 'ir',
    })
    expect(JSON.parse(readFileSync(secretsFile, 'utf8'))).toEqual({remote: {token: handed['gateway.remote.token']}})
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600)
    expect(outcome.steps[2]!.detail).toMatch(
      /^gateway is not running: not verified now; "verify on next start" recorded in verify-on-next-start\.md/,
    )
    expect(readFileSync(path.join(ctx.case.dir, 'verify-on-next-start.md'), 'utf8')).toContain(
      `http://127.0.0.1:${port}/tools/invoke`,
    )
    expect(rotationVerdict(outcome, run)).toMatchObject({
      verified: false,
      exitCode: 0,
      messages: [expect.stringMatching(/verify on next start/i)],
    })
    expect(caseText).not.toContain(handed['gateway.auth.token'])
    expect(caseText).not.toContain('remote-OLD-0123456789')
  })

  it('skips a remote credential for another gateway by default and rotates the one that points at this gateway together with it', async () => {
    const port = await closedPort()
    const a = stateWithConfig({
      gateway: {port, auth: {mode: 'token', token: T0}, remote: {url: `ws://127.0.0.1:${port}`, token: T0}},
    })
    const here = await rotate(a.state, a.configPath)
    expect(here.handed['gateway.remote.token']).toBe(here.handed['gateway.auth.token'])
    expect(loadConfig(a.configPath).value).toMatchObject({
      gateway: {remote: {token: here.handed['gateway.auth.token']}},
    })
    const b = stateWithConfig({
      gateway: {
        port,
        auth: {mode: 'token', token: T0},
        remote: {url: 'wss://gw.example.net', token: 'remote-0123456789abcdef'},
      },
    })
    const elsewhere = await rotate(b.state, b.configPath)
    expect(Object.keys(elsewhere.handed)).toEqual(['gateway.auth.token'])
    expect(elsewhere.outcome.steps[1]!.plan!.lines).toContain(
      'skipped gateway.remote.token: credential for another gateway (wss://gw.example.net): rotate it on that gateway, or re-run with --only remote and give it the new value',
    )
    const explicit = await rotate(b.state, b.configPath, {vars: {only: ['remote']}})
    expect(Object.keys(explicit.handed)).toEqual(['gateway.remote.token'])
  })

  it('puts the original bytes back when openclaw config validate rejects the edit (exit 5), and hands nothing over for it', async () => {
    const dir = tempDir('ir-rot-')
    const port = await closedPort()
    const {configPath} = stateWithConfig({gateway: {port, auth: {mode: 'token', token: T0}}}, dir)
    const before = readFileSync(configPath, 'utf8')
    // An OpenClaw CLI that rejects every config
    const pkg = path.join(tempDir('ir-fake-oc-'), 'node_modules', 'openclaw')
    mkdirSync(pkg, {recursive: true})
    writeFileSync(path.join(pkg, 'package.json'), '{"name":"openclaw","version":"2026.9.6"}')
    writeFileSync(path.join(pkg, 'openclaw.mjs'), '')
    const runner = fakeRunner({
      [`${process.execPath} ${path.join(pkg, 'openclaw.mjs')} config validate`]: {
        exitCode: 1,
        // (2026.9.6's words for a config it rejects)
        stdout:
          'OpenClaw config is invalid: ~/.openclaw/openclaw.json\n  × openclaw.json:3 — gateway.auth: Unrecognized key',
      },
    })
    const {outcome, handed} = await rotate(dir, configPath, {
      runner,
      env: {PATH: '', IR_OPENCLAW_BIN: path.join(pkg, 'openclaw.mjs')},
    })
    expect(readFileSync(configPath, 'utf8')).toBe(before)
    expect(outcome.steps[1]).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/openclaw config validate rejected the edited config/),
    })
    expect(handed).toEqual({})
    expect(outcome.exitCode).toBe(5)
  })

  it('fails the store write clearly on a locked database and still rotates the hooks token', async () => {
    const dir = tempDir('ir-rot-')
    stateWithStore({OPENCLAW_GATEWAY_TOKEN: T0}, {state: dir})
    const port = await closedPort()
    const {configPath} = stateWithConfig(
      {
        gateway: {port, auth: {mode: 'token', token: {source: 'store', id: 'OPENCLAW_GATEWAY_TOKEN'}}},
        hooks: {token: H0},
      },
      dir,
    )
    const holder = new Database(stateDbPath(dir))
    holder.exec('BEGIN IMMEDIATE')
    let run: Run
    try {
      run = await rotate(dir, configPath)
    } finally {
      holder.exec('ROLLBACK')
      holder.close()
    }
    expect(run.outcome.steps[1]).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(
        /gateway\.auth\.token → secret store OPENCLAW_GATEWAY_TOKEN .*stayed locked through 4 attempts/,
      ),
    })
    expect(readStoreEntry(dir, 'OPENCLAW_GATEWAY_TOKEN')?.value).toBe(T0)
    expect(Object.keys(run.handed)).toEqual(['hooks.token'])
    expect(run.outcome.exitCode).toBe(5)
  }, 30_000)

  it('plans with fingerprints in a dry run and changes nothing', async () => {
    const {state, configPath} = stateWithConfig({
      gateway: {port: await closedPort(), auth: {mode: 'token', token: T0}},
      hooks: {token: H0},
    })
    const before = readFileSync(configPath, 'utf8')
    const {outcome} = await rotate(state, configPath, {dryRun: true})
    expect(statuses(outcome)).toEqual([
      'inventory:planned',
      'rotate:planned',
      'prove:noop',
      'restart:noop',
      'handover:noop',
      'checklist:planned',
      'paste:noop',
    ])
    expect(readFileSync(configPath, 'utf8')).toBe(before)
    const lines = outcome.steps[1]!.plan!.lines
    expect(lines[0]).toMatch(
      new RegExp(`^gateway\\.auth\\.token  «sha256:${fingerprint(T0)}» -> «sha256:[0-9a-f]{12}»$`),
    )
    expect(lines).toContain('  write: config gateway.auth.token')
    expect(JSON.stringify(outcome)).not.toContain(T0)
    expect(JSON.stringify(outcome)).not.toContain(H0)
  })

  it('asks before replacing and, interactively without --secrets-out, shows the values once only when the operator asks', async () => {
    const {state, configPath} = stateWithConfig({
      gateway: {port: await closedPort(), auth: {mode: 'token', token: T0}},
      hooks: {token: H0},
    })
    const prompter = scriptedPrompter([true, true])
    const {outcome, run, ctx, caseText} = await rotate(state, configPath, {prompter, noSecretsOut: true})
    expect(prompter.asked).toEqual([
      'Replace gateway.auth.token, hooks.token with new values now?',
      'Show the 2 new value(s) once now (gateway.auth.token, hooks.token)? They are not written anywhere else by ir.',
    ])
    const vault = run.vault
    expect(vault.showRequested).toBe(true)
    expect(outcome.steps[4]!.detail).toBe('2 new value(s) shown once on the terminal')
    const newToken = vault.handover()['gateway.auth.token']!
    expect(loadConfig(configPath).value).toMatchObject({gateway: {auth: {token: newToken}}})
    expect(caseText).not.toContain(newToken)
    expect(JSON.stringify(ctx.vars)).not.toContain(newToken)
  })

  it('says "not verified" and exits 3 when the running gateway cannot be asked, unless --allow-unverified', async () => {
    // Given a gateway that is up (healthz) but drops every auth probe
    const {createServer} = await import('node:http')
    const server = createServer((req, res) => (req.url === '/healthz' ? res.end('{"ok":true}') : req.socket.destroy()))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    gateways.push({port: 0, requests: [], close: () => new Promise<void>((resolve) => server.close(() => resolve()))})
    const port = (server.address() as {port: number}).port
    const fast = path.join(tempDir(), 'rotate-fast.yaml')
    writeFileSync(
      fast,
      readFileSync(resolvePlaybook('rotate'), 'utf8').replace('timeoutSeconds: 10', 'timeoutSeconds: 1'),
    )
    const a = stateWithConfig({gateway: {port, auth: {mode: 'token', token: T0}}})
    const strict = await rotate(a.state, a.configPath, {playbook: fast})
    expect(strict.outcome.steps[2]).toMatchObject({
      status: 'failed',
      verified: false,
      detail: expect.stringMatching(/NOT verified: gateway.auth.token: POST \/tools\/invoke: gateway not reachable/),
    })
    expect(rotationVerdict(strict.outcome, strict.run)).toMatchObject({verified: false, exitCode: 3})
    const b = stateWithConfig({gateway: {port, auth: {mode: 'token', token: T0}}})
    const lenient = await rotate(b.state, b.configPath, {playbook: fast, vars: {allowUnverified: true}})
    expect(lenient.outcome.steps[2]).toMatchObject({
      status: 'done',
      detail: expect.stringMatching(/accepted by --allow-unverified/),
    })
    expect(rotationVerdict(lenient.outcome, lenient.run, {allowUnverified: true})).toMatchObject({
      verified: false,
      exitCode: 0,
    })
  })

  it('rotates a file-era install (no state database); a store SecretRef there is a manual step', async () => {
    const port = await closedPort()
    const state = fileEraStateDir(
      tempDir('ir-fe-'),
      JSON.stringify({gateway: {mode: 'local', port, auth: {mode: 'token', token: T0}}}),
    )
    const configPath = path.join(state, 'openclaw.json')
    const {outcome, run, handed} = await rotate(state, configPath)
    expect(loadConfig(configPath).value).toMatchObject({gateway: {auth: {token: handed['gateway.auth.token']}}})
    expect(rotationVerdict(outcome, run)).toMatchObject({exitCode: 0, verified: false})
    const ref = fileEraStateDir(
      tempDir('ir-fe-'),
      JSON.stringify({
        gateway: {
          port,
          auth: {mode: 'token', token: {source: 'store', provider: 'default', id: 'OPENCLAW_GATEWAY_TOKEN'}},
        },
      }),
    )
    const r = await rotate(ref, path.join(ref, 'openclaw.json'))
    expect(r.outcome.steps[1]).toMatchObject({
      status: 'manual',
      detail: expect.stringContaining('`openclaw secrets store set OPENCLAW_GATEWAY_TOKEN` (value on stdin)'),
    })
    expect(rotationVerdict(r.outcome, r.run).exitCode).toBe(5)
  })

  it('stops with exit 3 when the config cannot be read, changing nothing', async () => {
    const {state, configPath} = stateWithConfig('{ "gateway": { broken')
    const {outcome, run} = await rotate(state, configPath)
    expect(outcome.steps.map((s) => s.status)).toEqual([
      'failed',
      'not-run',
      'not-run',
      'not-run',
      'not-run',
      'not-run',
      'not-run',
    ])
    expect(rotationVerdict(outcome, run)).toMatchObject({
      exitCode: 3,
      messages: [expect.stringMatching(/^Nothing was rotated: the inventory failed \(.*openclaw\.json:1:/)],
    })
  })

  it('finds nothing to rotate with auth mode none (exit 3, pointing to ir contain)', async () => {
    const {state, configPath} = stateWithConfig({gateway: {port: await closedPort(), auth: {mode: 'none'}}})
    const {outcome, run} = await rotate(state, configPath)
    const v = rotationVerdict(outcome, run)
    expect(v).toMatchObject({nothingToRotate: true, exitCode: 3})
    expect(v.messages[0]).toMatch(/Run `ir contain`/)
  })
})
