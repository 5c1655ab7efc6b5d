import {mkdir, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {loadRules, render, scanPaths} from '../../../src/detect/api.js'
import {tempDir, writeTranscript} from './helpers.js'

const rules = await loadRules([])
const SID = '11111111-2222-4333-8444-555555555555'

// key bodies made up for the test (not keys anyone holds): base64 lines of the usual width
const body = (seed: string, lines: number) =>
  Array.from({length: lines}, (_, i) => Buffer.from(`${seed}-${i}-`.repeat(12)).toString('base64').slice(0, 70))
const OPENSSH = ['-----BEGIN OPENSSH PRIVATE KEY-----', ...body('ssh', 5), '-----END OPENSSH PRIVATE KEY-----']
const PGP = [
  '-----BEGIN PGP PRIVATE KEY BLOCK-----',
  '',
  ...body('pgp', 6),
  '=Ab12',
  '-----END PGP PRIVATE KEY BLOCK-----',
]

describe('ir scan --format text', () => {
  it('reports a private key written over many lines of a plain text file, at its header line, masked', async () => {
    // Given a console log holding an OpenSSH key and a PGP key block, one line each of their bodies
    const dir = await tempDir()
    const file = path.join(dir, 'deploy.log')
    await writeFile(file, ['deploy started', ...OPENSSH, 'next step', ...PGP, 'deploy done', ''].join('\n'))
    // When scanned and rendered as text
    const result = await scanPaths([file], {rules, workers: 0})
    const text = render('text', result)
    // Then both keys are found at their header lines, critical
    const keys = result.findings.filter((f) => f.ruleId === 'secret.private-key')
    expect(keys.map((f) => [f.source.line, f.severity])).toEqual([
      [2, 'critical'],
      [10, 'critical'],
    ])
    // and no line of either body is printed
    for (const line of [...OPENSSH, ...PGP].filter((l) => l.length > 20 && !l.startsWith('-----')))
      expect(text).not.toContain(line.slice(0, 24))
    expect(text).toContain('secret.private-key')
  })

  it('leaves a header without a footer nearby, and a public key block, unreported', async () => {
    // Given a header whose footer never comes, and a public key over lines
    const dir = await tempDir()
    const file = path.join(dir, 'notes.log')
    const pub = ['-----BEGIN PUBLIC KEY-----', ...body('pub', 4), '-----END PUBLIC KEY-----']
    await writeFile(file, ['-----BEGIN RSA PRIVATE KEY-----', 'see the vault', ...pub, ''].join('\n'))
    // When scanned  Then no private key is reported
    const result = await scanPaths([file], {rules, workers: 0})
    expect(result.findings.filter((f) => f.ruleId === 'secret.private-key')).toEqual([])
  })

  it('lists the inputs it skipped, each with its reason', async () => {
    // Given a state dir with a transcript and a symlink to a file outside it
    const state = await tempDir()
    await writeTranscript(state, 'main', SID, [])
    const outside = path.join(await tempDir(), 'other.jsonl')
    await writeFile(outside, '{}\n')
    await mkdir(path.join(state, 'logs'), {recursive: true})
    await symlink(outside, path.join(state, 'logs', 'linked.jsonl'))
    // When scanned and rendered as text
    const text = render('text', await scanPaths([state], {rules, workers: 0}))
    // Then the skipped section names the link and why it was not read
    expect(text).toContain('Skipped or partly scanned:')
    expect(text).toMatch(
      /linked\.jsonl: symlink to .*other\.jsonl \(outside the scanned directory\): recorded, not followed/,
    )
    expect(text).toMatch(/; 1 skipped\.$/)
  })
})
