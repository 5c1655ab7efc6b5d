import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCommand} from '@oclif/test'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {closedPort, stateWithConfig} from '../src/actions/rotate-fixtures.js'
import {tempDir} from '../helpers/temp.js'

const T0 = 'tok-OLD-0123456789abcdef0123456789abcdef'
const H0 = 'hook-OLD-0123456789abcdef0123456789abcd'

let saved: NodeJS.ProcessEnv
beforeEach(() => {
  saved = {...process.env}
  process.env.IR_HOME = tempDir('ir-home-')
  delete process.env.IR_OPENCLAW_BIN
  process.env.PATH = path.dirname(process.execPath) // no `openclaw` on PATH: validation by re-parse
})
afterEach(() => {
  process.env = saved
  process.exitCode = undefined
})

async function install(config?: object) {
  const port = await closedPort()
  return stateWithConfig(
    config ?? {gateway: {mode: 'local', port, auth: {mode: 'token', token: T0}}, hooks: {enabled: true, token: H0}},
  )
}

describe('ir rotate', () => {
  it('documents its flags and examples', async () => {
    const {stdout} = await runCommand(['rotate', '--help'], import.meta.url)
    for (const flag of [
      '--only',
      '--secrets-out',
      '--allow-unverified',
      '--dry-run',
      '--yes',
      '--case',
      '--state-dir',
      '--json',
    ])
      expect(stdout).toContain(flag)
    expect(stdout).toContain('rotate --yes --secrets-out ./rotated.json --json')
  })

  it('rotates with --yes --secrets-out --json: the DESIGN.md result shape, values only in the 0600 file', async () => {
    const {state, configPath} = await install()
    const out = path.join(tempDir(), 'new.json')
    const {stdout} = await runCommand(
      ['rotate', '--state-dir', state, '--config', configPath, '--yes', '--secrets-out', out, '--json'],
      import.meta.url,
    )
    const r = JSON.parse(stdout)
    expect(r).toMatchObject({case: expect.stringMatching(/^IR-/), verified: false, exitCode: 0})
    expect(r.steps.map((s: {id: string; action: string; status: string}) => `${s.id}:${s.action}:${s.status}`)).toEqual(
      [
        'inventory:rotate-inventory:done',
        'rotate:rotate-secrets:done',
        'prove:rotate-prove:done',
        'restart:rotate-restart:noop',
        'handover:rotate-handover:done',
        'checklist:rotate-checklist:done',
        'paste:rotate-paste:noop',
      ],
    )
    expect(r.steps.every((s: {detail: unknown}) => typeof s.detail === 'string')).toBe(true)
    const handed = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>
    expect(Object.keys(handed)).toEqual(['gateway.auth.token', 'hooks.token'])
    expect(statSync(out).mode & 0o777).toBe(0o600)
    for (const v of [T0, H0, ...Object.values(handed)]) expect(stdout).not.toContain(v)
    expect(readFileSync(configPath, 'utf8')).toContain(handed['gateway.auth.token'])
    expect(process.exitCode).toBeUndefined()
  })

  it('refuses an existing --secrets-out file before changing anything (exit 2)', async () => {
    const {state, configPath} = await install()
    const before = readFileSync(configPath, 'utf8')
    const out = path.join(tempDir(), 'exists.json')
    writeFileSync(out, 'keep me')
    const {stdout} = await runCommand(
      ['rotate', '--state-dir', state, '--yes', '--secrets-out', out, '--json'],
      import.meta.url,
    )
    expect(JSON.parse(stdout)).toEqual({
      error: {
        code: 'SECRETS_OUT_EXISTS',
        exitCode: 2,
        message: `${out} already exists; ir never overwrites a --secrets-out file.`,
        suggestions: ['Pass a new file name (e.g. ./rotated-$(date +%s).json); nothing was changed.'],
      },
    })
    expect(process.exitCode).toBe(2)
    expect(readFileSync(out, 'utf8')).toBe('keep me')
    expect(readFileSync(configPath, 'utf8')).toBe(before)
  })

  it('rejects an unknown --only scope (exit 2)', async () => {
    const {state} = await install()
    const {stdout} = await runCommand(
      ['rotate', '--state-dir', state, '--only', 'gateway,channels', '--json'],
      import.meta.url,
    )
    expect(JSON.parse(stdout).error).toMatchObject({
      code: 'USAGE',
      message: '--only gateway,channels: unknown scope "channels".',
    })
    expect(process.exitCode).toBe(2)
  })

  it('only plans without a TTY and without --yes (exit 4), and --dry-run shows fingerprints; neither creates the --secrets-out file', async () => {
    const {state, configPath} = await install()
    const before = readFileSync(configPath, 'utf8')
    const out = path.join(tempDir(), 'new.json')
    const plan = await runCommand(['rotate', '--state-dir', state, '--secrets-out', out], import.meta.url)
    expect(plan.stdout).toContain('Nothing was changed: no TTY to confirm.')
    expect(process.exitCode).toBe(4)
    process.exitCode = undefined
    const dry = await runCommand(['rotate', '--state-dir', state, '--secrets-out', out, '--dry-run'], import.meta.url)
    expect(dry.stdout).toMatch(/planned +rotate +rotate gateway\.auth\.token, hooks\.token/)
    expect(dry.stdout).toMatch(/gateway\.auth\.token  «sha256:[0-9a-f]{12}» -> «sha256:[0-9a-f]{12}»/)
    expect(process.exitCode).toBeUndefined()
    expect(existsSync(out)).toBe(false)
    expect(readFileSync(configPath, 'utf8')).toBe(before)
    for (const text of [plan.stdout, dry.stdout]) {
      expect(text).not.toContain(T0)
      expect(text).not.toContain(H0)
    }
  })

  it('says there is nothing to rotate with auth mode none and points to ir contain (exit 3)', async () => {
    const {state} = await install({gateway: {port: await closedPort(), auth: {mode: 'none'}}})
    const out = path.join(tempDir(), 'new.json')
    const {stdout} = await runCommand(
      ['rotate', '--state-dir', state, '--yes', '--secrets-out', out, '--json'],
      import.meta.url,
    )
    const e = JSON.parse(stdout).error
    expect(e).toMatchObject({code: 'NOTHING_TO_ROTATE', exitCode: 3})
    expect(e.message).toMatch(/^Nothing to rotate: gateway\.auth\.mode is "none"/)
    expect(e.suggestions[0]).toBe('Run `ir contain` to require token auth on the gateway, then `ir rotate`.')
    expect(process.exitCode).toBe(3)
    expect(existsSync(out)).toBe(false)
  })

  it('with --only naming a scope that is not set, points to rotating without --only, not to ir contain', async () => {
    // Given a token-auth gateway without a remote token
    const {state} = await install({gateway: {port: await closedPort(), auth: {mode: 'token', token: T0}}})
    // When only the remote scope is asked for
    const {stdout} = await runCommand(
      ['rotate', '--state-dir', state, '--yes', '--only', 'remote', '--json'],
      import.meta.url,
    )
    // Then the error says so, and the next step is the whole rotation
    const e = JSON.parse(stdout).error
    expect(e).toMatchObject({code: 'NOTHING_TO_ROTATE', exitCode: 3})
    expect(e.message).not.toMatch(/Nothing to rotate: Nothing/)
    expect(e.suggestions[0]).toBe(
      'Nothing of --only remote is set here: run `ir rotate` without --only to rotate what is.',
    )
    expect(stdout).not.toContain(T0)
  })
})
