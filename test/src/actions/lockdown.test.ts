import {chmodSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import JSON5 from 'json5'
import {describe, expect, it} from 'vitest'

import {lockdown} from '../../../src/actions/lockdown.js'
import {readChanges} from '../../../src/case/case-store.js'
import {loadConfig} from '../../../src/openclaw/config.js'
import {fileEraStateDir, writeConfig} from '../../fixtures/state-dirs.js'
import {scriptedPrompter, tempDir} from '../../helpers/temp.js'
import {contextFor, recordingRunner, startFakeGateway} from './contain-helpers.js'

const params = (over: Record<string, unknown> = {}) => lockdown.params.parse(over)

const OPEN = `{
  // production gateway — keep this comment
  "gateway": {"mode": "local", "port": 18789, "bind": "lan", "auth": {"mode": "none"}},
  "channels": {
    "telegram": {"botToken": "123:FAKE-bot-token", "dmPolicy": "open", "allowFrom": ["*"], "groupPolicy": "open"}, // main bot
  },
  "tools": {"exec": {"security": "full"}},
  "hooks": {"enabled": true, "token": "hooks-token-value-xyz", "path": "/hooks"},
}
`

/** An `openclaw` package the CLI finder accepts; the runner stands in for running it. */
function fakeCli(): NodeJS.ProcessEnv {
  const dir = tempDir('ir-fake-openclaw-')
  writeFileSync(path.join(dir, 'package.json'), '{"name": "openclaw", "version": "2026.9.6"}')
  writeFileSync(path.join(dir, 'openclaw.mjs'), '')
  return {IR_OPENCLAW_BIN: path.join(dir, 'openclaw.mjs'), IR_OPENCLAW_NODE: process.execPath}
}

describe('lockdown', () => {
  it('--yes: one comment-keeping edit with every safe default, token masked in the diff, backed up, re-read', async () => {
    // Given an open JSONC config (mode 640) and no openclaw CLI
    const state = tempDir('ir-lock-')
    const file = writeConfig(state, OPEN)
    chmodSync(file, 0o640)
    const ctx = contextFor(state)
    // When planned and applied without prompts
    const plan = await lockdown.plan(ctx, params())
    const applied = await lockdown.apply(ctx, params(), plan)
    const verdict = await lockdown.verify!(ctx, params(), plan, applied)
    // Then the config holds the locked-down values and kept its comments and mode
    const text = readFileSync(file, 'utf8')
    const cfg = JSON5.parse(text)
    expect(cfg.gateway).toMatchObject({bind: 'loopback', auth: {mode: 'token'}})
    expect(cfg.gateway.auth.token).toMatch(/^[A-Za-z0-9._~-]{43}$/)
    expect(cfg.channels.telegram).toMatchObject({
      dmPolicy: 'disabled',
      allowFrom: [],
      groupPolicy: 'disabled',
      botToken: '123:FAKE-bot-token',
    })
    expect(cfg).toMatchObject({
      tools: {exec: {security: 'deny'}, elevated: {enabled: false}},
      hooks: {enabled: false},
      browser: {enabled: false},
      discovery: {mdns: {mode: 'off'}},
    })
    expect(text).toContain('// production gateway — keep this comment')
    expect(text).toContain('// main bot')
    expect(statSync(file).mode & 0o777).toBe(0o640)
    // And the plan showed a diff in which no secret appears, and said where the token is
    const shown = plan.lines.join('\n')
    expect(shown).toContain('-  "gateway": {"mode": "local", "port": 18789, "bind": "lan", "auth": {"mode": "none"}},')
    for (const secret of [cfg.gateway.auth.token, '123:FAKE-bot-token', 'hooks-token-value-xyz'])
      expect(shown).not.toContain(secret)
    expect(shown).toMatch(
      /new gateway token \(sha256:[0-9a-f]{12}\) is written to .*openclaw\.json only — never printed;/,
    )
    // And the original bytes are in the case, the change recorded for undo, and the journal trail carries a
    // fingerprint only
    const [change] = readChanges(ctx.case)
    expect(readFileSync(change!.backup!, 'utf8')).toBe(OPEN)
    expect(applied.fingerprints).toEqual({'gateway.auth.token': expect.stringMatching(/^[0-9a-f]{12}$/)})
    expect(applied.detail).not.toContain(cfg.gateway.auth.token)
    // And with no openclaw CLI to validate it, the edit is not called verified (a re-parse is not OpenClaw's word)
    expect(verdict).toEqual({
      ok: false,
      detail:
        'not confirmed by OpenClaw: no openclaw CLI found (gateway process, service unit, npm prefix, PATH; or set IR_OPENCLAW_BIN); the file re-parses with the new values',
    })
  })

  it('is verified when the target CLI validated the edit, and names that CLI in the plan and the detail', async () => {
    // Given the open config and the target's CLI (version 2026.9.6) that accepts it
    const state = tempDir('ir-lock-')
    writeConfig(state, OPEN)
    const runner = recordingRunner((line) => (line.endsWith('config validate') ? {stdout: 'Config valid'} : undefined))
    const ctx = contextFor(state, {runner, env: {HOME: tempDir(), ...fakeCli()}})
    // When planned, applied, verified
    const plan = await lockdown.plan(ctx, params())
    const applied = await lockdown.apply(ctx, params(), plan)
    const verdict = await lockdown.verify!(ctx, params(), plan, applied)
    // Then the CLI validated the result, and the run is verified
    expect(runner.calls.filter((c) => c.endsWith('config validate'))).toHaveLength(1)
    expect(plan.lines.join('\n')).toMatch(/check: openclaw 2026\.9\.6 \(IR_OPENCLAW_BIN /)
    expect(applied.detail).toMatch(/validated by openclaw 2026\.9\.6 \(IR_OPENCLAW_BIN /)
    expect(verdict.ok).toBe(true)
  })

  it("refuses a config its own OpenClaw already rejects, naming OpenClaw's message, and writes nothing", async () => {
    const state = tempDir('ir-lock-')
    const file = writeConfig(state, '{"tools": {"exec": {"mode": "full", "security": "full"}}}')
    const runner = recordingRunner((line) =>
      line.endsWith('config validate')
        ? {exitCode: 1, stderr: '  × openclaw.json:1 — tools.exec.mode: mode cannot be combined with security or ask'}
        : undefined,
    )
    const ctx = contextFor(state, {runner, env: {HOME: tempDir(), ...fakeCli()}})
    const plan = await lockdown.plan(ctx, params())
    await expect(lockdown.apply(ctx, params(), plan)).rejects.toThrow(
      /already invalid for openclaw 2026\.9\.6: openclaw\.json:1 — tools\.exec\.mode: mode cannot be combined/,
    )
    expect(readFileSync(file, 'utf8')).toBe('{"tools": {"exec": {"mode": "full", "security": "full"}}}')
  })

  it('asks each sub-change in an interactive run and writes only what was accepted; the final question shows the diff', async () => {
    // Given the open config and an operator who keeps exec and hooks as they are
    const state = tempDir('ir-lock-')
    const file = writeConfig(state, OPEN)
    const prompter = scriptedPrompter([true, true, true, true, true, true, false, false, true, true, true])
    const ctx = contextFor(state, {prompter})
    // When planned
    const plan = await lockdown.plan(ctx, params({groupPolicy: 'allowlist'}))
    // Then every question came with its count, safe default first
    expect(prompter.asked).toEqual([
      'Disable DMs on 1 channel (telegram)?',
      'Remove "*" (everyone) from 1 allow list?',
      'Restrict group chats to the allowlist on 1 channel (telegram)?',
      'Bind the gateway to loopback (now "lan")?',
      'Turn mDNS discovery off (now minimal by default)?',
      'Disable elevated (host) exec?',
      'Deny the exec tool (tools.exec.security -> "deny")?',
      'Disable webhooks (hooks.enabled)?',
      'Turn browser control off?',
      'Deny the tools that start or message other sessions (sessions_spawn, sessions_send)?',
      'Switch gateway auth from "none" to a fresh token?',
    ])
    expect(plan.lines).toContain('declined: tools.exec.security -> "deny"')
    expect(plan.question).toMatch(
      /^--- .*openclaw\.json\n\+\+\+ .*openclaw\.json\n@@[\s\S]*\nWrite this change to openclaw\.json\?$/,
    )
    // When applied, Then the declined keys are untouched
    await lockdown.apply(ctx, params(), plan)
    const cfg = JSON5.parse(readFileSync(file, 'utf8'))
    expect(cfg.tools.exec.security).toBe('full')
    expect(cfg.hooks.enabled).toBe(true)
    expect(cfg.channels.telegram.groupPolicy).toBe('allowlist')
  })

  it('refuses a broken config with file:line:col and writes nothing', async () => {
    // Given a config with a syntax error on line 3
    const state = tempDir('ir-lock-')
    const text = '{\n  "gateway": {"bind": "lan"},\n  "channels": {,}\n}\n'
    const file = writeConfig(state, text)
    // When planned, Then the error points at the spot and the file is unchanged
    await expect(lockdown.plan(contextFor(state), params())).rejects.toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:16: `),
    )
    expect(readFileSync(file, 'utf8')).toBe(text)
  })

  it('refuses a read-only config clearly and leaves it as it was', async () => {
    // Given a config made read-only (0400) by its owner
    const state = tempDir('ir-lock-')
    const file = writeConfig(state, OPEN)
    chmodSync(file, 0o400)
    // When planned, Then it says read-only and how to proceed; nothing changed
    await expect(lockdown.plan(contextFor(state), params())).rejects.toThrow(
      `${file} is read-only (mode 400); nothing was written.`,
    )
    expect(readFileSync(file, 'utf8')).toBe(OPEN)
    expect(statSync(file).mode & 0o777).toBe(0o400)
  })

  it("edits the $include'd file that holds a key, and the root for the rest", async () => {
    // Given channels kept in an included file
    const state = tempDir('ir-lock-')
    writeFileSync(
      path.join(state, 'channels.json5'),
      '{\n  // team bots\n  "telegram": {"dmPolicy": "open", "allowFrom": ["*"]},\n}\n',
    )
    const file = writeConfig(
      state,
      '{"gateway": {"bind": "loopback", "auth": {"mode": "token", "token": "t-0123456789012345678901234"}}, "channels": {"$include": "./channels.json5"}}',
    )
    const ctx = contextFor(state)
    // When locked down
    const plan = await lockdown.plan(ctx, params())
    await lockdown.apply(ctx, params(), plan)
    // Then the keys the include holds changed there (its comment kept); new keys went to the root, which overrides
    // includes
    const incText = readFileSync(path.join(state, 'channels.json5'), 'utf8')
    expect(JSON5.parse(incText).telegram).toEqual({dmPolicy: 'disabled', allowFrom: []})
    expect(incText).toContain('// team bots')
    const root = JSON5.parse(readFileSync(file, 'utf8'))
    expect(root.channels).toEqual({$include: './channels.json5', telegram: {groupPolicy: 'disabled'}})
    expect(root.tools).toEqual({
      deny: ['sessions_spawn', 'sessions_send'],
      elevated: {enabled: false},
      exec: {security: 'deny'},
    })
    expect(loadConfig(file).value.channels).toEqual({
      telegram: {dmPolicy: 'disabled', allowFrom: [], groupPolicy: 'disabled'},
    })
    expect(
      readChanges(ctx.case)
        .map((c) => path.basename(c.path))
        .sort(),
    ).toEqual(['channels.json5', 'openclaw.json'])
  })

  it('puts the original bytes back when `openclaw config validate` rejects the edit', async () => {
    // Given an openclaw CLI that rejects the result and accepts the original config (asked after the rollback)
    const state = tempDir('ir-lock-')
    const file = writeConfig(state, OPEN)
    let validations = 0
    const runner = recordingRunner((line) =>
      !line.endsWith('config validate')
        ? undefined
        : ++validations === 1
          ? {
              exitCode: 1,
              stderr: 'OpenClaw config is invalid: ~/.openclaw/openclaw.json\n  × channels.telegram: invalid config',
            }
          : {stdout: 'Config valid'},
    )
    const ctx = contextFor(state, {runner, env: {HOME: tempDir(), ...fakeCli()}})
    // When applied, Then it fails with OpenClaw's reason and the file is byte-identical
    const plan = await lockdown.plan(ctx, params())
    await expect(lockdown.apply(ctx, params(), plan)).rejects.toThrow(
      'openclaw config validate rejected the edited config: channels.telegram: invalid config',
    )
    expect(readFileSync(file, 'utf8')).toBe(OPEN)
  })

  it('resets Tailscale serve when the config used it and it is active, and checks it is gone', async () => {
    // Given tailscale serve active for the gateway
    const state = tempDir('ir-lock-')
    writeConfig(
      state,
      '{"gateway": {"bind": "loopback", "auth": {"mode": "token", "token": "t-0123456789012345678901234"}, "tailscale": {"mode": "serve"}}}',
    )
    let served = true
    const runner = recordingRunner((line) => {
      if (line === 'tailscale serve status --json') return {stdout: served ? '{"TCP": {"443": {"HTTPS": true}}}' : '{}'}
      if (line === 'tailscale serve reset') served = false
      return {}
    })
    const ctx = contextFor(state, {runner, env: {HOME: tempDir(), ...fakeCli()}})
    // When planned, applied, verified
    const plan = await lockdown.plan(ctx, params())
    const applied = await lockdown.apply(ctx, params(), plan)
    const verdict = await lockdown.verify!(ctx, params(), plan, applied)
    // Then the reset was planned, run, and verified
    expect(plan.lines).toContain(
      'run: tailscale serve reset   (Serve/Funnel config persists in tailscaled after the gateway stops)',
    )
    expect(runner.calls).toContain('tailscale serve reset')
    expect(applied.detail).toContain('; tailscale serve reset')
    expect(verdict.ok).toBe(true)
  })

  it('--keep-running: proves the running gateway applied the edit through its own config.get', async () => {
    // Given a running gateway of this state dir, and its RPC answering first before, then after the reload
    const state = tempDir('ir-lock-')
    const file = writeConfig(
      state,
      '{"gateway": {"mode": "local", "bind": "loopback", "auth": {"mode": "token", "token": "t-0123456789012345678901234"}}, "channels": {"telegram": {"dmPolicy": "open", "allowFrom": ["*"]}}}',
    )
    const gw = await startFakeGateway(state)
    let calls = 0
    const runner = recordingRunner((line) => {
      if (!line.endsWith('gateway call config.get --json')) return {}
      calls++
      const source = JSON5.parse(readFileSync(file, 'utf8'))
      source.gateway.auth.token = '__OPENCLAW_REDACTED__'
      return {
        stdout: JSON.stringify({
          valid: true,
          sourceConfig: source,
          configRevisionHash: 'rev-2',
          appliedConfigHash: calls === 1 ? 'rev-1' : 'rev-2',
        }),
      }
    })
    const ctx = contextFor(state, {runner, env: {HOME: tempDir(), ...fakeCli()}, vars: {keepRunning: true}})
    // When locked down and verified
    const plan = await lockdown.plan(ctx, params())
    const applied = await lockdown.apply(ctx, params(), plan)
    const verdict = await lockdown.verify!(ctx, params({applyTimeoutSeconds: 10}), plan, applied)
    // Then it asked the gateway until the applied hash matched the file
    expect(calls).toBe(2)
    expect(verdict.ok).toBe(true)
    expect(verdict.detail).toContain(
      `running gateway (pid ${gw.pid}): the running gateway applied the edited config (config.get: appliedConfigHash = configRevisionHash`,
    )
  })

  it('--keep-running: fails verification when the gateway never applies the edit (reload off or invalid)', async () => {
    // Given a running gateway whose applied hash never moves
    const state = tempDir('ir-lock-')
    const file = writeConfig(
      state,
      '{"gateway": {"mode": "local", "reload": {"mode": "off"}}, "channels": {"telegram": {"dmPolicy": "open", "allowFrom": ["*"]}}}',
    )
    await startFakeGateway(state)
    const runner = recordingRunner((line) =>
      line.endsWith('gateway call config.get --json')
        ? {
            stdout: JSON.stringify({
              valid: true,
              sourceConfig: JSON5.parse(readFileSync(file, 'utf8')),
              configRevisionHash: 'rev-2',
              appliedConfigHash: 'rev-1',
            }),
          }
        : {},
    )
    const ctx = contextFor(state, {runner, env: {HOME: tempDir(), ...fakeCli()}, vars: {keepRunning: true}})
    // When verified with a short budget
    const plan = await lockdown.plan(ctx, params())
    const applied = await lockdown.apply(ctx, params(), plan)
    const verdict = await lockdown.verify!(ctx, params({applyTimeoutSeconds: 1}), plan, applied)
    // Then it says the running gateway has not applied the lockdown
    expect(verdict.ok).toBe(false)
    expect(verdict.detail).toMatch(
      /has NOT applied the lockdown: not applied after 1 s: the gateway has not applied the edited config yet \(applied hash differs\)$/,
    )
  })

  it('locks down a legacy (file era) state dir with the old Discord dm.policy shape', async () => {
    // Given a file-era state dir whose config still uses dm.policy
    const state = fileEraStateDir(
      tempDir('ir-lock-'),
      '{"gateway": {"mode": "local", "bind": "loopback", "auth": {"mode": "token", "token": "fixture-token-0123456789abcdef0123"}}, "channels": {"discord": {"dm": {"policy": "open", "allowFrom": ["*"]}}}}',
    )
    mkdirSync(path.join(state, 'logs'), {recursive: true})
    const ctx = contextFor(state)
    // When locked down
    const plan = await lockdown.plan(ctx, params())
    await lockdown.apply(ctx, params(), plan)
    // Then the key is edited where that version keeps it
    expect(JSON5.parse(readFileSync(path.join(state, 'openclaw.json'), 'utf8')).channels.discord).toEqual({
      dm: {policy: 'disabled', allowFrom: []},
      groupPolicy: 'disabled',
    })
  })

  it('closes per-agent overrides in agents.list[] in place (array index paths), keeping comments', async () => {
    // Given an agent in the old list shape with exec unrestricted
    const state = tempDir('ir-lock-')
    const file = writeConfig(
      state,
      '{\n  "gateway": {"bind": "loopback", "auth": {"mode": "token", "token": "t-0123456789012345678901234"}},\n  "agents": {"list": [\n    // the ops agent\n    {"id": "ops", "tools": {"exec": {"security": "full"}, "elevated": {"enabled": true}}},\n  ]},\n}\n',
    )
    const ctx = contextFor(state)
    // When locked down
    await lockdown.apply(ctx, params(), await lockdown.plan(ctx, params()))
    // Then the list entry itself changed and the comment inside the list survived
    const text = readFileSync(file, 'utf8')
    expect(JSON5.parse(text).agents.list[0]).toEqual({
      id: 'ops',
      tools: {exec: {security: 'deny'}, elevated: {enabled: false}},
    })
    expect(text).toContain('// the ops agent')
  })

  it('rejects an unknown --dm-policy', async () => {
    const state = tempDir('ir-lock-')
    writeConfig(state, OPEN)
    await expect(lockdown.plan(contextFor(state, {vars: {dmPolicy: 'open'}}), params())).rejects.toThrow(
      '--dm-policy "open" is not one of disabled, pairing, allowlist.',
    )
  })
})
