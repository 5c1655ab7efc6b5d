import {chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {openCase, readChanges} from '../../../src/case/case-store.js'
import {loadConfig} from '../../../src/openclaw/config.js'
import {applyConfigEdit, maskSecrets, planConfigEdit} from '../../../src/openclaw/config-edit.js'
import {findOpenClawCli} from '../../../src/openclaw/version.js'
import {atomicWrite, writeError} from '../../../src/system/atomic-write.js'
import type {ProcessRunner} from '../../../src/system/process-runner.js'
import {tempDir} from '../../helpers/temp.js'

/** No target CLI: the edit is only re-parsed. */
const noCli = {cli: undefined}
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

  /** An openclaw package holding only what locating it needs, and a runner that answers as `config validate` did. */
  function cliAnswering(
    dir: string,
    exitCode: number,
    stderr: string,
  ): {runner: ProcessRunner; env: NodeJS.ProcessEnv} {
    const pkg = path.join(dir, 'oc')
    mkdirSync(pkg)
    writeFileSync(path.join(pkg, 'package.json'), '{"name":"openclaw","version":"2026.9.6"}')
    writeFileSync(path.join(pkg, 'openclaw.mjs'), '')
    const runner: ProcessRunner = {run: async () => ({exitCode, stdout: '', stderr, timedOut: false, notFound: false})}
    return {runner, env: {IR_OPENCLAW_BIN: path.join(pkg, 'openclaw.mjs')}}
  }

  it('puts the original bytes back when OpenClaw rejects the edited config', async () => {
    // Given an OpenClaw CLI that rejects the config (2026.9.6's own words)
    const {dir, file, c} = setup('{"gateway": {"bind": "lan"}}')
    const {runner, env} = cliAnswering(
      dir,
      1,
      'OpenClaw config is invalid: ~/s/openclaw.json\n  × openclaw.json:1 — gateway: Unrecognized key: "bogus"\n',
    )
    const plan = planConfigEdit(loadConfig(file), [{path: ['gateway', 'bind'], value: 'loopback'}])
    // When the edit is applied
    const cli = findOpenClawCli(env)
    const opts = {case: c, runner, env, stateDir: dir, configPath: file, step: 's', cli}
    await expect(applyConfigEdit(plan, opts)).rejects.toThrow(
      'openclaw config validate rejected the edited config: openclaw.json:1 — gateway: Unrecognized key: "bogus"',
    )
    // Then the file holds its original bytes
    expect(readFileSync(file, 'utf8')).toBe('{"gateway": {"bind": "lan"}}')
  })

  it('keeps an edit OpenClaw could not judge (its CLI did not start) and says why, without calling it invalid', async () => {
    // Given an OpenClaw CLI run by a Node it does not support (its own message, exit 1)
    const {dir, file, c} = setup('{"gateway": {"bind": "lan"}}')
    const {runner, env} = cliAnswering(dir, 1, 'openclaw: Node 20.20.2: node:sqlite is unavailable; use 24.16+/26.1+')
    const plan = planConfigEdit(loadConfig(file), [{path: ['gateway', 'bind'], value: 'loopback'}])
    // When the edit is applied
    const cli = findOpenClawCli(env)
    const applied = await applyConfigEdit(plan, {case: c, runner, env, stateDir: dir, configPath: file, step: 's', cli})
    // Then the lockdown stands, validated by re-parse only, with OpenClaw's words and the next step
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({gateway: {bind: 'loopback'}})
    expect(applied.validatedBy).toBe('re-parse')
    expect(applied.unconfirmed).toContain('openclaw did not answer (exit 1): openclaw: Node 20.20.2')
    expect(applied.unconfirmed).toContain('set IR_OPENCLAW_NODE')
  })

  it('keeps an edit OpenClaw could not read (its temp dir made by root), without calling the config invalid', async () => {
    // Given OpenClaw 2026.9.6's answer when ~/.cache was made by root and ir runs as the install's user
    const {dir, file, c} = setup('{"gateway": {"bind": "lan"}}')
    const {runner, env} = cliAnswering(
      dir,
      1,
      'OpenClaw config is invalid: ~/.openclaw/openclaw.json\n  × <root>: read failed: Error: Unsafe fallback OpenClaw temp dir: /home/u/.cache/openclaw-1001\n',
    )
    const plan = planConfigEdit(loadConfig(file), [{path: ['gateway', 'bind'], value: 'loopback'}])
    // When the edit is applied
    const cli = findOpenClawCli(env)
    const applied = await applyConfigEdit(plan, {case: c, runner, env, stateDir: dir, configPath: file, step: 's', cli})
    // Then the lockdown stands, not verified, in OpenClaw's words
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({gateway: {bind: 'loopback'}})
    expect(applied.validatedBy).toBe('re-parse')
    expect(applied.unconfirmed).toContain('<root>: read failed: Error: Unsafe fallback OpenClaw temp dir')
    // And the next step
    expect(applied.unconfirmed).toContain("OpenClaw's temp dir is not this user's: remove it or give it to this user")
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

describe('maskSecrets on hostile input', () => {
  it('stays linear on 10 MB of key-like text, unclosed quotes and long word runs', () => {
    // Given 10 MB inputs built to make a backtracking regex explode
    const mb10 = 10 * 1024 * 1024
    const inputs = [
      'a'.repeat(mb10),
      'token'.repeat(mb10 / 5),
      `"botToken": "${'x'.repeat(mb10)}`,
      `token:'`.repeat(mb10 / 7),
      `"apiKey": "${'"'.repeat(10)}${'tokentoken: "'.repeat(mb10 / 13)}`,
    ]
    for (const input of inputs) {
      // When each is masked
      const started = performance.now()
      const out = maskSecrets(input)
      const ms = performance.now() - started
      // Then it completes, and a value after a secret key is still masked where one closes
      expect(out.length).toBeGreaterThan(0)
      console.info(`maskSecrets on ${(input.length / 1024 / 1024).toFixed(1)} MB: ${ms.toFixed(0)} ms`)
    }
  })

  it('masks a closed secret value that follows a 10 MB unclosed one', () => {
    const out = maskSecrets(`"token": "${'x'.repeat(10 * 1024 * 1024)}\n"password": "hunter22"`)
    expect(out).not.toContain('hunter22')
    expect(out).toMatch(/"password": "«sha256:[0-9a-f]{12}»"$/)
  })
})

describe('config edits on a 10 MB config string', () => {
  it('plans and applies in one pass per edit, and the diff shown stays bounded', async () => {
    // Given a config holding a 10 MB string (next to a secret-named key whose quote never closes)
    const big = `token: "${'a'.repeat(10 * 1024 * 1024)}`
    const {dir, file, c} = setup(
      JSON.stringify({agents: {defaults: {systemPrompt: big}}, gateway: {bind: 'lan'}, discovery: {}}, null, 2),
    )
    // When two keys are locked down
    const started = performance.now()
    const plan = planConfigEdit(loadConfig(file), [
      {path: ['gateway', 'bind'], value: 'loopback'},
      {path: ['agents', 'defaults', 'systemPrompt'], value: 'short'},
    ])
    await applyConfigEdit(plan, {case: c, runner, env: {}, stateDir: dir, configPath: file, step: 'lockdown', ...noCli})
    console.info(`plan + apply on a 10 MB config: ${(performance.now() - started).toFixed(0)} ms`)
    // Then it completes, the file holds the edits, and no diff line carries the 10 MB value
    expect(loadConfig(file).value).toMatchObject({
      gateway: {bind: 'loopback'},
      agents: {defaults: {systemPrompt: 'short'}},
    })
    const diff = plan.files[0]!.diff
    expect(Math.max(...diff.map((l) => l.length))).toBeLessThan(400)
    expect(diff.some((l) => /… \(\d+ more chars\)$/.test(l))).toBe(true)
  })
})
