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
