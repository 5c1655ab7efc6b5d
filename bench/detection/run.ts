/**
 * Detection benchmark on public attack data: generates the cases of cases.ts as OpenClaw
 * transcripts of both eras (JSONL files, and a per-agent SQLite store), scans each with `ir scan`'s
 * engine and reports recall per channel and category, and the false-positive rate on benign events.
 *
 *   npx tsx bench/detection/run.ts [--data ../shared/bench-data] [--out DIR] [--json] [--misses N] [--split train]
 *
 * `--split train`: BIPIA's train attacks instead of its test attacks (a held-out check: the rules
 * were written against the test split).
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import Database from 'better-sqlite3'

import {loadRules, scanPaths} from '../../src/detect/api.js'
import type {Finding} from '../../src/detect/api.js'
import {SEVERITY_RANK} from '../../src/detect/finding-types.js'
import {bipiaCases, clawCases, dataDir} from './cases.js'
import type {Case, Channel, Probe, Turn} from './cases.js'

const {values: opts} = parseArgs({
  options: {
    data: {type: 'string'},
    out: {type: 'string'},
    json: {type: 'boolean', default: false},
    misses: {type: 'string', default: '0'},
    split: {type: 'string', default: 'test'},
  },
})

type Era = 'jsonl' | 'sqlite'
interface Placed {
  probe: Probe
  key: string
  text: string
}

let clock = Date.UTC(2026, 10, 23, 9, 0, 0)
function record(t: Turn, n: number): unknown {
  const id = `e${n.toString(16).padStart(7, '0')}`
  const timestamp = new Date((clock += 1000)).toISOString()
  const base = {type: 'message', id, parentId: null, timestamp}
  if (t.role === 'user')
    return {...base, message: {role: 'user', content: t.text, timestamp: clock, __openclaw: {senderIsOwner: t.owner}}}
  if (t.role === 'assistant')
    return {...base, message: {role: 'assistant', content: [{type: 'text', text: t.text}], stopReason: 'stop'}}
  if (t.role === 'toolCall')
    return {
      ...base,
      message: {
        role: 'assistant',
        content: [{type: 'toolCall', id: `call_${id}`, name: t.tool, arguments: t.args ?? {}}],
        stopReason: 'toolUse',
      },
    }
  return {
    ...base,
    message: {role: 'toolResult', toolCallId: `call_${id}`, toolName: t.tool, content: [{type: 'text', text: t.text}]},
  }
}

const sessionId = (i: number) => `b0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

/** Writes every case as a session of one era; returns where each probe sits (session|line or seq). */
function write(era: Era, root: string, cases: Case[]): Placed[] {
  const placed: Placed[] = []
  const agentDir = path.join(root, 'agents', 'main', era === 'jsonl' ? 'sessions' : 'agent')
  mkdirSync(agentDir, {recursive: true})
  let db: Database.Database | undefined
  let insert: Database.Statement | undefined
  if (era === 'sqlite') {
    db = new Database(path.join(agentDir, 'openclaw-agent.sqlite'))
    db.exec(`CREATE TABLE session_windows (session_id TEXT PRIMARY KEY, session_key TEXT NOT NULL, status TEXT);
      CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL,
        event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT, PRIMARY KEY (session_id, seq));`)
    insert = db.prepare('INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)')
    db.exec('BEGIN')
  }
  let n = 0
  cases.forEach((c, i) => {
    const sid = sessionId(i)
    const header = {type: 'session', version: 3, id: sid, timestamp: new Date(clock).toISOString(), cwd: '/root'}
    const records = [header, ...c.turns.map((t) => record(t, n++))]
    c.turns.forEach((t, j) => {
      // JSONL: line 1 is the header; SQLite: seq 0 is
      if (t.probe)
        placed.push({
          probe: t.probe,
          key: `${sid}|${era === 'jsonl' ? j + 2 : j + 1}`,
          text: t.probe.attackText ?? t.text,
        })
    })
    if (era === 'jsonl') {
      writeFileSync(path.join(agentDir, `${sid}.jsonl`), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
    } else {
      db!.prepare('INSERT INTO session_windows VALUES (?, ?, ?)').run(sid, `agent:main:bench-${i}`, 'done')
      records.forEach((r, seq) => insert!.run(sid, seq, JSON.stringify(r), clock))
    }
  })
  if (db) {
    db.exec('COMMIT')
    db.close()
  }
  return placed
}

/** Worst severity of the findings on each event (a merged finding counts at every place). */
function worstByEvent(findings: Finding[]): Map<string, {rank: number; rules: string[]}> {
  const out = new Map<string, {rank: number; rules: string[]}>()
  for (const f of findings) {
    for (const s of [f.source, ...(f.also ?? [])]) {
      const key = `${s.sessionId}|${s.line ?? s.seq}`
      const cur = out.get(key) ?? {rank: -1, rules: []}
      cur.rank = Math.max(cur.rank, SEVERITY_RANK[f.severity])
      cur.rules.push(`${f.ruleId}:${f.severity}`)
      out.set(key, cur)
    }
  }
  return out
}

interface Row {
  era: Era
  source: string
  channel: Channel
  category: string
  attacks: number
  medium: number
  low: number
  benign: number
  flagged: number
}

async function main(): Promise<void> {
  const dir = dataDir(opts.data)
  if (opts.split !== 'test' && opts.split !== 'train') throw new Error('--split is test or train')
  const cases = [...bipiaCases(dir, opts.split), ...clawCases(dir)]
  const out = opts.out ?? mkdtempSync(path.join(os.tmpdir(), 'ir-detection-bench-'))
  const rules = await loadRules([])
  const rows = new Map<string, Row>()
  const misses: string[] = []
  try {
    for (const era of ['jsonl', 'sqlite'] as Era[]) {
      const root = path.join(out, era)
      rmSync(root, {recursive: true, force: true})
      const placed = write(era, root, cases)
      const started = performance.now()
      const result = await scanPaths([root], {rules})
      const seconds = (performance.now() - started) / 1000
      if (!opts.json)
        console.error(`${era}: ${placed.length} probes, ${result.findings.length} findings, ${seconds.toFixed(2)} s`)
      const worst = worstByEvent(result.findings)
      for (const p of placed) {
        const {probe} = p
        const k = `${era}|${probe.source}|${probe.channel}|${probe.category}|${probe.attack}`
        const row =
          rows.get(k) ??
          ({
            era,
            source: probe.source,
            channel: probe.channel,
            category: probe.category,
            attacks: 0,
            medium: 0,
            low: 0,
            benign: 0,
            flagged: 0,
          } satisfies Row)
        rows.set(k, row)
        const w = worst.get(p.key)
        const rank = w?.rank ?? -1
        if (probe.attack) {
          row.attacks++
          if (rank >= SEVERITY_RANK.medium) row.medium++
          if (rank >= SEVERITY_RANK.low) row.low++
          else if (era === 'jsonl')
            misses.push(`MISS ${probe.source} ${probe.channel} ${probe.category}: ${oneLine(p.text)}`)
        } else {
          row.benign++
          if (rank > SEVERITY_RANK.info) {
            row.flagged++
            if (era === 'jsonl')
              misses.push(`FP ${probe.source} ${probe.channel} ${w!.rules.join(',')}: ${oneLine(p.text)}`)
          }
        }
      }
    }
  } finally {
    if (!opts.out) rmSync(out, {recursive: true, force: true})
  }
  const all = [...rows.values()]
  if (opts.json) console.log(JSON.stringify(all, null, 2))
  else console.log(table(all))
  const shown = Number(opts.misses)
  for (const m of misses.slice(0, shown)) console.error(m)
}

const oneLine = (t: string) => t.replace(/\s+/g, ' ').slice(0, 160)
const pct = (a: number, n: number) => (n === 0 ? '–' : `${((100 * a) / n).toFixed(1)}%`)

/** Markdown: totals per channel (both eras must agree), then per category, from the JSONL era. */
function table(rows: Row[]): string {
  const sum = (rs: Row[]) =>
    rs.reduce(
      (a, r) => ({
        attacks: a.attacks + r.attacks,
        medium: a.medium + r.medium,
        low: a.low + r.low,
        benign: a.benign + r.benign,
        flagged: a.flagged + r.flagged,
      }),
      {attacks: 0, medium: 0, low: 0, benign: 0, flagged: 0},
    )
  const lines = [
    '| era | channel | attacks | found ≥ medium | found ≥ low | benign | benign flagged > info |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const era of ['jsonl', 'sqlite'] as Era[])
    for (const ch of ['toolResult', 'message', 'toolCall'] as Channel[]) {
      const s = sum(rows.filter((r) => r.era === era && r.channel === ch))
      lines.push(
        `| ${era} | ${ch} | ${s.attacks} | ${pct(s.medium, s.attacks)} | ${pct(s.low, s.attacks)} | ${s.benign} | ${pct(s.flagged, s.benign)} |`,
      )
    }
  lines.push(
    '',
    '| source | channel | category | attacks | found ≥ medium | found ≥ low |',
    '|---|---|---|---|---|---|',
  )
  for (const r of rows
    .filter((x) => x.era === 'jsonl' && x.attacks > 0)
    .sort(
      (a, b) =>
        a.source.localeCompare(b.source) || a.channel.localeCompare(b.channel) || a.category.localeCompare(b.category),
    ))
    lines.push(
      `| ${r.source} | ${r.channel} | ${r.category} | ${r.attacks} | ${pct(r.medium, r.attacks)} | ${pct(r.low, r.attacks)} |`,
    )
  lines.push('', '| source | channel | benign category | benign | flagged > info |', '|---|---|---|---|---|')
  for (const r of rows
    .filter((x) => x.era === 'jsonl' && x.benign > 0)
    .sort(
      (a, b) =>
        a.source.localeCompare(b.source) || a.channel.localeCompare(b.channel) || a.category.localeCompare(b.category),
    ))
    lines.push(`| ${r.source} | ${r.channel} | ${r.category} | ${r.benign} | ${pct(r.flagged, r.benign)} |`)
  return lines.join('\n')
}

void main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
