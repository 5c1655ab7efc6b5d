import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
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

  describe('refuses before any phase runs (nothing asked, recorded or changed)', () => {
    const cases = () => {
      const dir = path.join(process.env.IR_HOME!, 'cases')
      return existsSync(dir) ? readdirSync(dir) : []
    }
    const refused = async (args: string[], state: string) => {
      const before = cases()
      const {stdout} = await runCommand(['respond', '--state-dir', state, '--json', ...args], import.meta.url)
      expect(cases()).toEqual(before)
      return JSON.parse(stdout).error as {code: string; exitCode: number; message: string}
    }

    it('--out naming a file: exit 2, the config byte for byte as before', async () => {
      // Given an open install and an --out that is a file
      const {state, config} = openState()
      const file = path.join(tempDir('ir-respond-outfile-'), 'evidence.tar.gz')
      writeFileSync(file, 'not a directory')
      // When respond runs unattended
      const error = await refused(['--yes', '--out', file], state)
      // Then collect's own check refused it before contain ran: nothing in the install changed
      expect(error).toMatchObject({code: 'OUT_NOT_A_DIRECTORY', exitCode: 2})
      expect(error.message).toContain(`--out ${file} is a file`)
      expect(readFileSync(config, 'utf8')).toBe(OPEN)
      expect(statSync(state).mode & 0o777).toBe(0o755)
      expect(statSync(config).mode & 0o777).toBe(0o644)
      expect(process.exitCode).toBe(2)
    })

    it('an existing --secrets-out file: exit 2, the file and the config untouched', async () => {
      // Given an open install and a --secrets-out file that already exists
      const {state, config} = openState()
      const out = path.join(tempDir('ir-respond-secout-'), 'exists.json')
      writeFileSync(out, 'keep me')
      // When respond runs unattended
      const error = await refused(['--yes', '--secrets-out', out], state)
      // Then rotate's own check refused it before contain ran
      expect(error).toMatchObject({code: 'SECRETS_OUT_EXISTS', exitCode: 2})
      expect(readFileSync(out, 'utf8')).toBe('keep me')
      expect(readFileSync(config, 'utf8')).toBe(OPEN)
      expect(statSync(config).mode & 0o777).toBe(0o644)
      expect(process.exitCode).toBe(2)
    })

    it('a --secrets-out in a missing directory, --dry-run: exit 2 (the real run would fail there)', async () => {
      // Given a --secrets-out whose directory does not exist
      const {state, config} = openState()
      const out = path.join(tempDir('ir-respond-secdir-'), 'missing', 'new.json')
      // When respond runs as a dry run
      const error = await refused(['--dry-run', '--secrets-out', out], state)
      // Then it says so now, and nothing was created
      expect(error).toMatchObject({code: 'SECRETS_OUT_UNWRITABLE', exitCode: 2})
      expect(existsSync(path.dirname(out))).toBe(false)
      expect(readFileSync(config, 'utf8')).toBe(OPEN)
    })

    it.each([
      ['--encrypt-to', 'not-a-key'],
      ['--since', 'yesterday'],
    ])('%s %s: exit 2, the config untouched', async (flag, value) => {
      // Given an open install and a value collect refuses
      const {state, config} = openState()
      // When respond runs unattended
      const error = await refused(['--yes', flag, value], state)
      // Then it is refused before the first phase
      expect(error.exitCode).toBe(2)
      expect(error.message).toContain(flag)
      expect(readFileSync(config, 'utf8')).toBe(OPEN)
      expect(statSync(state).mode & 0o777).toBe(0o755)
    })

    it.each([[['--yes']], [['--dry-run']]])(
      'a folder that is no OpenClaw install (%j): exit 3 NOT_AN_INSTALL',
      async (flags) => {
        // Given a directory with someone's files and no sign of OpenClaw
        const dir = tempDir('ir-respond-notinstall-')
        writeFileSync(path.join(dir, 'notes.txt'), 'mine')
        // When respond is pointed at it
        const error = await refused(flags, dir)
        // Then it refuses as contain does, and the folder is as it was
        expect(error).toMatchObject({code: 'NOT_AN_INSTALL', exitCode: 3})
        expect(readdirSync(dir)).toEqual(['notes.txt'])
        expect(process.exitCode).toBe(3)
      },
    )
  })

  it('after rotate scrubbed the backups, the closing screen does not offer an undo that cannot work', async () => {
    // Given an open install whose hooks token rotate replaces (its config backup is then scrubbed)
    const {state} = openState()
    // When respond runs unattended, on the text screen
    const {stdout} = await runCommand(['respond', '--state-dir', state, '--yes'], import.meta.url)
    // Then the undo line says why ir contain --undo would restore nothing, instead of offering it
    expect(stdout).not.toContain('[undo] to put the pre-incident config back')
    expect(stdout).toMatch(/\[undo\] not possible: ir contain --undo --case \S+ would restore nothing/)
    expect(stdout).toContain('the backup is missing from the case')
    // And no WhatsApp step is listed for an install without WhatsApp
    expect(stdout).not.toMatch(/whatsapp/i)
  })
})
