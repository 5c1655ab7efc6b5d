import {chmodSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import JSON5 from 'json5'
import {describe, expect, it} from 'vitest'

import {baselineChanges} from '../../src/actions/recover-baseline.js'
import {lockdownChanges} from '../../src/openclaw/lockdown-edits.js'
import {defaultsPrompter} from '../../src/playbook/prompter.js'
import {recover, recoverUndo} from '../../src/recover.js'
import {fileEraStateDir, sqliteEraStateDir} from '../fixtures/state-dirs.js'
import {fakeHost, scriptedPrompter, tempDir} from '../helpers/temp.js'

/** What contain leaves behind: everything closed, token auth. */
const CONTAINED = `{
  // contained by ir
  "gateway": {"mode": "local", "port": 9, "bind": "loopback", "auth": {"mode": "token", "token": "short"}},
  "discovery": {"mdns": {"mode": "full"}},
  "channels": {
    "telegram": {"dmPolicy": "disabled", "allowFrom": ["*", "123"], "groupPolicy": "disabled",
      "groups": {"*": {"requireMention": false}}, "accounts": {"work": {"dmPolicy": "open"}}},
  },
  "tools": {"elevated": {"enabled": true}, "exec": {"security": "deny"}},
  "logging": {"redactSensitive": "off"},
}
`

const base = (state: string, irHome: string) => ({
  target: {stateDir: state},
  dryRun: false,
  mayChange: true,
  host: fakeHost(tempDir('ir-rec-home-'), {PATH: ''}),
  irHome,
})

describe('baselineChanges', () => {
  it('brings a contained config back to the guide baseline without re-opening anything', () => {
    // Given a contained config
    const config = JSON5.parse(CONTAINED) as Record<string, unknown>
    // When the baseline is computed (DMs by pairing)
    const changes = baselineChanges(config, {dmPolicy: 'pairing', newSecret: () => 'n'.repeat(43)})
    const edits = Object.fromEntries(changes.flatMap((c) => c.edits).map((e) => [e.path.join('.'), e.value]))
    // Then every baseline key is set, nothing is re-enabled, and "*" leaves the allow list
    expect(edits).toEqual({
      'channels.telegram.dmPolicy': 'pairing',
      'channels.telegram.accounts.work.dmPolicy': 'pairing',
      'channels.telegram.allowFrom': ['123'],
      'channels.telegram.groupPolicy': 'allowlist',
      'channels.telegram.groups.*.requireMention': true,
      'session.dmScope': 'per-channel-peer',
      'discovery.mdns.mode': 'minimal',
      'logging.redactSensitive': 'tools',
      'tools.elevated.enabled': false,
      'gateway.auth.token': 'n'.repeat(43),
      // the sole agent reached by anyone ("*" as found): the guide's "public agent" profile
      'agents.defaults.sandbox.mode': 'all',
      'tools.deny': [
        'apply_patch',
        'browser',
        'canvas',
        'cron',
        'edit',
        'exec',
        'gateway',
        'image',
        'nodes',
        'process',
        'read',
        'write',
      ],
    })
    expect(changes.find((c) => c.id === 'token')?.edits[0]?.secret).toBe(true)
  })

  it.each([
    ['2026.9.6', {}, 'tools.exec.mode'],
    ['2026.9.6', {exec: {security: 'full'}}, 'tools.exec.security'],
    ['2026.9.6', {exec: {mode: 'full'}}, 'tools.exec.mode'],
    ['2026.3.23', {}, 'tools.exec.security'],
  ])('denies exec in the form contain writes (OpenClaw %s, tools %j): %s', (version, tools, key) => {
    // Given a config and the target's version
    const config = {gateway: {mode: 'local', bind: 'loopback'}, tools}
    // When recover's baseline and contain's lockdown are computed for the same config
    const edits = (changes: Array<{edits: Array<{path: string[]; value?: unknown}>}>) =>
      changes.flatMap((c) => c.edits).filter((e) => e.path.join('.').startsWith('tools.exec'))
    const recovered = edits(baselineChanges(config, {dmPolicy: 'pairing', newSecret: () => 'n', version}))
    const contained = edits(
      lockdownChanges(config, {dmPolicy: 'disabled', groupPolicy: 'allowlist', newSecret: () => 'n', version}),
    )
    // Then both write the one key the config (or else the version) calls for
    expect(recovered.map((e) => [e.path.join('.'), e.value])).toEqual([[key, 'deny']])
    expect(recovered).toEqual(contained)
  })

  it('has nothing to change on the baseline itself (never adds a key 2026.9.6 rejects)', () => {
    const config = {
      gateway: {mode: 'local', bind: 'loopback', auth: {mode: 'token', token: 'x'.repeat(48)}},
      session: {dmScope: 'per-channel-peer'},
      channels: {whatsapp: {dmPolicy: 'pairing', groupPolicy: 'allowlist', groups: {'*': {requireMention: true}}}},
      tools: {
        elevated: {enabled: false},
        exec: {security: 'deny'},
        deny: ['write', 'edit', 'apply_patch', 'exec', 'process', 'browser'],
      },
      agents: {defaults: {sandbox: {mode: 'all', workspaceAccess: 'ro'}}},
      browser: {enabled: false},
    }
    expect(baselineChanges(config, {dmPolicy: 'pairing', newSecret: () => 'n'})).toEqual([])
  })
})

describe('recover', () => {
  for (const [era, make] of [
    ['file era', fileEraStateDir],
    ['SQLite era', sqliteEraStateDir],
  ] as const) {
    it(`${era}: writes the baseline, tightens modes, and without OpenClaw's CLI says it is not verified (exit 5)`, async () => {
      // Given a contained install with loose modes, no openclaw CLI and no gateway
      const state = make(tempDir('ir-rec-'), CONTAINED)
      chmodSync(state, 0o755)
      const config = path.join(state, 'openclaw.json')
      // When recovered unattended
      const irHome = tempDir('ir-rec-ir-')
      const r = await recover({...base(state, irHome), prompter: defaultsPrompter})
      // Then the config is on the baseline, modes are 700, the gateway start is left to the operator
      const after = JSON5.parse(readFileSync(config, 'utf8')) as {
        channels: {telegram: {dmPolicy: string}}
        session: {dmScope: string}
      }
      expect(after.channels.telegram.dmPolicy).toBe('pairing')
      expect(after.session.dmScope).toBe('per-channel-peer')
      expect(readFileSync(config, 'utf8')).toContain('// contained by ir')
      expect(statSync(state).mode & 0o777).toBe(0o700)
      expect(r.steps.map((s) => [s.id, s.status])).toEqual([
        ['baseline', 'failed'],
        ['permissions', 'done'],
        ['audit', 'failed'],
        ['start', 'not-run'],
      ])
      expect(r.steps[0]?.detail).toContain('NOT verified: not confirmed by OpenClaw: no openclaw CLI found')
      expect(r.notes).toContain("the gateway was not started: OpenClaw's audit did not confirm the baseline")
      expect(r.verified).toBe(false)
      expect(r.exitCode).toBe(5)
      // And undo puts the contained bytes back
      const undone = await recoverUndo({
        caseId: r.case,
        dryRun: false,
        prompter: defaultsPrompter,
        mayChange: true,
        irHome,
      })
      expect(undone.verified).toBe(true)
      expect(readFileSync(config, 'utf8')).toBe(CONTAINED)
      expect(statSync(state).mode & 0o777).toBe(0o755)
    })
  }

  it('asks each sub-change; a declined one is not written', async () => {
    const state = fileEraStateDir(tempDir('ir-rec-ask-'), CONTAINED)
    // Given an operator who declines only the DM change, then approves the edit
    const answers = [false, true, true, true, true, true, true, true, true, true, true, true, true]
    const p = scriptedPrompter(answers)
    await recover({...base(state, tempDir('ir-rec-ir-')), prompter: p}).catch(() => undefined)
    // Then DMs stay disabled and the rest is on the baseline
    expect(p.asked[0]).toMatch(/^DMs by pairing on 2 channel scope\(s\)/)
    const after = readFileSync(path.join(state, 'openclaw.json'), 'utf8')
    expect(after).toContain('"dmPolicy": "disabled"')
    expect(after).toContain('"dmScope": "per-channel-peer"')
  })
})
