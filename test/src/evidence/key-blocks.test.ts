import {randomBytes} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {loadRules} from '../../../src/detect/rules.js'
import {blockMark, maskKeyBlocks} from '../../../src/evidence/key-blocks.js'
import {Redactor} from '../../../src/evidence/redact.js'
import {KnownSecrets} from '../../../src/evidence/secret-values.js'

const body = randomBytes(400)
  .toString('base64')
  .match(/.{1,64}/g)!
  .join('\n')
const pem = `-----BEGIN EC PRIVATE KEY-----\n${body}\n-----END EC PRIVATE KEY-----\n`

async function streamed(text: string, chunk: number): Promise<string> {
  const r = new Redactor((await loadRules([])).rules, new KnownSecrets())
  const lr = r.stream()
  const out: Buffer[] = []
  const buf = Buffer.from(text)
  for (let i = 0; i < buf.length; i += chunk) out.push(...lr.push(buf.subarray(i, i + chunk)))
  out.push(...lr.end())
  return Buffer.concat(out).toString('utf8')
}

describe('private key blocks', () => {
  it('masks a block split across any chunk boundary with the same mark as its JSON-escaped copy', async () => {
    // Given a note with a PEM key between two lines of prose, streamed in 7-byte chunks
    const text = `before\n${pem}after\n`
    // When it is redacted as a stream, and the same key is masked JSON-escaped on one line
    const out = await streamed(text, 7)
    const escaped = maskKeyBlocks(JSON.stringify({k: pem})).text
    // Then the body is gone, the prose kept, and both forms carry the same fingerprint
    expect(out).toBe(
      `before\n-----BEGIN EC PRIVATE KEY-----\n${blockMark(body)}\n-----END EC PRIVATE KEY-----\nafter\n`,
    )
    expect(escaped).toContain(blockMark(body))
    expect(escaped).not.toContain(body.slice(0, 40))
  })

  it('masks a key cut before its END line up to the first line that is not key text', async () => {
    // Given a key whose END line is missing, followed by prose
    const cut = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\nthat was all I had\n`
    // When it is streamed
    const out = await streamed(cut, 4096)
    // Then the body is masked as cut and the prose stays
    expect(out).toBe(
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${blockMark(body + '\n')} (cut: no END line)\nthat was all I had\n`,
    )
  })

  it('stays linear on hostile input (many BEGIN lines, no END)', () => {
    // Given 2 MiB of BEGIN markers without an END
    const hostile = '-----BEGIN RSA PRIVATE KEY-----'.repeat(70_000)
    // When it is masked
    const r = maskKeyBlocks(hostile)
    // Then every marker is one (cut) block: END is looked for once, not once per marker
    expect(r.count).toBe(70_000)
  })
})
