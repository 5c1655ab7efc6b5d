import {ACTIONS} from '../../src/actions/registry.js'
import {chmodSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import JSON5 from 'json5'
import {describe, expect, it} from 'vitest'

import {recordServiceChange} from '../../src/actions/stop-gateway.js'
import {openCase} from '../../src/case/case-store.js'
import {contain, containUndo, type ContainRequest} from '../../src/contain.js'
import {ExitCode} from '../../src/errors.js'
import {runPlaybookOn} from '../../src/playbook/run.js'
import {defaultsPrompter} from '../../src/playbook/prompter.js'
import {writeConfig} from '../fixtures/state-dirs.js'
import {fakeHost, scriptedPrompter, tempDir} from '../helpers/temp.js'
import {recordingRunner, startFakeGateway} from './actions/contain-helpers.js'

const BOT = '123:FAKE-bot-token-for-tests'
const HOOKS = 'hooks-token-value-xyz-0123'
const OPEN = (port: number) => `{
  // deliberately open
  "gateway": {"mode": "local", "port": ${port}, "bind": "lan", "auth": {"mode": "none"}, "allowRealIpFallback": true},
  "discovery": {"mdns": {"mode": "full"}},
  "channels": {"telegram": {"botToken": "${BOT}", "dmPolicy": "open", "allowFrom": ["*"], "groupPolicy": "open"}},
  "hooks": {"enabled": true, "token": "${HOOKS}", "path": "/hooks"},
}
`

function setup(configText: (port: number) => string = OPEN, port = 9) {
  const state = tempDir('ir-contain-')
  chmodSync(state, 0o755)
  const config = writeConfig(state, configText(port))
  chmodSync(config, 0o644)
  const irHome = tempDir('ir-home-')
  const home = tempDir('ir-user-')
  const req = (over: Partial<ContainRequest> = {}): ContainRequest => ({
    target: {stateDir: state},
    dryRun: false,
    prompter: defaultsPrompter,
    mayChange: true,
    runner: recordingRunner(),
    host: fakeHost(home, {PATH: ''}),
    irHome,
    ...over,
  })
  return {state, config, irHome, home, req}
}

/** The target's own CLI (an `openclaw` 2026.9.6 package) and a runner that answers for it: valid, no critical. */
function withTargetCli(home: string): Pick<ContainRequest, 'host' | 'runner'> {
  const dir = tempDir('ir-fake-openclaw-')
  writeFileSync(path.join(dir, 'package.json'), '{"name": "openclaw", "version": "2026.9.6"}')
  writeFileSync(path.join(dir, 'openclaw.mjs'), '')
  const env = {PATH: '', IR_OPENCLAW_BIN: path.join(dir, 'openclaw.mjs'), IR_OPENCLAW_NODE: process.execPath}
  const runner = recordingRunner((line) =>
    line.endsWith('config validate')
      ? {stdout: 'Config valid'}
      : line.endsWith('security audit --json')
        ? {stdout: JSON.stringify({summary: {critical: 0, warn: 0, info: 0}, findings: []})}
        : undefined,
  )
  return {host: fakeHost(home, env), runner}
}

/** Every case file except backups/ and evidence/ (raw copies made before anything changed). */
function caseText(irHome: string, id: string): string {
  const dir = path.join(irHome, 'cases', id)
  return readdirSync(dir)
    .filter((n) => !['backups', 'evidence'].includes(n))
    .map((n) => readFileSync(path.join(dir, n), 'utf8'))
    .join('\n')
}

describe('contain (playbook)', () => {
  it('--yes: stops the gateway, locks down, tightens modes, verifies; no secret outside the backups', async () => {
    // Given a running gateway on a deliberately open config
    const {state, config, irHome, home, req} = setup()
    const gw = await startFakeGateway(state)
    writeConfig(state, OPEN(gw.port))
    chmodSync(config, 0o644)
    // When contained with --yes, the target's own CLI validating and auditing
    const r = await contain(req({caseId: 'IR-yes', ...withTargetCli(home)}))
    // Then every step did its part, in order, and the whole run is verified
    expect(r.steps.map((s) => [s.id, s.status])).toEqual([
      ['preserve', 'done'],
      ['stop', 'done'],
      ['lockdown', 'done'],
      ['permissions', 'done'],
      ['audit', 'done'],
      ['report', 'done'],
    ])
    expect(r.verified).toBe(true)
    expect(r.exitCode).toBe(ExitCode.Ok)
    expect(gw.running()).toBe(false)
    const cfg = JSON5.parse(readFileSync(config, 'utf8'))
    expect(cfg).toMatchObject({
      gateway: {bind: 'loopback', auth: {mode: 'token'}, allowRealIpFallback: false},
      channels: {telegram: {dmPolicy: 'disabled', allowFrom: []}},
    })
    expect([statSync(state).mode & 0o777, statSync(config).mode & 0o777]).toEqual([0o700, 0o600])
    // And no secret (old or new) is in the result or the case's journal, changes, status
    const token = cfg.gateway.auth.token as string
    for (const secret of [token, BOT, HOOKS]) {
      expect(JSON.stringify(r)).not.toContain(secret)
      expect(caseText(irHome, 'IR-yes')).not.toContain(secret)
    }
    expect(r.steps.find((s) => s.id === 'lockdown')!.detail).toMatch(
      /new gateway token sha256:[0-9a-f]{12} is in the config/,
    )
  })

  it('without any openclaw CLI: the lockdown is written but nothing is "verified" (exit 5, reason given)', async () => {
    // Given an open install and no openclaw anywhere (no gateway, no unit, no npm, empty PATH)
    const {config, req} = setup()
    // When contained with --yes
    const r = await contain(req({caseId: 'IR-nocli'}))
    // Then the edit is on disk, but the run says OpenClaw did not confirm it
    expect(JSON5.parse(readFileSync(config, 'utf8')).gateway.bind).toBe('loopback')
    expect(r.verified).toBe(false)
    expect(r.exitCode).toBe(ExitCode.Partial)
    for (const id of ['lockdown', 'audit']) {
      const step = r.steps.find((s) => s.id === id)!
      expect(step.status).toBe('failed')
      expect(step.detail).toContain('NOT verified: not confirmed by OpenClaw: no openclaw CLI found')
    }
  })

  it('a broken config: the stop still happens, the lockdown fails with file:line:col and writes nothing (exit 5)', async () => {
    // Given a running gateway and a config with a syntax error
    const {state, config, req} = setup()
    const gw = await startFakeGateway(state)
    const broken = '{\n  "gateway": {"bind": "lan"\n  "channels": {}\n}\n'
    writeConfig(state, broken)
    // When contained
    const r = await contain(req())
    // Then the gateway is stopped, the lockdown refused with the position, the rest still ran
    expect(gw.running()).toBe(false)
    const lock = r.steps.find((s) => s.id === 'lockdown')!
    expect(lock.status).toBe('failed')
    expect(lock.detail).toMatch(new RegExp(`^${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:3: `))
    expect(readFileSync(config, 'utf8')).toBe(broken)
    expect(r.steps.find((s) => s.id === 'permissions')!.status).toBe('done')
    expect(r.exitCode).toBe(ExitCode.Partial)
  })

  it('a run interrupted after the stop continues with the same --case: done steps are noops, the rest runs', async () => {
    // Given a case where only preserve and stop ran (as if Ctrl-C came after the stop)
    const {state, irHome, home, req} = setup()
    const gw = await startFakeGateway(state)
    const partial = path.join(tempDir('ir-pb-'), 'partial.yaml')
    writeFileSync(
      partial,
      'id: contain\ntitle: t\nsteps:\n  - {id: preserve, title: p, action: preserve-evidence}\n  - {id: stop, title: s, action: stop-gateway}\n',
    )
    await runPlaybookOn({
      playbook: partial,
      actions: ACTIONS,
      target: {stateDir: state},
      caseId: 'IR-resume',
      dryRun: false,
      prompter: defaultsPrompter,
      mayChange: true,
      runner: recordingRunner(),
      host: req().host,
      irHome,
    })
    expect(gw.running()).toBe(false)
    // When contain is re-run with the same case
    const r = await contain(req({caseId: 'IR-resume', ...withTargetCli(home)}))
    // Then the stop is a noop ("already stopped"), the lockdown happens, and the journal holds both runs in one chain
    expect(r.steps.find((s) => s.id === 'stop')).toMatchObject({
      status: 'noop',
      detail: 'already stopped: no gateway process, port 9 closed',
    })
    expect(r.steps.find((s) => s.id === 'lockdown')!.status).toBe('done')
    const journal = openCase('IR-resume', {home: irHome}).journal.entries()
    expect(journal.filter((e) => e.status === 'start')).toHaveLength(2)
    expect(journal.filter((e) => e.step === 'stop').map((e) => e.status)).toEqual(['done', 'noop'])
  })

  it('interactive: asks each lockdown sub-change, shows the diff before writing, then asks for the modes', async () => {
    // Given an open install and an operator who keeps auth "none" and declines the chmods
    const {config, req} = setup()
    const prompter = scriptedPrompter([
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      true,
      false,
    ])
    // When contained interactively
    const r = await contain(req({prompter}))
    // Then the questions came in playbook order, the write question carried the diff
    expect(prompter.asked.slice(0, 12)).toEqual([
      'Disable DMs on 1 channel (telegram)?',
      'Remove "*" (everyone) from 1 allow list?',
      'Disable group chats on 1 channel (telegram)?',
      'Bind the gateway to loopback (now "lan")?',
      'Turn mDNS discovery off (now "full")?',
      'Stop trusting client-supplied X-Real-IP (gateway.allowRealIpFallback)?',
      'Disable elevated (host) exec?',
      'Deny the exec tool (tools.exec.security -> "deny")?',
      'Disable webhooks (hooks.enabled)?',
      'Turn browser control off?',
      'Deny the tools that start or message other sessions (sessions_spawn, sessions_send)?',
      'Switch gateway auth from "none" to a fresh token?',
    ])
    expect(prompter.asked[12]).toMatch(
      /^--- [\s\S]*-  "gateway": \{"mode": "local", "port": 9, "bind": "lan"[\s\S]*\nWrite this change to openclaw\.json\?$/,
    )
    expect(prompter.asked[13]).toMatch(/^chmod 700 [\s\S]*\nRemove group\/world access from these 2 path\(s\)\?$/)
    // And the answers were honoured
    const cfg = JSON5.parse(readFileSync(config, 'utf8'))
    expect(cfg.gateway).toMatchObject({bind: 'loopback', auth: {mode: 'none'}})
    expect(r.steps.find((s) => s.id === 'permissions')!.status).toBe('declined')
    expect(statSync(config).mode & 0o777).toBe(0o644)
  })

  it('--keep-running skips the stop step', async () => {
    const {req} = setup()
    const r = await contain(req({keepRunning: true, dryRun: true}))
    expect(r.steps.find((s) => s.id === 'stop')).toMatchObject({status: 'skipped', detail: 'skipped: keepRunning'})
  })
})

describe('contain --undo', () => {
  it('restores every file and mode the case changed, and starts nothing', async () => {
    // Given a contained install
    const {state, config, irHome, req} = setup()
    const original = readFileSync(config, 'utf8')
    await contain(req({caseId: 'IR-undo'}))
    recordServiceChange(openCase('IR-undo', {home: irHome}), {ts: 'x', stoppedPid: 4242, port: 9})
    // When undone with --yes
    const runner = recordingRunner()
    const u = await containUndo({
      caseId: 'IR-undo',
      dryRun: false,
      prompter: defaultsPrompter,
      mayChange: true,
      runner,
      irHome,
    })
    // Then the original bytes and modes are back, verified, and nothing was started
    expect(readFileSync(config, 'utf8')).toBe(original)
    expect([statSync(state).mode & 0o777, statSync(config).mode & 0o777]).toEqual([0o755, 0o644])
    expect(u).toMatchObject({verified: true, exitCode: ExitCode.Ok, stoppedPids: [4242]})
    expect(runner.calls).toEqual([])
  })

  it('stops and shows the diff when a file changed since ir wrote it: nothing restored (all or nothing)', async () => {
    // Given a contained install whose config was edited afterwards
    const {state, config, irHome, req} = setup()
    await contain(req({caseId: 'IR-conflict'}))
    const edited = readFileSync(config, 'utf8').replace('"disabled"', '"pairing"')
    writeFileSync(config, edited)
    // When undone
    const u = await containUndo({
      caseId: 'IR-conflict',
      dryRun: false,
      prompter: defaultsPrompter,
      mayChange: true,
      runner: recordingRunner(),
      irHome,
    })
    // Then nothing was restored (modes neither), the conflict carries a masked diff, exit 3
    expect(u.exitCode).toBe(ExitCode.PreconditionFailed)
    expect(readFileSync(config, 'utf8')).toBe(edited)
    expect(statSync(state).mode & 0o777).toBe(0o700)
    const conflict = u.files.find((f) => f.status === 'conflict')!
    expect(conflict.diff!.join('\n')).toMatch(
      /^- {2}"channels": \{"telegram": \{"botToken": "«sha256:[0-9a-f]{12}»", "dmPolicy": "pairing"/m,
    )
    expect(conflict.diff!.join('\n')).toContain(
      '+  "gateway": {"mode": "local", "port": 9, "bind": "lan", "auth": {"mode": "none"}, "allowRealIpFallback": true},',
    )
    expect(JSON.stringify(u)).not.toContain(BOT)
    expect(u.detail).toBe(
      'nothing restored: 1 path(s) changed since ir wrote them (diff below); resolve by hand, then re-run',
    )
  })

  it('leaves services it disabled disabled under --yes, and re-enables only what the operator confirms (never starts by default)', async () => {
    // Given a case that disabled a systemd unit
    const irHome = tempDir('ir-home-')
    const c = openCase('IR-svc', {home: irHome})
    const service = {
      kind: 'systemd' as const,
      name: 'openclaw-gateway.service',
      file: '/home/u/.config/systemd/user/openclaw-gateway.service',
      embedsToken: false,
      legacy: false,
      nodeHost: false,
    }
    recordServiceChange(c, {
      ts: 'x',
      service,
      results: [
        {what: 'stop', ok: true, detail: ''},
        {what: 'disable', ok: true, detail: ''},
      ],
    })
    // When undone with --yes, Then it stays disabled and the commands to bring it back are listed
    const runner = recordingRunner(() => ({exitCode: 0}))
    const yes = await containUndo({
      caseId: 'IR-svc',
      dryRun: false,
      prompter: defaultsPrompter,
      mayChange: true,
      runner,
      irHome,
    })
    expect(yes.services).toEqual([
      {
        service: 'openclaw-gateway.service',
        kind: 'systemd',
        status: 'left disabled',
        detail: 'not re-enabled (run the commands below when ready)',
        commands: [
          'systemctl --user enable openclaw-gateway.service',
          'systemctl --user start openclaw-gateway.service',
        ],
      },
    ])
    expect(runner.calls).toEqual([])
    // When undone interactively: yes to re-enable, no to start
    const prompter = scriptedPrompter([true, false])
    const asked = await containUndo({caseId: 'IR-svc', dryRun: false, prompter, mayChange: true, runner, irHome})
    expect(prompter.asked).toEqual([
      'Re-enable openclaw-gateway.service (disabled by this case)?',
      'Start openclaw-gateway.service now?',
    ])
    expect(runner.calls).toEqual(['systemctl --user enable openclaw-gateway.service'])
    expect(asked.services[0]!.status).toBe('re-enabled')
  })

  it('changes nothing without a TTY and without --yes', async () => {
    const {config, irHome, req} = setup()
    await contain(req({caseId: 'IR-notty'}))
    const locked = readFileSync(config, 'utf8')
    const u = await containUndo({
      caseId: 'IR-notty',
      dryRun: false,
      prompter: defaultsPrompter,
      mayChange: false,
      irHome,
    })
    expect(u).toMatchObject({
      exitCode: ExitCode.Aborted,
      needsConfirmation: true,
      detail: expect.stringMatching(/^would restore \d+ change\(s\)$/),
    })
    expect(readFileSync(config, 'utf8')).toBe(locked)
  })
})
