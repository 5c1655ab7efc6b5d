import {existsSync} from 'node:fs'
import {mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {describe, expect, it} from 'vitest'

import {Engine} from '../../../src/detect/rule-engine.js'
import {base64Offsets, compilePattern, loadRules, rawForms} from '../../../src/detect/rules.js'
import type {CompiledRule, RuleTestCase} from '../../../src/detect/rules.js'
import type {ScanEvent} from '../../../src/detect/finding-types.js'

const shipped = await loadRules([])

/** The event a rule test case stands for: its kind and tool, else the rule's first. */
function eventFor(rule: CompiledRule, tc: RuleTestCase): ScanEvent {
  const c = typeof tc === 'string' ? {text: tc} : tc
  const kind = c.kind ?? (rule.kinds ? [...rule.kinds][0]! : 'user')
  const toolName =
    c.tool ?? (rule.tools ? [...rule.tools][0] : kind === 'toolCall' || kind === 'toolResult' ? 'exec' : undefined)
  return {kind, text: c.text, ...(toolName ? {toolName} : {})}
}

const label = (tc: RuleTestCase) => JSON.stringify(typeof tc === 'string' ? tc : tc.text).slice(0, 70)

describe('shipped rule packs', () => {
  it('load without rejections, with unique ids and tests for every rule', () => {
    // Given the packs in playbooks/rules  When loaded  Then every rule compiled
    expect(shipped.rejected).toEqual([])
    expect(shipped.rules.length).toBeGreaterThan(60)
    expect(new Set(shipped.rules.map((r) => r.id)).size).toBe(shipped.rules.length)
  })

  const engine = new Engine(shipped)
  for (const rule of shipped.rules) {
    describe(rule.id, () => {
      for (const tc of rule.tests.match) {
        it(`matches ${label(tc)}`, () => {
          // Given the rule's own positive example  When matched  Then it hits
          const ev = eventFor(rule, tc)
          const hits = engine.matchRule(rule, ev)
          expect(hits.length, `${rule.id} should match`).toBeGreaterThan(0)
          if (rule.secretGroup !== undefined && !rule.alreadyMasked) {
            // and the excerpt and finding never show the secret in clear
            for (const h of hits) {
              const f = engine.toFinding(h, ev, {source: {file: 'x.jsonl'}, line: 1})
              expect(JSON.stringify(f)).not.toContain(h.secret)
            }
          }
        })
      }
      if (rule.anchors) {
        it('finds the same matches trying its patterns only at its keywords as across the whole text', () => {
          // Given a rule that says its matches start with a keyword, and its own examples
          for (const tc of [...rule.tests.match, ...rule.tests.no_match]) {
            const ev = eventFor(rule, tc)
            // When matched anchored and unanchored  Then the hits are the same
            const anchored = engine.matchRule(rule, ev).map((h) => [h.index, h.matched])
            expect(anchored).toEqual(
              engine.matchRule({...rule, anchors: undefined}, ev).map((h) => [h.index, h.matched]),
            )
          }
        })
      }
      for (const tc of rule.tests.no_match) {
        it(`does not match ${label(tc)}`, () => {
          // Given the rule's own negative example  When matched  Then nothing
          expect(engine.matchRule(rule, eventFor(rule, tc))).toEqual([])
        })
      }
    })
  }
})

describe('rules anchored on their keywords', () => {
  it('find what a full scan finds on random keyword=value text', () => {
    // Given random text made of the anchored rules' keywords, assignments, quotes, escapes and tokens
    const engine = new Engine(shipped)
    const pieces = [
      'api',
      'KEY',
      'Token',
      'passwd',
      'password',
      'secret',
      '_key',
      ' ',
      '=',
      ': ',
      '"',
      "'",
      '\\n',
      ',',
      '=>',
      'x',
      'vZBrHeqTKOeFDGxdF2Kk',
      'Zm9vYmFyYmF6cXV4MTIz',
      'example',
      '-',
      '.',
      'auth',
      'credentials',
    ]
    let seed = 11
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const anchored = shipped.rules.filter((r) => r.anchors)
    expect(anchored.length).toBeGreaterThan(0)
    let found = 0
    for (let round = 0; round < 500; round++) {
      const text = Array.from({length: 3 + rnd(20)}, () => pieces[rnd(pieces.length)]).join('')
      for (const rule of anchored) {
        const ev = eventFor(rule, text)
        // When matched anchored and unanchored  Then the hits are the same
        const hits = engine.matchRule(rule, ev).map((h) => [h.index, h.matched])
        expect(hits, text).toEqual(engine.matchRule({...rule, anchors: undefined}, ev).map((h) => [h.index, h.matched]))
        found += hits.length
      }
    }
    // (and the texts do hold secrets: the comparison is not between two empty lists)
    expect(found).toBeGreaterThan(50)
  })
})

describe('the build', () => {
  const built = path.resolve('dist', 'src', 'detect', 'rules.js')
  it.skipIf(!existsSync(path.resolve('dist', 'rule-packs.json')))(
    'loads the shipped packs pre-parsed: the same rules as from the YAML',
    async () => {
      // Given the build (npm run build), which has dist/rule-packs.json
      const fromBuild = await (import(pathToFileURL(built).href) as Promise<
        typeof import('../../../src/detect/rules.js')
      >)
      // When its loadRules runs  Then every rule is the one the YAML gives
      const a = await fromBuild.loadRules([])
      const summary = (set: typeof shipped) =>
        set.rules.map((r) => [r.id, r.severity, r.keywords, r.patterns.map((p) => p.source), r.tests])
      expect(summary(a)).toEqual(summary(shipped))
    },
  )
})

describe('loadRules with user packs', () => {
  it('rejects a rule with an invalid regex, naming file and rule id, and keeps the others', async () => {
    // Given a user pack with one broken and one good rule
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ir-rules-'))
    const file = path.join(dir, 'mine.yaml')
    await writeFile(
      file,
      [
        'pack: mine',
        'rules:',
        '  - {id: mine.broken, title: Broken, category: evasion, severity: low, keywords: [abc], patterns: ["(abc"], tests: {match: [abc]}}',
        '  - {id: mine.good, title: Good one, category: evasion, severity: low, keywords: [xyz], patterns: ["xyz"], tests: {match: [xyz]}}',
      ].join('\n'),
    )
    // When loaded
    const set = await loadRules([file])
    // Then the broken one is rejected with file and id, the good one is there
    expect(set.rejected).toHaveLength(1)
    expect(set.rejected[0]!.path).toBe(file)
    expect(set.rejected[0]!.reason).toMatch(/rule mine\.broken rejected: invalid regex/)
    expect(set.rules.some((r) => r.id === 'mine.good')).toBe(true)
  })

  it('rejects a pack that is not YAML, and a duplicate id', async () => {
    // Given a broken file and a pack redefining a shipped id
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ir-rules-'))
    await writeFile(path.join(dir, 'a.yaml'), 'pack: [unclosed')
    await writeFile(
      path.join(dir, 'b.yaml'),
      'pack: b\nrules:\n  - {id: secret.github-pat, title: Dup rule, category: evasion, severity: low, keywords: [ab], patterns: [ab], tests: {match: [ab]}}\n',
    )
    // When the directory is loaded
    const set = await loadRules([dir])
    // Then both are reported
    expect(set.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/rule pack rejected: not valid YAML/),
      expect.stringMatching(/rule secret\.github-pat rejected: id already defined in .*secrets\.yaml/),
    ])
  })

  it('fails with a usage error when a --rules path does not exist', async () => {
    // Given a missing path  When loaded  Then a usage error names it
    await expect(loadRules(['/nonexistent/rules.yaml'])).rejects.toMatchObject({code: 'RULES_NOT_FOUND', exitCode: 2})
  })
})

describe('pattern helpers', () => {
  it('turns a gitleaks (?i) prefix into a flag and refuses scoped flags', () => {
    expect(compilePattern('(?i)abc', '').flags).toContain('i')
    expect(() => compilePattern('a(?-i:B)c', '')).toThrow(/inline flag groups/)
  })

  it('gives the raw forms a keyword takes in JSON bytes', () => {
    expect(rawForms('"token"')).toContain('\\"token\\"')
    expect(rawForms('\u200B')).toContain('\\u200b')
  })

  it('finds base64 offsets that survive any alignment', () => {
    // Given a word at each of the three byte offsets  When encoded  Then one offset form is inside
    for (const pad of ['', 'x', 'xy']) {
      const enc = Buffer.from(`${pad}Ignore all`).toString('base64')
      expect(base64Offsets('Ignore').some((o) => enc.includes(o))).toBe(true)
    }
  })
})
