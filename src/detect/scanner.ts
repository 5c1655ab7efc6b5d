import {isUtf8} from 'node:buffer'
import path from 'node:path'
import {StringDecoder} from 'node:string_decoder'

import Database from 'better-sqlite3'
import {decompress as zstdDecompress} from 'fzstd'

import {errorMessage} from '../errors.js'
import {Correlator} from './correlate.js'
import {Engine, TAG_ENVELOPE, TAG_TOOLCALL, TAG_UNTRUSTED, TAG_USER, kindMarkersNeeded} from './rule-engine.js'
import type {Prefilter} from './prefilter.js'
import {UNTRUSTED_TOOLS, inferFromRaw, normalizeRecord, unescapeJsonText} from './events.js'
import {mergeCopies} from './merge.js'
import type {RuleSet} from './rules.js'
import {SEVERITY_RANK} from './finding-types.js'
import type {EventLocation, Finding, ScanEvent, ScanResult, SkippedItem, SourceRef} from './finding-types.js'

export interface ScannerOptions {
  /** Lines longer than this are scanned in windows, never parsed whole (default 8 MiB). */
  maxLineBytes?: number
}

export interface Scanner {
  /** JSON-lines bytes (transcripts, gateway logs, config-audit) in any chunking; memory stays flat. */
  scanJsonl(chunks: AsyncIterable<Uint8Array>, source: SourceRef): Promise<void>
  /** Same as scanJsonl: each line's shape decides whether it is a log, config or transcript record. */
  scanLogLines(chunks: AsyncIterable<Uint8Array>, source: SourceRef): Promise<void>
  /** An OpenClaw SQLite store (per-agent transcripts or the shared state DB), opened read-only. */
  scanSqliteStore(dbPath: string, source: SourceRef): Promise<void>
  /** Record an input that was not (fully) scanned. */
  skip(path: string, reason: string): void
  /** Close every session (runs correlation) and return the result. Call once. */
  finish(): ScanResult
}

const WINDOW_OVERLAP = 2048
/** How much of a user message is kept to tell whether the owner asked for a later tool call. */
const TURN_HEAD_BYTES = 8192
const JUNCTION = 256
/** Page cache of the scan's read-only connection to a store (KiB). */
const SCAN_CACHE_KIB = 2000

/** Per-stream state: one file, or one SQLite table walk. */
interface Stream {
  source: SourceRef
  /** Correlation session key. */
  key: string
  sessionId?: string
  agentId?: string
  line: number
  badJson: number[]
  badJsonCount: number
  badUtf8: number[]
  badUtf8Count: number
}

export function createScanner(rules: RuleSet, opts: ScannerOptions = {}): Scanner {
  return new StreamScanner(rules, opts)
}

/** What one scanner found since its last `drain()`: every session of it closed (findings final, unsorted). */
export interface ScanPart {
  findings: Finding[]
  skipped: SkippedItem[]
  files: number
  events: number
  bytes: number
}

export class StreamScanner implements Scanner {
  private correlator = new Correlator()
  private skipped: SkippedItem[] = []
  private readonly maxLine: number
  private files = 0
  private events = 0
  private bytes = 0
  /** Built on first use: a scanner that only merges the parts of worker threads needs none of it. */
  private kit?: {
    engine: Engine
    /**
     * Candidate rules of the line or row being looked at (reused: filled by one prefilter pass), a spare, and one for
     * windows.
     */
    marks: LineMarks
    spare: LineMarks
    probe: LineMarks
  }

  constructor(
    private readonly rules: RuleSet,
    opts: ScannerOptions,
  ) {
    this.maxLine = opts.maxLineBytes ?? 8 << 20
    for (const r of rules.rejected) this.skipped.push(r)
  }

  private get tools(): NonNullable<StreamScanner['kit']> {
    if (!this.kit) {
      const engine = new Engine(this.rules)
      const gates = engine.rules.map((r) => r.rawGate)
      const needs = engine.rules.map(kindMarkersNeeded)
      this.kit = {
        engine,
        marks: new LineMarks(gates, needs, engine.markSize),
        spare: new LineMarks(gates, needs, engine.markSize),
        probe: new LineMarks(gates, needs, engine.markSize),
      }
    }
    return this.kit
  }

  private get engine(): Engine {
    return this.tools.engine
  }

  private get prefilter(): Engine['prefilter'] {
    return this.tools.engine.prefilter
  }

  /**
   * Findings, skips and counters since the last drain (parallel scans: a worker drains after each
   * input). Call between inputs only: every session is closed by then.
   */
  drain(): ScanPart {
    this.correlator.closeAll()
    const part: ScanPart = {
      findings: this.correlator.findings(),
      skipped: this.skipped,
      files: this.files,
      events: this.events,
      bytes: this.bytes,
    }
    this.correlator = new Correlator()
    this.skipped = []
    this.files = this.events = this.bytes = 0
    return part
  }

  /** Add a part drained from another scanner (same rules), in input order. */
  absorb(part: ScanPart): void {
    this.correlator.adopt(part.findings)
    for (const s of part.skipped) this.skipped.push(s)
    this.files += part.files
    this.events += part.events
    this.bytes += part.bytes
  }

  skip(p: string, reason: string): void {
    this.skipped.push({path: p, reason})
  }

  scanLogLines(chunks: AsyncIterable<Uint8Array>, source: SourceRef): Promise<void> {
    return this.scanJsonl(chunks, source)
  }

  async scanJsonl(chunks: AsyncIterable<Uint8Array>, source: SourceRef): Promise<void> {
    const st: Stream = {
      source,
      key: `file:${source.rel ?? source.file}`,
      sessionId: source.sessionId,
      agentId: source.agentId,
      line: 1,
      badJson: [],
      badJsonCount: 0,
      badUtf8: [],
      badUtf8Count: 0,
    }
    this.files++
    this.correlator.open(st.key, 'line')
    let pending: Buffer[] = []
    let pendingLen = 0
    let big: BigLine | undefined
    let total = 0
    try {
      for await (const c of chunks) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength)
        total += chunk.length
        this.bytes += chunk.length
        let pos = 0
        if (big || pendingLen > 0) {
          const nl = chunk.indexOf(10)
          const head = nl < 0 ? chunk : chunk.subarray(0, nl)
          if (!big && pendingLen + head.length > this.maxLine) {
            big = new BigLine(this, st, pending)
            pending = []
            pendingLen = 0
          }
          if (big) big.feed(head)
          else {
            pending.push(nl < 0 ? Buffer.from(head) : head)
            pendingLen += head.length
          }
          if (nl < 0) continue
          if (big) big.end()
          else this.line(st, Buffer.concat(pending, pendingLen), 0, pendingLen, false)
          this.events++
          big = undefined
          pending = []
          pendingLen = 0
          st.line++
          pos = nl + 1
        }
        const lastNl = chunk.lastIndexOf(10)
        if (lastNl >= pos) {
          this.region(st, chunk, pos, lastNl + 1)
          pos = lastNl + 1
        }
        if (pos < chunk.length) {
          // copied: the caller (collect) may reuse its buffers once we return
          const rest = Buffer.from(chunk.subarray(pos))
          if (rest.length > this.maxLine) {
            big = new BigLine(this, st, [rest])
          } else {
            pending.push(rest)
            pendingLen += rest.length
          }
        }
      }
      if (big) {
        big.end()
        this.events++
        this.skip(
          source.file,
          `truncated last line ${st.line} (no newline; a writer may still be appending): scanned as raw text`,
        )
      } else if (pendingLen > 0) {
        const last = Buffer.concat(pending, pendingLen)
        this.events++
        if (!this.line(st, last, 0, last.length, true)) {
          this.skip(
            source.file,
            `truncated last line ${st.line} (no newline, not valid JSON; a writer may still be appending): scanned as raw text`,
          )
        }
      }
      if (total === 0) this.skip(source.file, 'empty file')
    } finally {
      this.reportLineProblems(st)
      this.correlator.close(st.key)
    }
  }

  /**
   * Complete lines buf[start, end) (end is just past a newline) in one prefilter pass: each
   * keyword occurrence marks its rule for the line it is on; a line with a marked rule is parsed
   * (its marks are the candidate rules), any other line costs nothing beyond the pass. Context
   * markers (tool call, untrusted content) are noted for every line they are on, without parsing.
   */
  private region(st: Stream, buf: Buffer, start: number, end: number): void {
    const pf = this.prefilter
    const firstLine = st.line
    if (!isUtf8(buf.subarray(start, end))) this.findBadUtf8(st, buf, start, end)
    let counted = start
    let p = start
    if (st.line === 1 && start === 0) {
      // line 1 holds a transcript's session header: always parsed
      const le = buf.indexOf(10, 0)
      this.line(st, buf, 0, le, false)
      st.line++
      counted = p = le + 1
    }
    // the line being collected, and a spare for the next one: a new line's hits are taken before
    // the previous line is parsed (parsing may run the prefilter again)
    let {marks, spare} = this.tools
    // envelope keys and raw gates are written for transcript JSON; logs hold console text and keys as text
    const json = st.source.kind === 'transcript'
    marks.reset()
    let ls = -1
    let le = -1
    const head = () => buf.toString('utf8', ls, Math.min(le < 0 ? end : le, ls + TURN_HEAD_BYTES))
    pf.each(buf, p, end, (at) => {
      if (at <= le) {
        this.context(st.key, st.line, marks.take(pf, buf, json), head)
        return
      }
      spare.reset()
      const seen = spare.take(pf, buf, json)
      if (marks.settle()) this.line(st, buf, ls, le, false, marks.rules)
      ;[marks, spare] = [spare, marks]
      ls = at === 0 ? 0 : Math.max(start, buf.lastIndexOf(10, at - 1) + 1)
      le = buf.indexOf(10, at)
      st.line += countNewlines(buf, counted, ls)
      counted = ls
      this.context(st.key, st.line, seen, head)
    })
    if (marks.settle()) this.line(st, buf, ls, le, false, marks.rules)
    st.line += countNewlines(buf, counted, end)
    this.events += st.line - firstLine
  }

  /**
   * Context markers seen for the first time on a line or row: noted without parsing it. `head`
   * gives the start of the record (a user message's: what the owner asked for).
   */
  private context(key: string, order: number, seen: number, head: () => string): void {
    if (seen & -TAG_USER) this.correlator.turn(key, order, head())
    if (seen & -TAG_TOOLCALL) this.correlator.toolCall(key, order)
    if (seen & -TAG_UNTRUSTED) this.correlator.untrusted(key, order)
  }

  /**
   * One complete record. Returns false if it was not JSON (then it is scanned as raw text). The
   * line number is `st.line`.
   */
  line(st: Stream, buf: Buffer, s: number, e: number, last: boolean, marks?: Uint8Array): boolean {
    let end = e
    if (end > s && buf[end - 1] === 13) end--
    if (end <= s) return true
    const text = buf.toString('utf8', s, end)
    const candidates = marks ?? this.engine.candidates(buf, s, end)
    let rec: unknown
    try {
      rec = JSON.parse(text)
    } catch {
      // console-format logs (gateway.log) are plain text by design: not a problem to report
      if (!last && st.source.kind !== 'log') {
        st.badJsonCount++
        if (st.badJson.length < 5) st.badJson.push(st.line)
      }
      this.raw(st, keyBlock(text, buf, end) ?? text, st.line)
      return false
    }
    const n = normalizeRecord(rec)
    if (n.sessionId && !st.sessionId) st.sessionId = n.sessionId
    const loc: EventLocation = {
      source: st.source,
      line: st.line,
      sessionId: n.recordSessionId ?? st.sessionId,
      agentId: n.recordAgentId ?? st.agentId,
    }
    for (const ev of n.events) this.handle(st.key, ev, loc, st.line, candidates, n.events.length === 1)
    return true
  }

  /** Text that could not be parsed: rules of the kind its head suggests, on JSON-unescaped text. */
  raw(st: Stream, text: string, line: number, head = text.slice(0, 65536)): void {
    const guess = inferFromRaw(head)
    const ev: ScanEvent = {...guess, text: unescapeJsonText(text)}
    if (
      guess.kind === 'toolResult' &&
      (/external_untrusted_content/i.test(head) || (guess.toolName && UNTRUSTED_TOOLS.has(guess.toolName)))
    )
      ev.untrusted = true
    this.handle(st.key, ev, {source: st.source, line, sessionId: st.sessionId, agentId: st.agentId}, line)
  }

  /** `whole`: the event is the only one of its line or row (its candidates are its own). */
  private handle(
    key: string,
    ev: ScanEvent,
    loc: EventLocation,
    order: number,
    candidates?: Uint8Array,
    whole = false,
  ): void {
    if (ev.kind === 'user' && ev.role === 'user') this.correlator.turn(key, order, ev.text.slice(0, TURN_HEAD_BYTES))
    if (ev.kind === 'toolCall') this.correlator.toolCall(key, order)
    if (ev.untrusted) this.correlator.untrusted(key, order)
    for (const hit of this.engine.match(ev, candidates, 0, whole))
      this.correlator.add(key, this.engine.toFinding(hit, ev, loc), order, ev)
  }

  /**
   * Whether a rule keyword occurs in these bytes (windows of long lines; `json`: of a transcript), or in a decoded
   * task text.
   */
  hasHit(buf: Uint8Array, json: boolean): boolean {
    const marks = this.tools.probe
    marks.reset()
    const b = asBuffer(buf)
    this.prefilter.each(buf, 0, buf.length, () => {
      marks.take(this.prefilter, b, json)
      return marks.any
    })
    return marks.any
  }

  private findBadUtf8(st: Stream, buf: Buffer, start: number, end: number): void {
    let line = st.line
    let p = start
    while (p < end) {
      const le = buf.indexOf(10, p)
      const stop = le < 0 || le >= end ? end : le
      if (!isUtf8(buf.subarray(p, stop))) {
        st.badUtf8Count++
        if (st.badUtf8.length < 5) st.badUtf8.push(line)
      }
      line++
      p = stop + 1
    }
  }

  private reportLineProblems(st: Stream): void {
    const list = (lines: number[], count: number) =>
      `line${count > 1 ? 's' : ''} ${lines.join(', ')}${count > lines.length ? ` and ${count - lines.length} more` : ''}`
    if (st.badJsonCount > 0) {
      this.skip(
        st.source.file,
        `${st.badJsonCount} line(s) not valid JSON (${list(st.badJson, st.badJsonCount)}): scanned as raw text`,
      )
    }
    if (st.badUtf8Count > 0) {
      this.skip(
        st.source.file,
        `invalid UTF-8 on ${list(st.badUtf8, st.badUtf8Count)}: decoded with U+FFFD replacement`,
      )
    }
  }

  async scanSqliteStore(dbPath: string, source: SourceRef): Promise<void> {
    let db: Database.Database
    try {
      // short busy timeout: a store locked by a running gateway is reported, not waited on
      db = new Database(dbPath, {readonly: true, fileMustExist: true, timeout: 1000})
      // rows are read once, in order: better-sqlite3's 16 MB page cache only added to the peak memory
      db.pragma(`cache_size = -${SCAN_CACHE_KIB}`)
    } catch (err) {
      this.skip(source.file, `cannot open SQLite store: ${sqliteReason(err)}`)
      return
    }
    try {
      const tables = new Set(
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{name: string}>).map(
          (r) => r.name,
        ),
      )
      this.files++
      let scanned = false
      if (tables.has('transcript_events')) {
        this.transcriptRows(db, source, tables.has('session_windows'))
        scanned = true
      }
      if (tables.has('task_runs')) {
        this.taskRuns(db, source)
        scanned = true
      }
      if (!scanned) this.skip(source.file, 'SQLite store has neither transcript_events nor task_runs: nothing to scan')
    } catch (err) {
      this.skip(source.file, `SQLite store not (fully) read: ${sqliteReason(err)}`)
    } finally {
      db.close()
    }
  }

  private transcriptRows(db: Database.Database, source: SourceRef, hasWindows: boolean): void {
    const keys = new Map<string, string>()
    if (hasWindows) {
      for (const r of db.prepare('SELECT session_id, session_key FROM session_windows').iterate() as Iterable<{
        session_id: string
        session_key: string
      }>) {
        keys.set(r.session_id, r.session_key)
      }
    }
    const agentId = source.agentId ?? agentFromPath(source.file)
    // rows as arrays, JSON as strings: a Buffer per row costs more than the rest of reading it
    const stmt = db
      .prepare('SELECT session_id, seq, event_json, event_zstd FROM transcript_events ORDER BY session_id, seq')
      .raw(true)
    let current: string | undefined
    let key = ''
    let loc: EventLocation = {source}
    const st: Stream = {source, key, line: 0, badJson: [], badJsonCount: 0, badUtf8: [], badUtf8Count: 0}
    try {
      for (const [s, q, j, z] of stmt.iterate() as Iterable<[string, number, string | Buffer | null, Buffer | null]>) {
        if (s !== current) {
          if (current !== undefined) this.correlator.close(key)
          current = s
          key = `db:${source.rel ?? source.file}|${s}`
          this.correlator.open(key, 'seq')
          loc = {source, store: source.file, table: 'transcript_events', sessionId: s, sessionKey: keys.get(s), agentId}
        }
        let text: string
        try {
          text = typeof j === 'string' ? j : (j ?? (z ? asBuffer(zstdDecompress(z)) : Buffer.alloc(0))).toString('utf8')
        } catch (err) {
          this.skip(source.file, `session ${s} seq ${q}: event_zstd does not decompress (${errorMessage(err)})`)
          continue
        }
        this.events++
        this.row(key, text, loc, Number(q), st)
      }
    } finally {
      if (current !== undefined) this.correlator.close(key)
    }
    this.reportLineProblems(st)
  }

  /** One SQLite row holding one transcript entry: prefilter on its bytes, parse on a hit. */
  private row(key: string, text: string, rowLoc: EventLocation, order: number, st: Stream): void {
    const pf = this.prefilter
    const marks = this.tools.marks
    marks.reset()
    this.bytes += pf.eachUtf8(text, (_at, bytes) => {
      this.context(key, order, marks.take(pf, bytes, true), () => text.slice(0, TURN_HEAD_BYTES))
    })
    if (!marks.settle()) return
    const loc: EventLocation = {...rowLoc, seq: order}
    const candidates = marks.rules
    let rec: unknown
    try {
      rec = JSON.parse(text)
    } catch {
      st.badJsonCount++
      if (st.badJson.length < 5) st.badJson.push(order)
      const ev: ScanEvent = {...inferFromRaw(text.slice(0, 65536)), text: unescapeJsonText(text)}
      this.handle(key, ev, loc, order)
      return
    }
    const n = normalizeRecord(rec)
    for (const ev of n.events) this.handle(key, ev, loc, order, candidates, n.events.length === 1)
  }

  /** state/openclaw.sqlite `task_runs`: the task text is the unredacted prompt (openclaw-live.md §8). */
  private taskRuns(db: Database.Database, source: SourceRef): void {
    const stmt = db.prepare(
      'SELECT rowid AS r, task_id, requester_session_key AS k, agent_id AS a, task, label, progress_summary AS p, terminal_summary AS t, error, created_at FROM task_runs ORDER BY rowid',
    )
    const key = `db:${source.rel ?? source.file}|task_runs`
    this.correlator.open(key, 'seq')
    try {
      for (const r of stmt.iterate() as Iterable<Record<string, unknown>>) {
        this.events++
        const text = ['task', 'label', 'p', 't', 'error']
          .map((k) => r[k])
          .filter((v): v is string => typeof v === 'string' && v.length > 0)
          .join('\n')
        this.bytes += text.length
        if (!this.hasHit(Buffer.from(text, 'utf8'), false)) continue
        const ev: ScanEvent = {
          kind: 'user',
          role: 'task',
          text,
          eventId: typeof r.task_id === 'string' ? r.task_id : undefined,
        }
        if (typeof r.created_at === 'number') ev.timestamp = new Date(r.created_at).toISOString()
        const seq = Number(r.r)
        const loc: EventLocation = {
          source,
          store: source.file,
          table: 'task_runs',
          seq,
          sessionKey: typeof r.k === 'string' ? r.k : undefined,
          agentId: typeof r.a === 'string' ? r.a : source.agentId,
        }
        this.handle(key, ev, loc, seq)
      }
    } finally {
      this.correlator.close(key)
    }
  }

  finish(): ScanResult {
    this.correlator.closeAll()
    const findings = sortFindings(mergeCopies(this.correlator.findings()))
    return {scanned: {files: this.files, events: this.events, bytes: this.bytes, skipped: this.skipped}, findings}
  }
}

/**
 * A line too long to parse: its head says which event it is, its body is scanned in decoded
 * windows (with overlap) as it streams by. Memory: one chunk plus the overlap.
 */
class BigLine {
  private readonly decoder = new StringDecoder('utf8')
  private head = ''
  private tail = ''
  private junction: Buffer = Buffer.alloc(0)
  private readonly lineNo: number

  constructor(
    private readonly scanner: StreamScanner,
    private readonly st: Stream,
    first: Buffer[],
  ) {
    this.lineNo = st.line
    for (const b of first) this.feed(b)
  }

  feed(piece: Buffer): void {
    if (this.head.length < 65536) this.head += piece.subarray(0, 65536 - this.head.length).toString('latin1')
    const junction = Buffer.concat([this.junction, piece.subarray(0, JUNCTION)])
    const json = this.st.source.kind === 'transcript'
    const hit = this.scanner.hasHit(piece, json) || this.scanner.hasHit(junction, json)
    this.junction = Buffer.from(piece.subarray(Math.max(0, piece.length - JUNCTION)))
    const text = this.decoder.write(piece)
    if (hit) this.scanner.raw(this.st, this.tail + text, this.lineNo, this.head)
    this.tail = text.slice(-WINDOW_OVERLAP)
  }

  end(): void {
    const rest = this.decoder.end()
    if (rest) this.scanner.raw(this.st, this.tail + rest, this.lineNo, this.head)
  }
}

/**
 * What the prefilter saw on one line or row: the rules whose keywords occur (the only candidates)
 * and the context markers. A keyword wholly inside a record key of ENVELOPE_KEYS does not count,
 * nor one whose rule's raw gate does not hold after it; `settle` drops the rules that need a
 * kind marker the line lacks.
 */
class LineMarks {
  readonly rules: Uint8Array
  /** Some rule is marked (`rules` is only cleared when the first one is). */
  any = false
  private context = 0
  private envelopeEnd = -1
  /** Rules that apply only where a kind marker is: [rule index, marker bits]. */
  private readonly needing: Array<[number, number]>

  /**
   * By rule index: gates, the rule's raw gate (tried right after each keyword occurrence), if
   * any; needs, the kind-marker bits one of which the line must have for the rule to apply.
   */
  /** Marks of the rules (by index), then of the patterns with keywords of their own (the engine's slots, to `size`). */
  private readonly ruleCount: number
  /** Some pattern slot is marked (the slots are only cleared when the first one is). */
  private slotsMarked = false

  constructor(
    private readonly gates: ReadonlyArray<RegExp | undefined>,
    needs: readonly number[],
    size = gates.length,
  ) {
    this.ruleCount = gates.length
    this.rules = new Uint8Array(size)
    this.needing = needs.flatMap((bits, i): Array<[number, number]> => (bits ? [[i, bits]] : []))
  }

  /** Drop the rules whose kind cannot occur on this line; returns whether any rule is left. */
  settle(): boolean {
    if (!this.any) return false
    if (!this.slotsMarked) this.rules.fill(0, this.ruleCount)
    let dropped = false
    for (const [i, bits] of this.needing) {
      if (this.rules[i] === 1 && (this.context & bits) === 0) {
        this.rules[i] = 0
        dropped = true
      }
    }
    if (dropped) this.any = this.rules.subarray(0, this.ruleCount).includes(1)
    return this.any
  }

  reset(): void {
    this.any = false
    this.slotsMarked = false
    this.context = 0
    this.envelopeEnd = -1
  }

  /**
   * Add the prefilter's hits (in buf) at its last position; returns the context markers new to
   * this line (bits of -tag). `json`: buf holds transcript JSON, whose record keys and escapes the
   * envelope keys and raw gates are written for (not decoded text, not console or log lines).
   */
  take(pf: Prefilter, buf: Buffer, json: boolean): number {
    let fresh = 0
    // envelope keys first: one may be reported at the same position as a keyword inside it
    if (json) {
      for (let t = 0, n = pf.count; t < n; t++) {
        if (pf.tags[t] === TAG_ENVELOPE) this.envelopeEnd = Math.max(this.envelopeEnd, pf.starts[t]! + pf.lengths[t]!)
      }
    }
    for (let t = 0, n = pf.count; t < n; t++) {
      const tag = pf.tags[t]!
      if (tag >= 0) {
        const end = pf.starts[t]! + pf.lengths[t]!
        if (end <= this.envelopeEnd) continue
        if (tag >= this.ruleCount) {
          if (!this.slotsMarked) {
            this.rules.fill(0, this.ruleCount)
            this.slotsMarked = true
          }
          this.rules[tag] = 1
          continue
        }
        const gate = json ? this.gates[tag] : undefined
        if (gate && !(this.any && this.rules[tag] === 1)) {
          gate.lastIndex = 0
          if (!gate.test(buf.toString('latin1', end, Math.min(buf.length, end + RAW_GATE_WINDOW)))) continue
        }
        if (!this.any) {
          this.rules.fill(0, 0, this.ruleCount)
          this.any = true
        }
        this.rules[tag] = 1
      } else if (tag !== TAG_ENVELOPE && (this.context & -tag) === 0) {
        this.context |= -tag
        fresh |= -tag
      }
    }
    return fresh
  }
}

/** A private key's armour header alone on its line (PEM, OpenSSH, PGP): its body follows on the next lines. */
const KEY_HEADER = /^\s*-----BEGIN [A-Z0-9 _-]{0,100}PRIVATE KEY(?: BLOCK)?-----\s*$/
const KEY_FOOTER = /^-----END [A-Z0-9 _-]{0,100}PRIVATE KEY(?: BLOCK)?-----/
/** A key block longer than this (an RSA-8192 key is about 6.5 KB) is not joined. */
const MAX_KEY_BLOCK = 16 << 10

/**
 * Plain text holds a key over many lines, and only its header line has a keyword: the header
 * line, with the lines after it up to the footer (in the same read buffer), is one event.
 */
function keyBlock(header: string, buf: Buffer, headerEnd: number): string | undefined {
  if (!KEY_HEADER.test(header)) return undefined
  const limit = Math.min(buf.length, headerEnd + MAX_KEY_BLOCK)
  const at = buf.indexOf('-----END ', headerEnd)
  if (at < 0 || at >= limit) return undefined
  const eol = buf.indexOf(10, at)
  const footer = buf.toString('latin1', at, eol < 0 || eol > limit ? limit : eol)
  if (!KEY_FOOTER.test(footer)) return undefined
  return `${header}${buf.toString('utf8', headerEnd, at)}${footer}`
}

/** Raw bytes after a keyword that a rule's raw gate sees (its match is shorter: escapes at most double it). */
const RAW_GATE_WINDOW = 256

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0
  let p = from
  while (p < to) {
    const i = buf.indexOf(10, p)
    if (i < 0 || i >= to) break
    n++
    p = i + 1
  }
  return n
}

function agentFromPath(p: string): string | undefined {
  const parts = p.split(path.sep)
  const i = parts.lastIndexOf('agents')
  return i >= 0 && parts[i + 2] === 'agent' ? parts[i + 1] : undefined
}

function sqliteReason(err: unknown): string {
  const code = (err as {code?: string}).code
  const msg = errorMessage(err)
  if (code === 'SQLITE_NOTADB' || /not a database/i.test(msg)) return 'not a SQLite database'
  if (code === 'SQLITE_BUSY' || /locked/i.test(msg))
    return 'database is locked (copy it with the online backup API, or stop the gateway, and rescan)'
  if (code === 'SQLITE_CORRUPT' || /malformed|corrupt/i.test(msg)) return `database is corrupt (${msg})`
  if (code === 'SQLITE_CANTOPEN') return `cannot open (${msg})`
  return code ? `${code}: ${msg}` : msg
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      (a.source.store ?? a.source.file).localeCompare(b.source.store ?? b.source.file) ||
      (a.source.sessionId ?? '').localeCompare(b.source.sessionId ?? '') ||
      (a.source.line ?? a.source.seq ?? 0) - (b.source.line ?? b.source.seq ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  )
}
