import {execFileSync} from 'node:child_process'
import {copyFileSync, existsSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {inflateSync} from 'node:zlib'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Finding} from '../../../src/detect/finding-types.js'
import {collectUnder, extract, SESSION_A, sqliteEraState, tmp} from './helpers.js'

// The incident report as a person sees it: rendered by headless Chromium (Debian's `chromium`,
// installed by .ci/run), the screenshot not blank, the counts on the page equal to findings.jsonl.

const CHROMIUM = '/usr/bin/chromium'
let root: string
let bundle: string

beforeAll(async () => {
  // Given a SQLite-era install with an injected message, a pasted secret, a tool call, and audit events
  root = tmp('ir-ev-report-')
  const s = sqliteEraState(root)
  const st = new Database(s.stateDb)
  const ins = st.prepare(
    `INSERT INTO audit_events (event_id, source_id, source_sequence, occurred_at, kind, action, status, actor_type,
     actor_id, agent_id, session_key, session_id, tool_name, channel, direction) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  )
  const t = Date.parse('2026-11-19T08:00:00Z')
  ins.run(
    'e1',
    's1',
    1,
    t + 4000,
    'message',
    'received',
    'ok',
    'user',
    '555',
    'main',
    'agent:main:telegram:direct:555',
    SESSION_A,
    null,
    'telegram',
    'inbound',
  )
  ins.run(
    'e2',
    's2',
    2,
    t + 6000,
    'tool',
    'exec',
    'ok',
    'agent',
    'main',
    'main',
    'agent:main:telegram:direct:555',
    SESSION_A,
    'exec',
    'telegram',
    null,
  )
  st.close()
  copyFileSync(s.stateDb, `${s.stateDb}.pre-startup-migration-2026-11-19T09-00-00.000Z.bak`)
  const r = await collectUnder(root, s.stateDir)
  bundle = extract(r.bundle)
}, 120_000)

afterAll(() => {
  rmSync(root, {recursive: true, force: true})
  if (bundle) rmSync(path.dirname(bundle), {recursive: true, force: true})
})

function findings(): Finding[] {
  return readFileSync(path.join(bundle, 'findings/findings.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Finding)
}

/** Distinct byte values of a PNG's decompressed image data: a blank page has one or two. */
function pngVariety(file: string): {width: number; height: number; distinct: number} {
  const png = readFileSync(file)
  expect(png.subarray(1, 4).toString()).toBe('PNG')
  const idat: Buffer[] = []
  let width = 0
  let height = 0
  for (let p = 8; p < png.length;) {
    const len = png.readUInt32BE(p)
    const type = png.toString('latin1', p + 4, p + 8)
    if (type === 'IHDR') {
      width = png.readUInt32BE(p + 8)
      height = png.readUInt32BE(p + 12)
    }
    if (type === 'IDAT') idat.push(png.subarray(p + 8, p + 8 + len))
    p += 12 + len
  }
  const data = inflateSync(Buffer.concat(idat))
  const seen = new Set<number>()
  for (let i = 0; i < data.length; i += 7) seen.add(data[i]!)
  return {width, height, distinct: seen.size}
}

describe('the incident report', () => {
  it('is self-contained: no script, no external resource', () => {
    // When the HTML report is read
    const html = readFileSync(path.join(bundle, 'findings/report.html'), 'utf8')
    // Then it loads nothing from anywhere
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i)
    expect(html).toContain("default-src 'none'")
    expect(html).toContain('<svg')
  })

  it('shows the same counts as findings.jsonl, the timeline across sessions and the audit ledger, and the blast radius', () => {
    // Given the findings of the bundle
    const all = findings()
    expect(all.length).toBeGreaterThan(0)
    const html = readFileSync(path.join(bundle, 'findings/report.html'), 'utf8')
    const md = readFileSync(path.join(bundle, 'findings/report.md'), 'utf8')
    const count = (k: string) => Number(new RegExp(`data-count="${k}">[^<]*<b>(\\d+)</b>`).exec(html)?.[1])
    // Then every count on the page equals the findings file, and the grouped rows add up to it
    expect(count('total')).toBe(all.length)
    for (const sev of ['critical', 'high', 'medium', 'low', 'info'])
      expect(count(sev)).toBe(all.filter((f) => f.severity === sev).length)
    const groups = [...html.matchAll(/data-group-count="(\d+)"/g)].reduce((n, m) => n + Number(m[1]), 0)
    expect(groups).toBe(all.length)
    // and the timeline holds the audit ledger's events with their channel, and the findings
    expect(html).toMatch(/<td>audit<\/td><td>telegram<\/td><td>555<\/td><td><\/td><td>message\/received<\/td>/)
    expect(html).toMatch(/<td>session<\/td>/)
    // and a secret seen exposed is in the blast radius by fingerprint, with what to rotate
    const secret = all.find((f) => f.secret)!
    expect(html).toContain(`<code>${secret.secret!.sha256}</code>`)
    expect(md).toContain(`| ${secret.secret!.sha256} |`)
    expect(md).toContain('## Timeline (UTC)')
  })

  it.skipIf(!existsSync(CHROMIUM))('renders in headless Chromium to a screenshot that is not blank', () => {
    // When Chromium opens the file and takes a screenshot
    const dir = tmp('ir-ev-chromium-')
    const png = path.join(dir, 'report.png')
    try {
      execFileSync(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          `--user-data-dir=${path.join(dir, 'profile')}`,
          '--window-size=1280,1600',
          `--screenshot=${png}`,
          `file://${path.join(bundle, 'findings/report.html')}`,
        ],
        {stdio: 'pipe', timeout: 120_000},
      )
      // Then the screenshot has the page's size and varied pixels (text, tiles, the timeline picture)
      const v = pngVariety(png)
      expect(v).toMatchObject({width: 1280, height: 1600})
      expect(v.distinct).toBeGreaterThan(30)
      if (process.env.IR_KEEP_SCREENSHOT) copyFileSync(png, process.env.IR_KEEP_SCREENSHOT)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
