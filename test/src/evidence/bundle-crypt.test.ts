import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {generateIdentity, identityToRecipient} from 'age-encryption'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {collectLines} from '../../../src/cli/collect-text.js'
import {collect, type CollectResult} from '../../../src/collect.js'
import {parseRecipients} from '../../../src/evidence/bundle-crypt.js'
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

  it('refuses a recipient that is neither an age key nor an SSH key age reads, before any work', async () => {
    await expect(
      collect({
        target: {stateDir: path.join(root, 'state')},
        dryRun: false,
        prompter,
        mayChange: true,
        runner: noRunner,
        irHome: path.join(root, 'irhome2'),
        host: {env: {}, homedir: root, uid: 0},
        encryptTo: ['ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY user@host'],
      }),
    ).rejects.toMatchObject({exitCode: 2, code: 'RECIPIENT_INVALID'})
    expect(readdirSync(root)).not.toContain('irhome2')
  })
})

describe('encrypted to SSH keys (through the age tool)', () => {
  let sshRoot: string
  let sr: CollectResult
  const keyOf = (type: 'ed25519' | 'rsa') => path.join(sshRoot, `id_${type}`)

  beforeAll(async () => {
    // Given a reader's ed25519 key and another's RSA key, both made by ssh-keygen
    sshRoot = tmp('ir-ev-age-ssh-')
    for (const type of ['ed25519', 'rsa'] as const)
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `reader-${type}`, '-f', keyOf(type)])
    const {stateDir} = fileEraState(sshRoot)
    // When the bundle is collected encrypted to both public keys (as their .pub lines, comment included)
    sr = await collectUnder(sshRoot, stateDir, {
      encryptTo: (['ed25519', 'rsa'] as const).map((t) => readFileSync(`${keyOf(t)}.pub`, 'utf8').trim()),
    })
  }, 120_000)

  afterAll(() => rmSync(sshRoot, {recursive: true, force: true}))

  it('writes only ciphertext, which each private key decrypts and verifies in full', async () => {
    // Then only the .age file and its .sha256 are in the out dir, no plaintext copy
    expect(sr.verified).toBe(true)
    expect(readdirSync(path.join(sshRoot, 'out')).sort()).toEqual([
      path.basename(sr.bundle),
      `${path.basename(sr.bundle)}.sha256`,
    ])
    const bytes = readFileSync(sr.bundle)
    expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1')
    expect(bytes.includes(Buffer.from('-> ssh-ed25519 '))).toBe(true)
    expect(bytes.includes(Buffer.from('-> ssh-rsa '))).toBe(true)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sr.bundleSha256)
    // And `ir verify --identity` with either private key checks every file
    for (const type of ['ed25519', 'rsa'] as const) {
      const v = await verifyBundle(sr.bundle, {identity: keyOf(type)})
      expect(v, type).toMatchObject({ok: true, encrypted: true, contentsChecked: true, problems: []})
      expect(v.checked).toBeGreaterThan(10)
    }
  })

  it('names a key that is not a recipient as the problem', async () => {
    // Given a third SSH key the bundle was not encrypted to
    const stranger = path.join(sshRoot, 'id_stranger')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger])
    // When verified with it
    const v = await verifyBundle(sr.bundle, {identity: stranger})
    // Then the archive is reported unreadable with age's reason
    expect(v.ok).toBe(false)
    expect(v.problems[0]!.problem).toMatch(/cannot be decrypted and read with .*age exited 1: .*identity/)
  })

  it('without the age tool, an SSH recipient is a usage error naming the tool and how to install it', async () => {
    const pub = readFileSync(`${keyOf('ed25519')}.pub`, 'utf8')
    expect(() => parseRecipients([pub], path.join(sshRoot, 'no-bin'))).toThrow(/needs the `age` tool/)
    // And collect stops before any work (no case directory)
    const saved = process.env.PATH
    process.env.PATH = path.join(sshRoot, 'no-bin')
    try {
      await expect(
        collect({
          target: {stateDir: path.join(sshRoot, 'state')},
          dryRun: false,
          prompter,
          mayChange: true,
          runner: noRunner,
          irHome: path.join(sshRoot, 'irhome2'),
          host: {env: {}, homedir: sshRoot, uid: 0},
          encryptTo: [pub],
        }),
      ).rejects.toMatchObject({
        exitCode: 2,
        code: 'AGE_TOOL_MISSING',
        suggestions: [expect.stringMatching(/apt-get install age/)],
      })
    } finally {
      process.env.PATH = saved
    }
    expect(readdirSync(sshRoot)).not.toContain('irhome2')
  })
})
