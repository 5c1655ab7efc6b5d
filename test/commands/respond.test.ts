import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {runCommand} from '@oclif/test'
import {generateIdentity, identityToRecipient} from 'age-encryption'
import {afterEach, describe, expect, it} from 'vitest'

import {OPEN_CONFIG as OPEN, OPEN_HOOKS_TOKEN as HOOKS, openInstall} from '../fixtures/open-install.js'
import {tempDir} from '../helpers/temp.js'

afterEach(() => {
  process.exitCode = undefined
})

const openState = () => openInstall('ir-respond-cmd-')

describe('ir respond', () => {
  it('without a TTY and without --yes shows the plan, changes nothing and exits 4', async () => {
    // Given an open install
    const {state, config} = openState()
    // When run without anyone to confirm
    const {stdout} = await runCommand(['respond', '--state-dir', state], import.meta.url)
    // Then the opening names the install and the plan, and nothing changed
    expect(stdout).toContain(`install  ${state}`)
    expect(stdout).toMatch(/1\. volatile evidence while the gateway still runs/)
    expect(stdout).toMatch(/5\. re-audit with the target's own OpenClaw/)
    expect(stdout).toContain('Nothing was changed: no TTY to confirm.')
    expect(readFileSync(config, 'utf8')).toBe(OPEN)
    expect(statSync(state).mode & 0o777).toBe(0o755)
    expect(process.exitCode).toBe(4)
  })

  it('--yes --json runs every phase in one case and returns {case, phases, bundle, verified}', async () => {
    // Given an open install, no openclaw CLI to confirm anything, and an age recipient for the bundle
    const {state, config} = openState()
    const out = tempDir('ir-respond-out-')
    const secrets = path.join(tempDir('ir-respond-sec-'), 'new.json')
    const recipient = await identityToRecipient(await generateIdentity())
    // When run unattended
    const {stdout} = await runCommand(
      ['respond', '--state-dir', state, '--yes', '--json', '--out', out, '--secrets-out', secrets].concat([
        '--encrypt-to',
        recipient,
      ]),
      import.meta.url,
    )
    const r = JSON.parse(stdout) as {
      case: string
      phases: Array<{id: string; status: string; verified: boolean; detail: string}>
      bundle: string
      verified: boolean
      where: {volatile: string}
    }
    // Then the phases ran in OpenClaw's order, the bundle exists, and nothing is claimed verified
    expect(r.phases.map((p) => p.id)).toEqual(['volatile', 'contain', 'rotate', 'collect', 'audit'])
    expect(r.phases.map((p) => p.status)).toEqual(['done', 'done', 'done', 'done', 'failed'])
    expect(r.phases[4]).toMatchObject({verified: false, detail: expect.stringContaining('NOT verified')})
    expect(existsSync(r.bundle)).toBe(true)
    // And the pre-stop facts were taken the way collect takes them (no gateway here: down, no socket)
    const pre = JSON.parse(readFileSync(r.where.volatile, 'utf8'))
    expect(Object.keys(pre)).toEqual(['capturedAt', 'host', 'gateway', 'exposure', 'versions', 'otherInstalls'])
    expect(pre.gateway).toMatchObject({state: 'down', listening: [], connections: []})
    expect(pre.exposure.some((e: {severity: string}) => e.severity === 'critical')).toBe(true)
    // And the bundle was encrypted to the recipient as it was written (only ciphertext on disk)
    expect(readFileSync(r.bundle).subarray(0, 21).toString()).toBe('age-encryption.org/v1')
    expect(r.verified).toBe(false)
    expect(readFileSync(config, 'utf8')).not.toContain('"bind": "lan"')
    expect(stdout).not.toContain(HOOKS)
    expect(process.exitCode).toBe(5)
  })
})
