import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {securityAudit} from '../../../src/actions/security-audit.js'
import {writeConfig} from '../../fixtures/state-dirs.js'
import {tempDir} from '../../helpers/temp.js'
import {contextFor, recordingRunner} from './contain-helpers.js'

const params = securityAudit.params.parse({})

function fakeCli(): NodeJS.ProcessEnv {
  const dir = tempDir('ir-fake-openclaw-')
  writeFileSync(path.join(dir, 'package.json'), '{"name": "openclaw", "version": "2026.9.6"}')
  writeFileSync(path.join(dir, 'openclaw.mjs'), '')
  return {IR_OPENCLAW_BIN: path.join(dir, 'openclaw.mjs'), IR_OPENCLAW_NODE: process.execPath}
}

/** The shape of a real 2026.9.6 report (openclaw-live.md §6), echoing a secret in a detail. */
const report = (criticals: string[]) =>
  JSON.stringify({
    ts: 1,
    summary: {critical: criticals.length, warn: 1, info: 1},
    findings: [
      {checkId: 'summary.attack_surface', severity: 'info', title: 'Attack surface summary', detail: 'x'},
      ...criticals.map((c) => ({
        checkId: c,
        severity: 'critical',
        title: c,
        detail: 'hooks.token="hooks-token-value-xyz"',
      })),
      {checkId: 'gateway.trusted_proxies_missing', severity: 'warn', title: 'w', detail: 'w'},
    ],
    secretDiagnostics: [],
  })

describe('security-audit', () => {
  it('records the real audit in the case (secrets masked) and lists the critical findings that remain', async () => {
    // Given an openclaw CLI whose audit still reports two criticals
    const state = tempDir('ir-audit-')
    writeConfig(state, '{"hooks": {"enabled": true, "token": "hooks-token-value-xyz"}}')
    const runner = recordingRunner((line) =>
      line.endsWith('security audit --json')
        ? {stdout: report(['gateway.bind_no_auth', 'fs.config.perms_world_readable'])}
        : undefined,
    )
    const ctx = contextFor(state, {runner, env: {HOME: tempDir(), ...fakeCli()}})
    // When it runs
    const plan = await securityAudit.plan(ctx, params)
    const applied = await securityAudit.apply(ctx, params, plan)
    const verdict = await securityAudit.verify!(ctx, params, plan, applied)
    // Then the report is saved in the case without the secret, and the remaining criticals are named
    const saved = readFileSync(path.join(ctx.case.dir, 'security-audit.json'), 'utf8')
    expect(JSON.parse(saved).summary).toEqual({critical: 2, warn: 1, info: 1})
    expect(saved).not.toContain('hooks-token-value-xyz')
    expect(applied.detail).toBe(
      'openclaw security audit: 2 critical, 1 warn (saved security-audit.json); critical findings remain: gateway.bind_no_auth, fs.config.perms_world_readable',
    )
    expect(verdict).toEqual({
      ok: false,
      detail: '2 critical finding(s) remain: gateway.bind_no_auth, fs.config.perms_world_readable',
    })
    expect(applied.files?.map((f) => [path.basename(f.path), f.role])).toEqual([
      ['security-audit.json', 'collected'],
      ['openclaw.json', 'read'],
    ])
    // And the CLI ran on this state dir's config
    expect(runner.calls).toEqual([`${process.execPath} ${ctx.env.IR_OPENCLAW_BIN} security audit --json`])
  })

  it('passes when no critical finding remains', async () => {
    const state = tempDir('ir-audit-')
    writeConfig(state, '{}')
    const ctx = contextFor(state, {
      runner: recordingRunner(() => ({stdout: report([])})),
      env: {HOME: tempDir(), ...fakeCli()},
    })
    const applied = await securityAudit.apply(ctx, params, await securityAudit.plan(ctx, params))
    expect(applied.detail).toContain('no critical finding remains')
    expect((await securityAudit.verify!(ctx, params, {noop: false, summary: '', lines: []}, applied)).ok).toBe(true)
  })

  it("without an openclaw CLI, falls back to ir's own exposure check", async () => {
    // Given no CLI and a world-readable config
    const state = tempDir('ir-audit-')
    const file = writeConfig(
      state,
      '{"gateway": {"bind": "loopback", "auth": {"mode": "token", "token": "t-0123456789012345678901234"}}}',
    )
    await import('node:fs').then((fs) => fs.chmodSync(file, 0o644))
    const ctx = contextFor(state, {env: {HOME: tempDir(), PATH: ''}})
    // When it runs, Then ir's model reports the critical and the step fails verification
    const applied = await securityAudit.apply(ctx, params, await securityAudit.plan(ctx, params))
    expect(applied.detail).toBe(
      "no openclaw CLI found (set IR_OPENCLAW_BIN or put openclaw on PATH); ir's check: critical exposure remains: fs.config.perms_world_readable",
    )
    expect((await securityAudit.verify!(ctx, params, {noop: false, summary: '', lines: []}, applied)).ok).toBe(false)
  })
})

describe('security-audit when OpenClaw fails', () => {
  it('does not take an error object printed as JSON (exit 1) for a clean report', async () => {
    // Given an openclaw CLI that cannot open its database (a read-only state dir) and says so in JSON
    const state = tempDir('ir-audit-')
    writeConfig(state, '{"gateway": {"bind": "lan"}}')
    const failing = {stdout: '{"ok":false,"error":{"message":"unable to open database file"}}', exitCode: 1}
    const ctx = contextFor(state, {runner: recordingRunner(() => failing), env: {HOME: tempDir(), ...fakeCli()}})
    // When the audit step runs
    const plan = await securityAudit.plan(ctx, params)
    const applied = await securityAudit.apply(ctx, params, plan)
    const verdict = await securityAudit.verify!(ctx, params, plan, applied)
    // Then nothing is called clean or verified, OpenClaw's own words say why, and no report is saved
    expect(applied.detail).toContain('openclaw security audit gave no report (exit 1): unable to open database file')
    expect(applied.detail).not.toContain('no critical finding remains')
    expect(verdict).toMatchObject({ok: false, detail: expect.stringContaining('not confirmed by OpenClaw')})
    expect(applied.files ?? []).toEqual([])
  })

  it('does not take a JSON object without counts and findings for a report, even with exit 0', async () => {
    const state = tempDir('ir-audit-')
    writeConfig(state, '{}')
    const ctx = contextFor(state, {
      runner: recordingRunner(() => ({stdout: '{"ok": true}'})),
      env: {HOME: tempDir(), ...fakeCli()},
    })
    const applied = await securityAudit.apply(ctx, params, await securityAudit.plan(ctx, params))
    expect((await securityAudit.verify!(ctx, params, {noop: false, summary: '', lines: []}, applied)).ok).toBe(false)
  })
})

describe('security-audit on a broken config', () => {
  it('does not call a config it cannot read "no critical exposure"', async () => {
    // Given a config that does not parse and no openclaw CLI
    const state = tempDir('ir-audit-broken-')
    writeConfig(state, '{"gateway": {"bind": "lan",,}}')
    const ctx = contextFor(state, {runner: recordingRunner(() => undefined), env: {HOME: tempDir()}})
    // When the audit step runs
    const plan = await securityAudit.plan(ctx, params)
    const applied = await securityAudit.apply(ctx, params, plan)
    const verdict = await securityAudit.verify!(ctx, params, plan, applied)
    // Then it is not verified, and says why
    expect(verdict.ok).toBe(false)
    expect(verdict.detail).toContain('config.unreadable')
  })

  it('does not say "no critical finding remains" when OpenClaw audited but ir cannot read the config', async () => {
    // Given a config that does not parse, and an OpenClaw audit that reports nothing critical
    const state = tempDir('ir-audit-broken-')
    writeConfig(state, '{"gateway": {"bind": "lan",,}}')
    const ctx = contextFor(state, {
      runner: recordingRunner(() => ({stdout: report([])})),
      env: {HOME: tempDir(), ...fakeCli()},
    })
    // When the audit step runs, Then its line and its verdict agree: the unreadable config remains
    const applied = await securityAudit.apply(ctx, params, await securityAudit.plan(ctx, params))
    expect(applied.detail).toContain('critical findings remain: config.unreadable')
    expect(applied.detail).not.toContain('no critical finding remains')
  })
})
