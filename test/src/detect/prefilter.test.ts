import {describe, expect, it} from 'vitest'

import {maskHighEntropyTokens, maskSecret, revealInvisible} from '../../../src/detect/mask.js'
import {Prefilter} from '../../../src/detect/prefilter.js'

describe('Prefilter', () => {
  const pf = new Prefilter([{bytes: 'ignore', tag: 0}, {bytes: 'curl', tag: 1}, {bytes: 'ab', tag: 2}, {bytes: '"type":"toolcall"', tag: -1}])
  const buf = (s: string) => Buffer.from(s, 'utf8')

  it('finds the first keyword, ASCII case-insensitively, with its tag', () => {
    // Given bytes with CURL before Ignore  When searched  Then CURL is first
    const b = buf('please CURL it, then Ignore')
    expect(pf.find(b, 0, b.length)).toBe(7)
    expect(pf.hitTag).toBe(1)
    expect(pf.find(b, 11, b.length)).toBe(21)
    expect(pf.hitTag).toBe(0)
    expect(pf.find(buf('nothing here'), 0, 12)).toBe(-1)
  })

  it('finds a keyword at the very end and a 2-byte keyword', () => {
    const b = buf('xxxab')
    expect(pf.find(b, 0, b.length)).toBe(3)
    expect(pf.find(b, 0, 4)).toBe(-1)
  })

  it('collects every rule keyword in a range, ignoring context markers', () => {
    const marks = new Uint8Array(3)
    const b = buf('{"type":"toolCall"} ignore ab')
    pf.collect(b, 0, b.length, marks)
    expect([...marks]).toEqual([1, 0, 1])
  })
})

describe('masking', () => {
  it('keeps a short prefix and a short hash', () => {
    expect(maskSecret('ghp_R7tQ2mXv9LpK4sW8nB3cY6dF1gH5jZ0aE2uI')).toMatch(/^ghp_…\[sha256:[0-9a-f]{8}\]$/)
    expect(maskSecret('abcdefgh')).toMatch(/^ab…\[sha256:/)
  })

  it('masks random-looking long tokens and leaves words and paths', () => {
    const out = maskHighEntropyTokens('key Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2Rl in /usr/local/lib/node_modules/openclaw')
    expect(out).toMatch(/^key Zm9v…\[sha256:[0-9a-f]{8}\] in \/usr\/local\/lib\/node_modules\/openclaw$/)
  })

  it('shows invisible characters and decodes Unicode tags', () => {
    const tags = [...'hi'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')
    expect(revealInvisible(`a\u200Bb ${tags}`)).toBe('a<U+200B>b <TAGS:hi>')
  })
})

describe('Prefilter against a naive search', () => {
  // Given keywords of every length the filter treats differently (2, 3, 4+ bytes, non-ASCII bytes,
  // shared prefixes, the same bytes under two tags) and random text made of their pieces
  const words = ['ab', '![', 'key', 'api', '\u00e2\u0080\u008b', 'ke', 'keys', 'token', 'tok', 'ignore all', 'ignore', '"type":"toolcall"',
    '\u00f3\u00a0\u0080\u0081', 'x.io', 'from now on']
  const keywords = [...words.map((bytes, i) => ({bytes, tag: i % 5 === 4 ? -1 : i})), {bytes: 'key', tag: 99}]
  const pf = new Prefilter(keywords)
  const lower = (b: number) => (b >= 65 && b <= 90 ? b + 32 : b)
  const naive = (b: Buffer, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const tags = keywords.filter((k) => i + k.bytes.length <= to && [...k.bytes].every((c, j) => lower(b[i + j]!) === c.charCodeAt(0))).map((k) => k.tag)
      if (tags.length > 0) return {at: i, tags}
    }
    return {at: -1, tags: []}
  }
  let seed = 7
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return (seed >>> 8) % n
  }
  const pieces = [...words, 'KEY', 'Api', 'IGNORE', 'Tok', ' ', 'x', '\n', '\u00e2', 'fro', 'A', '"', 'ke']

  it('finds the same positions and tags, at every offset and up to the very end', () => {
    for (let round = 0; round < 300; round++) {
      const b = Buffer.from(Array.from({length: 1 + rnd(12)}, () => pieces[rnd(pieces.length)]).join(''), 'latin1')
      const from = rnd(3)
      let p = Math.min(from, b.length)
      for (;;) {
        const want = naive(b, p, b.length)
        const got = pf.next(b, p, b.length)
        expect({at: got, tags: got < 0 ? [] : [...pf.tags.subarray(0, pf.tagCount)].sort((x, y) => x - y)}).toEqual({at: want.at, tags: want.tags.sort((x, y) => x - y)})
        const first = pf.find(b, p, b.length)
        expect(first).toBe(want.at)
        if (first >= 0) expect(pf.hitTag).toBe(keywords.find((k) => want.tags.includes(k.tag) && naive(b.subarray(0, first + k.bytes.length), first, first + k.bytes.length).tags.includes(k.tag))!.tag)
        if (got < 0) break
        p = got + 1
      }
    }
  })
})
