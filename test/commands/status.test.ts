import {chmodSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCommand} from '@oclif/test'
import {afterEach, describe, expect, it} from 'vitest'

import {fileEraStateDir, sqliteEraStateDir} from '../fixtures/state-dirs.js'
import {tempDir} from '../helpers/temp.js'

afterEach(() => {
  process.exitCode = undefined
})

describe('ir status', () => {
  it('reports a file-era install in one screen', async () => {
    // Given a file-era state dir with an open Telegram DM policy
    const state = fileEraStateDir(
      tempDir(),
      '{"gateway":{"bind":"loopback","auth":{"mode":"token","token":"short"}},"channels":{"telegram":{"dmPolicy":"open","allowFrom":["*"]}}}',
    )
    chmodSync(state, 0o700)
    // When ir status runs on it
    const {stdout, error} = await runCommand(['status', '--state-dir', state], import.meta.url)
    // Then it names the era, the gateway state and each exposure with its severity
    expect(error).toBeUndefined()
    expect(stdout).toContain(
      `${state}\n  config   ${state}/openclaw.json\n  era      file (1 agent)   version unknown\n  gateway  down (port 18789)`,
    )
    expect(stdout).toContain('CRIT  telegram: anyone may DM the agent (dmPolicy "open")   [channels.telegram.dmPolicy]')
    expect(stdout).toContain('HIGH  Gateway token is short (5 chars)   [gateway.auth.token]')
    expect(stdout).not.toContain('"short"')
  })

  it('gives the same as data with --json for a SQLite-era install', async () => {
    const state = sqliteEraStateDir(tempDir())
    const {stdout} = await runCommand(['status', '--state-dir', state, '--json'], import.meta.url)
    const r = JSON.parse(stdout)
    expect(r.installs).toHaveLength(1)
    expect(r.installs[0]).toMatchObject({
      stateDir: state,
      config: {ok: true},
      era: {era: 'sqlite', agents: ['main']},
      version: {config: '2026.9.6', stateDb: '2026.9.6'},
      gateway: {state: 'down', port: 18789, healthz: false},
    })
  })

  it('reports a broken config with line and column and still reports the rest', async () => {
    const state = fileEraStateDir(tempDir())
    writeFileSync(path.join(state, 'openclaw.json'), '{\n  "gateway": {\n    "bind": "lan",,\n}')
    chmodSync(state, 0o755)
    const {stdout} = await runCommand(['status', '--state-dir', state, '--json'], import.meta.url)
    const i = JSON.parse(stdout).installs[0]
    expect(i.config).toMatchObject({ok: false, line: 3, column: 19})
    expect(i.era.era).toBe('file')
    expect(i.exposure.map((e: {checkId: string}) => e.checkId)).toContain('fs.state_dir.perms_readable')
  })

  it('a config that cannot be parsed: exposure unknown (high, exit 3), the port its text names is probed', async () => {
    // Given a broken config that still names a gateway port
    const state = fileEraStateDir(tempDir())
    writeFileSync(path.join(state, 'openclaw.json'), '{\n  "gateway": {"port": 18555, "bind": "lan",,\n}')
    chmodSync(state, 0o700)
    // When ir status runs
    const {stdout} = await runCommand(['status', '--state-dir', state, '--json'], import.meta.url)
    // Then it does not say "none found": the exposure is unknown, worst is high, and the named port was probed
    const r = JSON.parse(stdout)
    expect(r.worst).toBe('high')
    expect(r.exposureUnknown).toBe(true)
    expect(r.installs[0].exposure[0]).toMatchObject({checkId: 'config.unreadable', severity: 'high'})
    expect(r.installs[0].gateway.port).toBe(18555)
    expect(process.exitCode).toBe(3)
  })

  it('exits 3 with one line when the state dir does not exist', async () => {
    const missing = path.join(tempDir(), 'nope')
    const {stderr} = await runCommand(['status', '--state-dir', missing], import.meta.url)
    expect(stderr.trim()).toBe(`No OpenClaw state dir found (${missing}). Pass --state-dir or --profile.`)
    expect(process.exitCode).toBe(3)
  })

  it('exits 3 with one line when the folder exists but is not an OpenClaw state dir', async () => {
    // Given a folder with files that only an operator's mistake would point ir at
    const dir = tempDir()
    writeFileSync(path.join(dir, 'notes.txt'), 'hello')
    // When ir status runs on it
    const {stdout, stderr} = await runCommand(['status', '--state-dir', dir], import.meta.url)
    // Then it says it is not an install (not "era empty"), on the screen and in one line, exit 3
    expect(stdout).toContain(`${dir}  — not an OpenClaw state dir`)
    expect(stderr.trim()).toBe(
      `${dir} is not an OpenClaw state dir (no openclaw.json, agents/, credentials/ or state/). Pass --state-dir or --profile (the folder that holds openclaw.json).`,
    )
    expect(process.exitCode).toBe(3)
  })

  it('keeps usage errors at exit 2 with the JSON error envelope', async () => {
    const {stdout} = await runCommand(['status', '--bogus', '--json'], import.meta.url)
    expect(JSON.parse(stdout)).toEqual({
      error: {code: 'USAGE', message: 'Nonexistent flag: --bogus', exitCode: 2, suggestions: ['See --help.']},
    })
    expect(process.exitCode).toBe(2)
  })
})
