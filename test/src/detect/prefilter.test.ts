import {describe, expect, it} from 'vitest'

import {maskHighEntropyTokens, maskSecret, revealInvisible} from '../../../src/detect/mask.js'
import {HYPERSCAN_BUILT, Prefilter} from '../../../src/detect/prefilter.js'

/** WebAssembly always; Hyperscan where the addon is built (.ci/run installs it and sets IR_EXPECT_HYPERSCAN). */
const ENGINES = HYPERSCAN_BUILT ? (['wasm', 'hyperscan'] as const) : (['wasm'] as const)

it('has the Hyperscan addon where it is expected', () => {
  expect(HYPERSCAN_BUILT || process.env.IR_EXPECT_HYPERSCAN !== '1').toBe(true)
})

describe.each(ENGINES)('Prefilter on %s', (engine) => {
  const pf = new Prefilter(
    [
      {bytes: 'ignore', tag: 0},
      {bytes: 'curl', tag: 1},
      {bytes: 'ab', tag: 2},
      {bytes: '"type":"toolcall"', tag: -1},
      {bytes: 'from now on', tag: 3},
    ],
    engine,
  )
  const buf = (s: string) => Buffer.from(s, 'utf8')
  const all = (b: Buffer, from = 0, to = b.length) => {
    const found: string[] = []
    pf.each(b, from, to, () => {
      for (let t = 0; t < pf.count; t++) found.push(`${pf.tags[t]}@${pf.starts[t]}+${pf.lengths[t]}`)
    })
    return found
  }

  it('finds every keyword, ASCII case-insensitively, with its tag, start and length', () => {
    // Given bytes with CURL before Ignore  When searched  Then both are found, in order
    expect(all(buf('please CURL it, then Ignore'))).toEqual(['1@7+4', '0@21+6'])
    expect(all(buf('nothing here'))).toEqual([])
  })

  it('anchors a long keyword on its rarest bytes: a common first word alone is not a candidate', () => {
    // Given "from now on" and text where only "from" occurs  When searched  Then only the real phrase is found, at
    // its start
    const b = buf('from the start, from here. From Now On we talk')
    expect(all(b)).toEqual(['3@27+11'])
  })

  it('reports only keywords wholly inside the range', () => {
    // Given a keyword that starts before `from` or ends after `to`  When searched in that range  Then it is not
    // reported
    const b = buf('xxFROM NOW ONxx')
    expect(all(b, 3)).toEqual([])
    expect(all(b, 0, 12)).toEqual([])
    expect(all(b, 2, 13)).toEqual(['3@2+11'])
  })

  it('finds a keyword at the very end and a 2-byte keyword', () => {
    const b = buf('xxxab')
    expect(all(b)).toEqual(['2@3+2'])
    expect(all(b, 0, 4)).toEqual([])
  })

  it('finds keywords across kernel windows and past a full batch of candidates, in order', () => {
    // Given 3 MiB of text with a keyword every 100 bytes and at the window edges (1 MiB)
    const b = Buffer.alloc(3 << 20, 'x')
    const want: number[] = []
    for (let i = 0; i < b.length - 10; i += 100) want.push(i)
    for (const i of [(1 << 20) - 2, (2 << 20) - 5]) want.push(i)
    want.sort((x, y) => x - y)
    for (const i of want) b.write('curl', i, 'latin1')
    // When every hit is visited  Then each is seen once, in anchor order
    const got: number[] = []
    pf.each(b, 0, b.length, () => {
      got.push(pf.starts[0]!)
    })
    expect(got).toEqual(want)
  })

  it('lets a visitor scan again and stop early', () => {
    // Given a visitor that runs a nested scan after reading the hit, and stops at the third hit
    const b = buf('curl ignore curl ignore curl ignore')
    const outer: string[] = []
    pf.each(b, 0, b.length, (at) => {
      outer.push(`${pf.tags[0]}@${at}`)
      const inner: number[] = []
      pf.each(b, 0, 11, () => {
        inner.push(pf.tags[0]!)
      })
      expect(inner).toEqual([1, 0])
      return outer.length === 3
    })
    // Then the outer scan is not disturbed by the inner one
    expect(outer).toEqual(['1@0', '0@5', '1@12'])
  })

  it('scans a string as its UTF-8 bytes, short or long', () => {
    // Given texts with non-ASCII characters before the keywords, one longer than a kernel window
    const uni = new Prefilter(
      [
        {bytes: Buffer.from('\u200b', 'utf8').toString('latin1'), tag: 5},
        {bytes: 'curl', tag: 1},
      ],
      engine,
    )
    for (const text of ['héllo \u200b then CURL', `${'é'.repeat(700_000)} curl \u200b`]) {
      const bytes = Buffer.from(text, 'utf8')
      const viaBuffer: string[] = []
      uni.each(bytes, 0, bytes.length, () => {
        viaBuffer.push(`${uni.tags[0]}@${uni.starts[0]}`)
      })
      // When scanned as a string  Then the same keywords at the same byte offsets, and the byte length
      const viaString: string[] = []
      expect(
        uni.eachUtf8(text, () => {
          viaString.push(`${uni.tags[0]}@${uni.starts[0]}`)
        }),
      ).toBe(bytes.length)
      expect(viaString).toEqual(viaBuffer)
      expect(viaString).toHaveLength(2)
    }
  })

  it('scans a keyword-dense string past a full batch of candidates', () => {
    // Given a text with 5000 keywords before a secret assignment (more candidates than one batch holds)
    const dense = new Prefilter(
      [
        {bytes: 'token', tag: 0},
        {bytes: 'password', tag: 1},
      ],
      engine,
    )
    const text = `${'token '.repeat(5000)}${'y'.repeat(60000)} password=hunter2hunter2 ${'z'.repeat(100000)}`
    const count = (run: (visit: () => void) => void) => {
      const seen = [0, 0]
      run(() => {
        for (let t = 0; t < dense.count; t++) seen[dense.tags[t]!]!++
      })
      return seen
    }
    // When scanned as a string and as bytes  Then every keyword, both ways
    expect(count((v) => dense.eachUtf8(text, v))).toEqual([5000, 1])
    const bytes = Buffer.from(text)
    expect(count((v) => dense.each(bytes, 0, bytes.length, v))).toEqual([5000, 1])
  })

  it('collects every rule keyword in a range, ignoring context markers', () => {
    const marks = new Uint8Array(4)
    const b = buf('{"type":"toolCall"} ignore ab')
    pf.collect(b, 0, b.length, marks)
    expect([...marks]).toEqual([1, 0, 1, 0])
  })
})

describe('masking', () => {
  it('keeps a short prefix and a short hash', () => {
    expect(maskSecret('ghp_R7tQ2mXv9LpK4sW8nB3cY6dF1gH5jZ0aE2uI')).toMatch(/^ghp_…«sha256:[0-9a-f]{12}»$/)
    expect(maskSecret('abcdefgh')).toMatch(/^ab…«sha256:/)
  })

  it('masks random-looking long tokens and leaves words and paths', () => {
    const out = maskHighEntropyTokens(
      'key Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2Rl in /usr/local/lib/node_modules/openclaw',
    )
    expect(out).toMatch(/^key Zm9v…«sha256:[0-9a-f]{12}» in \/usr\/local\/lib\/node_modules\/openclaw$/)
  })

  it('shows invisible characters and decodes Unicode tags', () => {
    const tags = [...'hi'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')
    expect(revealInvisible(`a\u200Bb ${tags}`)).toBe('a<U+200B>b <TAGS:hi>')
  })
})

describe.each(ENGINES)('Prefilter on %s against a naive search', (engine) => {
  // Given keywords of every length the filter treats differently (2, 3, 4+ bytes, non-ASCII bytes,
  // shared prefixes, the same bytes under two tags, anchored at the start or on rare bytes) and
  // random text made of their pieces
  const words = [
    'ab',
    '![',
    'key',
    'api',
    '\u00e2\u0080\u008b',
    'ke',
    'keys',
    'token',
    'tok',
    'ignore all',
    'ignore',
    '"type":"toolcall"',
    '\u00f3\u00a0\u0080\u0081',
    'x.io',
    'from now on',
    '"totaltokens":',
  ]
  const keywords = [
    ...words.map((bytes, i) => ({bytes, tag: i % 5 === 4 ? -1 : i, anchorAtStart: i === 15})),
    {bytes: 'key', tag: 99},
  ]
  const pf = new Prefilter(keywords, engine)
  const lower = (b: number) => (b >= 65 && b <= 90 ? b + 32 : b)
  const naive = (b: Buffer, from: number, to: number) => {
    const found: string[] = []
    for (let i = from; i < to; i++) {
      for (const k of keywords) {
        if (i + k.bytes.length <= to && [...k.bytes].every((c, j) => lower(b[i + j]!) === c.charCodeAt(0)))
          found.push(`${k.tag}@${i}`)
      }
    }
    return found.sort()
  }
  let seed = 7
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return (seed >>> 8) % n
  }
  const pieces = [
    ...words,
    'KEY',
    'Api',
    'IGNORE',
    'Tok',
    ' ',
    'x',
    '\n',
    '\u00e2',
    'fro',
    'A',
    '"',
    'ke',
    'FROM NOW',
    ' ON',
    '"TotalTokens"',
  ]

  it('finds every occurrence exactly once, at an anchor not before its start, at every offset and up to the very end', () => {
    for (let round = 0; round < 400; round++) {
      const b = Buffer.from(Array.from({length: 1 + rnd(12)}, () => pieces[rnd(pieces.length)]).join(''), 'latin1')
      const from = Math.min(rnd(3), b.length)
      const to = b.length - Math.min(rnd(3), b.length - from)
      const got: string[] = []
      let last = -1
      pf.each(b, from, to, (at) => {
        expect(at).toBeGreaterThan(last)
        last = at
        expect(pf.count).toBeGreaterThan(0)
        for (let t = 0; t < pf.count; t++) {
          expect(pf.starts[t]).toBeLessThanOrEqual(at)
          got.push(`${pf.tags[t]}@${pf.starts[t]}`)
        }
      })
      expect(got.sort()).toEqual(naive(b, from, to))
    }
  })
})
