import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {generateIdentity, identityToRecipient} from 'age-encryption'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {collectLines} from '../../../src/cli/collect-text.js'
import {collect, type CollectResult} from '../../../src/collect.js'
import {verifyBundle} from '../../../src/evidence/verify.js'
import {fileEraState, noRunner, prompter, SECRETS, tmp, collectUnder} from './helpers.js'

// `ir collect --encrypt-to`: only ciphertext on disk, its .sha256 over the ciphertext; `ir verify`
// decrypts as it reads with --identity, and without one checks the ciphertext hash only.

let root: string
let identityFile: string
let r: CollectResult

beforeAll(async () => {
  // Given an install and a reader's age key
  root = tmp('ir-ev-age-')
  const identity = await generateIdentity()
  identityFile = path.join(root, 'key.txt')
  writeFileSync(identityFile, `# created for the test\n${identity}\n`, {mode: 0o600})
  const {stateDir} = fileEraState(root)
  // When the bundle is collected encrypted to that key
  r = await collectUnder(root, stateDir, {encryptTo: [await identityToRecipient(identity)]})
}, 120_000)

afterAll(() => rmSync(root, {recursive: true, force: true}))

describe('encrypted bundles', () => {
  it('writes only age ciphertext, with its .sha256 over the ciphertext and the manifest hash printed', () => {
    // Then the out dir holds the .age file and its sibling only
    expect(r.verified).toBe(true)
    expect(readdirSync(path.join(root, 'out')).sort()).toEqual([
      path.basename(r.bundle),
      `${path.basename(r.bundle)}.sha256`,
    ])
    expect(r.bundle).toMatch(/\.tar\.gz\.age$/)
    const bytes = readFileSync(r.bundle)
    expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1')
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(r.bundleSha256)
    expect(readFileSync(`${r.bundle}.sha256`, 'utf8')).toBe(`${r.bundleSha256}  ${path.basename(r.bundle)}\n`)
    expect(bytes.includes(Buffer.from(SECRETS.gatewayToken))).toBe(false)
    expect(collectLines(r).join('\n')).toContain(`manifest ${r.manifestSha256}`)
  })

  it('verifies the contents with --identity, and without one checks the ciphertext hash and says only that', async () => {
    // When verified with and without the identity, and with another key
    const full = await verifyBundle(r.bundle, {identity: identityFile})
    const cipherOnly = await verifyBundle(r.bundle)
    const other = path.join(root, 'other.txt')
    writeFileSync(other, `${await generateIdentity()}\n`)
    const wrong = await verifyBundle(r.bundle, {identity: other})
    // Then the contents are checked with it, only the ciphertext without it, and a wrong key is a named problem
    expect(full).toMatchObject({ok: true, encrypted: true, contentsChecked: true, problems: []})
    expect(full.checked).toBeGreaterThan(10)
    expect(cipherOnly).toMatchObject({ok: true, encrypted: true, contentsChecked: false, checked: 1})
    expect(wrong.ok).toBe(false)
    expect(wrong.problems[0]!.problem).toMatch(/cannot be decrypted and read with/)
  })

  it('refuses a recipient that is not an age key before any work', async () => {
    await expect(
      collect({
        target: {stateDir: path.join(root, 'state')},
        dryRun: false,
        prompter,
        mayChange: true,
        runner: noRunner,
        irHome: path.join(root, 'irhome2'),
        host: {env: {}, homedir: root, uid: 0},
        encryptTo: ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user@host'],
      }),
    ).rejects.toMatchObject({exitCode: 2, code: 'RECIPIENT_INVALID'})
    expect(readdirSync(root)).not.toContain('irhome2')
  })
})
