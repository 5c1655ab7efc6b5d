import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCommand} from '@oclif/test'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {collect} from '../../src/collect.js'
import {tempDir} from '../helpers/temp.js'
import {fileEraState, noRunner, prompter} from '../src/evidence/helpers.js'

let saved: string | undefined
beforeEach(() => {
  saved = process.env.IR_HOME
  process.env.IR_HOME = tempDir('ir-home-')
})
afterEach(() => {
  process.exitCode = undefined
  if (saved === undefined) delete process.env.IR_HOME
  else process.env.IR_HOME = saved
})

async function bundle(): Promise<string> {
  const root = tempDir('ir-verify-cmd-')
  const {stateDir} = fileEraState(root)
  const r = await collect({
    target: {stateDir},
    dryRun: false,
    prompter,
    mayChange: true,
    runner: noRunner,
    out: path.join(root, 'out'),
    irHome: path.join(root, 'irhome'),
    host: {env: {}, homedir: root, uid: 0},
    includeSecrets: false,
    seams: {home: root, tmpDir: path.join(root, 'tmp')},
  })
  return r.bundle
}

describe('ir verify', () => {
  it('--json: {ok: true, checked, problems: []} and exit 0 for an intact bundle', async () => {
    const file = await bundle()
    const {stdout} = await runCommand(['verify', file, '--json'], import.meta.url)
    const r = JSON.parse(stdout) as {ok: boolean; checked: number; problems: unknown[]}
    expect(r).toMatchObject({ok: true, problems: []})
    expect(r.checked).toBeGreaterThan(10)
    expect(process.exitCode ?? 0).toBe(0)
  })

  it('lists each problem and exits 3 when the archive changed', async () => {
    const file = await bundle()
    const b = readFileSync(file)
    b[b.length - 100] = b[b.length - 100]! ^ 0xff
    writeFileSync(file, b)
    const {stdout} = await runCommand(['verify', file], import.meta.url)
    expect(stdout).toMatch(/^NOT INTACT {2}\d+ problem\(s\) in /)
    expect(stdout).toMatch(/^ {2}.+\.tar\.gz: archive SHA-256 [0-9a-f]{64} differs from .+\.sha256/m)
    expect(process.exitCode).toBe(3)
  })

  it('exits 2 for a bundle that does not exist', async () => {
    const {stdout} = await runCommand(['verify', '/nonexistent/x.tar.gz', '--json'], import.meta.url)
    expect(JSON.parse(stdout)).toMatchObject({error: {code: 'BUNDLE_MISSING', exitCode: 2}})
    expect(process.exitCode).toBe(2)
  })

  it('says a file that is no archive is not an ir bundle, and exits 3', async () => {
    // Given an ordinary text file (what /etc/hostname is)
    const file = path.join(tempDir('ir-verify-cmd-'), 'hostname')
    writeFileSync(file, 'myhost\n')
    // When ir verify reads it, in text and in --json
    const text = await runCommand(['verify', file], import.meta.url)
    const json = await runCommand(['verify', file, '--json'], import.meta.url)
    // Then one line names the file and what a bundle is (no tar parser message), exit 3
    expect(text.error?.message).toBe(
      `${file} is not an ir bundle (not a tar.gz, zip or .age archive, nor a bundle folder).`,
    )
    expect(text.stdout).toBe('')
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'NOT_A_BUNDLE', exitCode: 3}})
    expect(process.exitCode).toBe(3)
  })
})
