import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {Readable} from 'node:stream'
import {buffer} from 'node:stream/consumers'
import {gunzipSync} from 'node:zlib'

import {describe, expect, it} from 'vitest'

import {ParallelGzip} from '../../../src/evidence/parallel-gzip.js'

// The bundle's gzip on every core: one member per block, in order, read back as one stream by
// Node's gunzip and by GNU gzip (what `tar xzf` runs).

const gz = (input: Buffer[], blockSize: number) =>
  buffer(Readable.from(input).pipe(new ParallelGzip({level: 4, blockSize, inFlight: 3})))

/** Offsets of gzip member headers (magic, deflate, no flags): a count of members for this writer's output. */
const members = (b: Buffer) => {
  let n = 0
  for (let i = b.indexOf('1f8b0800', 0, 'hex'); i >= 0; i = b.indexOf('1f8b0800', i + 1, 'hex')) n++
  return n
}

describe('ParallelGzip', () => {
  it('writes one member per block, in input order, that gunzip and gzip read as the input', async () => {
    // Given 3.5 blocks of text and random bytes, in odd-sized chunks
    const text = Buffer.from('the agent read the workspace file and replied\n'.repeat(60_000))
    const input = Buffer.concat([text, randomBytes(900_000), text.subarray(0, 500_000)])
    const chunks: Buffer[] = []
    for (let i = 0; i < input.length; i += 77_777) chunks.push(input.subarray(i, i + 77_777))
    // When compressed with 1 MiB blocks
    const out = await gz(chunks, 1 << 20)
    // Then it is several members and both readers give back exactly the input
    expect(members(out)).toBeGreaterThanOrEqual(Math.floor(input.length / (1 << 20)))
    expect(gunzipSync(out).equals(input)).toBe(true)
    expect(execFileSync('gzip', ['-dc'], {input: out, maxBuffer: 1 << 26}).equals(input)).toBe(true)
  })

  it('cuts a chunk bigger than a block into whole blocks, its buffers reused', async () => {
    // Given one chunk of 7.5 blocks (64 KiB) and a few small ones after it (deterministic bytes)
    const input = Buffer.from(Array.from({length: 7.5 * 65_536 + 15_000}, (_, i) => (i * 7919) % 251))
    const chunks = [
      input.subarray(0, 7.5 * 65_536),
      ...[0, 1, 2].map((i) => input.subarray(7.5 * 65_536 + i * 5000, 7.5 * 65_536 + (i + 1) * 5000)),
    ]
    // When compressed with 64 KiB blocks, 3 in flight
    const out = await gz(chunks, 65_536)
    // Then every member but the last holds exactly one block, and the output reads back as the input
    expect(members(out)).toBe(Math.ceil(input.length / 65_536))
    expect(gunzipSync(out).equals(input)).toBe(true)
  })

  it('makes a valid gzip file of an empty input', async () => {
    const out = await gz([], 1 << 20)
    expect(gunzipSync(out).length).toBe(0)
    expect(execFileSync('gzip', ['-t'], {input: out}).length).toBe(0)
  })
})
