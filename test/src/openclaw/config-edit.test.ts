import {chmodSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {openCase, readChanges} from '../../../src/case/case-store.js'
import {loadConfig} from '../../../src/openclaw/config.js'
import {applyConfigEdit, maskSecrets, planConfigEdit} from '../../../src/openclaw/config-edit.js'
import {atomicWrite, writeError} from '../../../src/system/atomic-write.js'
import type {ProcessRunner} from '../../../src/system/process-runner.js'
import {tempDir} from '../../helpers/temp.js'

const noCli = {validateWithCli: false}
const runner: ProcessRunner = {
  run: async () => ({exitCode: 0, stdout: '', stderr: '', timedOut: false, notFound: false}),
}

function setup(text: string, mode = 0o640) {
  const dir = tempDir()
  const file = path.join(dir, 'openclaw.json')
  writeFileSync(file, text)
  chmodSync(file, mode)
  return {dir, file, c: openCase('IR-edit', {home: path.join(dir, 'ir')})}
}

describe('config edits', () => {
  it('keeps comments and formatting, keeps the mode, backs up first, and is undoable', async () => {
    // Given a commented JSONC config
    const {dir, file, c} = setup(
      '{\n  // the owner\'s note\n  "gateway": {"bind": "lan"}, /* keep me */\n  "discovery": {"mdns": {"mode": "full"}},\n}\n',
    )
    const before = readFileSync(file, 'utf8')
    // When bind and mDNS are locked down
    const plan = planConfigEdit(loadConfig(file), [
      {path: ['gateway', 'bind'], value: 'loopback'},
      {path: ['discovery', 'mdns', 'mode'], value: 'off'},
    ])
    const applied = await applyConfigEdit(plan, {
      case: c,
      runner,
      env: {},
      stateDir: dir,
      configPath: file,
      step: 'lockdown',
      ...noCli,
    })
    // Then only those values changed, comments and mode survived, and the change is recorded with a backup
    const after = readFileSync(file, 'utf8')
    expect(after).toBe(before.replace('"lan"', '"loopback"').replace('"full"', '"off"'))
    expect(statSync(file).mode & 0o777).toBe(0o640)
    expect(plan.files[0]?.diff).toContain('-  "gateway": {"bind": "lan"}, /* keep me */')
    const [change] = readChanges(c)
    expect(readFileSync(change!.backup!, 'utf8')).toBe(before)
    expect(applied.validatedBy).toBe('re-parse')
  })

  it("edits the $include'd file that holds the key", async () => {
    const {dir, file, c} = setup('{ "channels": { "$include": "./channels.json" } }')
    writeFileSync(path.join(dir, 'channels.json'), '{ "telegram": { "dmPolicy": "open" } }')
    const plan = planConfigEdit(loadConfig(file), [{path: ['channels', 'telegram', 'dmPolicy'], value: 'disabled'}])
    expect(plan.files.map((f) => path.basename(f.file))).toEqual(['channels.json'])
    await applyConfigEdit(plan, {case: c, runner, env: {}, stateDir: dir, configPath: file, step: 's', ...noCli})
    expect(loadConfig(file).value).toEqual({channels: {telegram: {dmPolicy: 'disabled'}}})
    expect(readFileSync(file, 'utf8')).toBe('{ "channels": { "$include": "./channels.json" } }')
  })

  it('falls back to a JSON5 rewrite for JSON5-only syntax (values kept)', () => {
    const {file} = setup("{ gateway: { bind: 'lan', port: 1 } }")
    const plan = planConfigEdit(loadConfig(file), [{path: ['gateway', 'bind'], value: 'loopback'}])
    expect(plan.files[0]?.commentsKept).toBe(true)
    expect(plan.files[0]?.after).toContain("bind: 'loopback'")
  })

  it('puts the original bytes back when OpenClaw rejects the edited config', async () => {
    // Given an OpenClaw CLI that rejects the config
    const {dir, file, c} = setup('{"gateway": {"bind": "lan"}}')
    const rejecting: ProcessRunner = {
      run: async () => ({
        exitCode: 1,
        stdout: '',
        stderr: 'Config invalid: gateway.bind: bad',
        timedOut: false,
        notFound: false,
      }),
    }
    const plan = planConfigEdit(loadConfig(file), [{path: ['gateway', 'bind'], value: 'loopback'}])
    // When the edit is applied
    const env = {IR_OPENCLAW_BIN: path.resolve('node_modules/.bin/tsc')}
    // (findOpenClawCli needs an openclaw package; emulate one)
    const pkg = path.join(dir, 'oc')
    await import('node:fs').then((fs) => {
      fs.mkdirSync(pkg)
      fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"openclaw","version":"2026.9.6"}')
      fs.writeFileSync(path.join(pkg, 'openclaw.mjs'), '')
    })
    env.IR_OPENCLAW_BIN = path.join(pkg, 'openclaw.mjs')
    await expect(
      applyConfigEdit(plan, {case: c, runner: rejecting, env, stateDir: dir, configPath: file, step: 's'}),
    ).rejects.toThrow('openclaw config validate rejected the edited config: Config invalid: gateway.bind: bad')
    // Then the file holds its original bytes
    expect(readFileSync(file, 'utf8')).toBe('{"gateway": {"bind": "lan"}}')
  })

  it('refuses to write when the file changed since the plan', async () => {
    const {dir, file, c} = setup('{"gateway": {"bind": "lan"}}')
    const plan = planConfigEdit(loadConfig(file), [{path: ['gateway', 'bind'], value: 'loopback'}])
    writeFileSync(file, '{"gateway": {"bind": "tailnet"}}')
    await expect(
      applyConfigEdit(plan, {case: c, runner, env: {}, stateDir: dir, configPath: file, step: 's', ...noCli}),
    ).rejects.toThrow(/changed since the plan/)
    expect(readFileSync(file, 'utf8')).toBe('{"gateway": {"bind": "tailnet"}}')
  })

  it('maps write failures to one clear line with a next step (read-only fs, full disk)', () => {
    // Root writes through file modes, so the errno mapping is checked directly.
    const erofs = writeError('/etc/openclaw.json', Object.assign(new Error('x'), {code: 'EROFS'}))
    expect(erofs.message).toBe('/etc/openclaw.json is on a read-only filesystem.')
    expect(erofs.suggestions[0]).toMatch(/Remount/)
    expect(writeError('/f', Object.assign(new Error('x'), {code: 'ENOSPC'})).message).toBe(
      '/f cannot be written: the disk is full.',
    )
  })

  it('leaves no temp file behind when the write fails', () => {
    const dir = tempDir()
    expect(() => atomicWrite(path.join(dir, 'missing', 'openclaw.json'), 'x')).toThrow(
      /could not be written \(ENOENT\)/,
    )
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('maskSecrets', () => {
  it('replaces secret values with fingerprints and leaves ${VAR} references', () => {
    const out = maskSecrets('"token": "abcdefabcdef",\n"password": "${PW}",\n"bind": "lan"')
    expect(out).toMatch(/"token": "«sha256:[0-9a-f]{12}»"/)
    expect(out).toContain('"password": "${PW}"')
    expect(out).toContain('"bind": "lan"')
    expect(out).not.toContain('abcdefabcdef')
  })
})

describe('maskSecrets on one-line objects', () => {
  it('masks only the secret-named values, wherever they stand on the line', () => {
    const out = maskSecrets(
      '"auth": {"mode": "token", "token": "abcdefabcdef"}, hooks: {token: \'hhhhhhhh\', path: "/hooks"}',
    )
    expect(out).toContain('"mode": "token"')
    expect(out).toContain('path: "/hooks"')
    expect(out).not.toMatch(/abcdefabcdef|hhhhhhhh/)
  })
})
