import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {runCommand} from '@oclif/test'
import {afterEach, describe, expect, it} from 'vitest'

import {OPEN_CONFIG as OPEN, OPEN_HOOKS_TOKEN as HOOKS, openInstall} from '../fixtures/open-install.js'
import {tempDir} from '../helpers/temp.js'

afterEach(() => {
  process.exitCode = undefined
})

const openState = () => openInstall('ir-contain-cmd-')

describe('ir contain', () => {
  it('--dry-run prints exactly the diff and the actions, and changes nothing', async () => {
    // Given an open install
    const {state, config} = openState()
    // When planned
    const {stdout} = await runCommand(['contain', '--dry-run', '--state-dir', state], import.meta.url)
    // Then each step is planned with its detail, the diff masks secrets, nothing changed
    const lines = stdout.split('\n')
    expect(lines[0]).toMatch(/^case IR-\d{8}-\d{6}-[0-9a-f]{4} {2}playbook contain$/)
    expect(lines).toContain('noop      stop         already stopped: no gateway process, port 9 closed')
    expect(lines).toContain(
      `${' '.repeat(12)}-  "gateway": {"mode": "local", "port": 9, "bind": "lan", "auth": {"mode": "none"}},`,
    )
    expect(lines).toContain(`${' '.repeat(12)}lock: gateway.auth "none" -> token auth with a fresh token`)
    expect(stdout).toContain(`chmod 700 ${state}   (now 755)`)
    expect(stdout).not.toContain(HOOKS)
    expect(readFileSync(config, 'utf8')).toBe(OPEN)
    expect(statSync(state).mode & 0o777).toBe(0o755)
    expect(process.exitCode).toBeUndefined()
  })

  it('without a TTY and without --yes changes nothing and exits 4', async () => {
    const {state, config} = openState()
    const {stdout} = await runCommand(['contain', '--state-dir', state], import.meta.url)
    expect(stdout).toContain(
      'Nothing was changed: no TTY to confirm. Re-run with --yes to apply, or --dry-run to see the plan.',
    )
    expect(readFileSync(config, 'utf8')).toBe(OPEN)
    expect(process.exitCode).toBe(4)
  })

  it("--yes --json gives DESIGN.md's result, and --undo --case restores the original bytes", async () => {
    // Given an open install, on a host with no openclaw CLI ir could ask
    const {state, config} = openState()
    process.env.IR_OPENCLAW_BIN = path.join(state, 'no-openclaw-here')
    // When contained
    const run = await runCommand(['contain', '--state-dir', state, '--yes', '--json'], import.meta.url)
    delete process.env.IR_OPENCLAW_BIN
    const r = JSON.parse(run.stdout)
    // Then: case, steps [{id, action, status, detail}], verified
    expect(r.steps.map((s: {id: string; action: string; status: string}) => `${s.id}:${s.action}:${s.status}`)).toEqual(
      [
        'preserve:preserve-evidence:done',
        'stop:stop-gateway:noop',
        'lockdown:lockdown:failed',
        'permissions:tighten-permissions:done',
        'audit:security-audit:failed',
        'report:report-status:done',
      ],
    )
    // And the edit and the modes are done, but with no OpenClaw to confirm them nothing is "verified" (exit 5)
    expect(r.verified).toBe(false)
    expect(r.steps[2].detail).toContain('NOT verified: not confirmed by OpenClaw')
    expect(run.stdout).not.toContain(HOOKS)
    expect(statSync(config).mode & 0o777).toBe(0o600)
    expect(process.exitCode).toBe(5)
    process.exitCode = undefined
    // When undone
    const undo = await runCommand(['contain', '--undo', '--case', r.case, '--yes', '--json'], import.meta.url)
    // Then the config has its original bytes and modes again
    expect(JSON.parse(undo.stdout)).toMatchObject({case: r.case, undo: true, verified: true, exitCode: 0})
    expect(readFileSync(config, 'utf8')).toBe(OPEN)
    expect([statSync(state).mode & 0o777, statSync(config).mode & 0o777]).toEqual([0o755, 0o644])
  })

  it('--undo needs --case (exit 2), and an unknown case is a precondition failure (exit 3)', async () => {
    const noCase = await runCommand(['contain', '--undo', '--json'], import.meta.url)
    expect(JSON.parse(noCase.stdout).error).toMatchObject({
      code: 'USAGE',
      message: '--undo needs the case to undo: --case ID.',
      exitCode: 2,
    })
    expect(process.exitCode).toBe(2)
    process.exitCode = undefined
    const missing = await runCommand(['contain', '--undo', '--case', 'IR-nope', '--yes', '--json'], import.meta.url)
    expect(JSON.parse(missing.stdout).error).toMatchObject({code: 'CASE_MISSING', exitCode: 3})
    expect(process.exitCode).toBe(3)
  })

  it('rejects an unknown --dm-policy (exit 2) and a missing state dir (exit 3)', async () => {
    await runCommand(['contain', '--dm-policy', 'open', '--dry-run'], import.meta.url)
    expect(process.exitCode).toBe(2)
    process.exitCode = undefined
    const gone = await runCommand(
      ['contain', '--state-dir', path.join(tempDir(), 'nope'), '--dry-run', '--json'],
      import.meta.url,
    )
    expect(JSON.parse(gone.stdout).error.code).toBe('STATE_DIR_MISSING')
    expect(process.exitCode).toBe(3)
  })

  it('has help with examples for --dry-run, --yes --json, --keep-running and --undo', async () => {
    const {stdout} = await runCommand(['contain', '--help'], import.meta.url)
    for (const s of [
      '--dm-policy',
      '--keep-running',
      '--undo',
      '--dry-run',
      '--yes',
      '--case',
      '--state-dir',
      'ir contain --undo --case IR-',
    ])
      expect(stdout).toContain(s)
  })
})
