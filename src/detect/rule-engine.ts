import {createHash} from 'node:crypto'

import {resolveSinks} from './decode-run.js'
import {entropy, maskHighEntropyTokens, maskRuleMatches, maskSecret, revealInvisible, shortHash} from './mask.js'
import {UNTRUSTED_TOOLS} from './events.js'
import {Prefilter} from './prefilter.js'
import {strayTaskLines} from './stray-task.js'
import type {PrefilterKeyword} from './prefilter.js'
import {rawForms} from './rules.js'
import type {CompiledRule, RuleSet} from './rules.js'
import {SEVERITY_RANK} from './finding-types.js'
import type {EventKind, EventLocation, Finding, ScanEvent, Severity} from './finding-types.js'

/** One rule match inside one event's text, before it becomes a Finding. */
export interface RuleHit {
  rule: CompiledRule
  severity: Severity
  title: string
  /** The text the match is in (the event's, or a decoded payload inside it). */
  text: string
  index: number
  length: number
  matched: string
  secret?: string
  secretEntropy?: number
  tags: string[]
  /** Shown after the context in the excerpt (what a decode-and-run payload decodes to). */
  note?: string
}

/**
 * Prefilter tags: a rule's index (≥ 0) for its keywords; negative for context markers the correlation needs without
 * parsing.
 */
export const TAG_TOOLCALL = -1
export const TAG_UNTRUSTED = -2
/** A user message (a turn starts): its head is kept to tell what the owner asked for. */
export const TAG_USER = -32
/** Tag of the record keys below: a rule keyword wholly inside one is not a hit. */
export const TAG_ENVELOPE = -4
/** Markers without which a line holds no tool call / no config-audit record (KIND_MARKERS). */
export const TAG_KIND_TOOLCALL = -8
export const TAG_KIND_CONFIG = -16

/** Raw-byte markers (lower-cased) of context the correlation needs from lines no rule hits. */
export const CONTEXT_MARKERS: PrefilterKeyword[] = [
  {bytes: '"type":"toolcall"', tag: TAG_TOOLCALL},
  {bytes: 'external_untrusted_content', tag: TAG_UNTRUSTED},
  ...[...UNTRUSTED_TOOLS].map((t) => ({bytes: `"toolname":"${t}"`, tag: TAG_UNTRUSTED})),
  {bytes: '"senderisowner":false', tag: TAG_UNTRUSTED},
  {bytes: '"role":"user"', tag: TAG_USER},
]

/**
 * A toolCall event comes only from a `"toolCall"` string (a content block's type) and a config
 * event only from a config-audit record (`"config.write"`, `"config-io"`), spaces or not: a line
 * without the marker is not parsed for rules that apply only to those kinds.
 */
export const KIND_MARKERS: PrefilterKeyword[] = [
  {bytes: '"toolcall"', tag: TAG_KIND_TOOLCALL},
  {bytes: '"config.write"', tag: TAG_KIND_CONFIG},
  {bytes: '"config-io"', tag: TAG_KIND_CONFIG},
]

/**
 * The marker bits (of -tag) a rule needs: one of them must be on a line for the rule to apply (0:
 * none needed) — a kind marker, or an untrusted tool's name for a rule only about their results.
 */
export function kindMarkersNeeded(rule: CompiledRule): number {
  // a rule only for the results of untrusted tools needs one of their names on the line
  const onlyUntrustedResults =
    rule.kinds?.size === 1 &&
    rule.kinds.has('toolResult') &&
    rule.tools &&
    [...rule.tools].every((t) => UNTRUSTED_TOOLS.has(t))
  if (onlyUntrustedResults) return -TAG_UNTRUSTED
  if (!rule.kinds || [...rule.kinds].some((k) => k !== 'toolCall' && k !== 'config')) return 0
  return (rule.kinds.has('toolCall') ? -TAG_KIND_TOOLCALL : 0) | (rule.kinds.has('config') ? -TAG_KIND_CONFIG : 0)
}

/**
 * Keys of OpenClaw's transcript records that contain a rule keyword (`api`, `token`, `key`) and
 * are on every assistant line: their values (API name, token counts, a UUID) are never scanned
 * text, so a keyword inside them must not make the line a candidate. Unescaped, so the same
 * bytes inside a message's text (`\"api\":`) still count.
 */
export const ENVELOPE_KEYS: PrefilterKeyword[] = [
  '"api":"',
  '"modelapi":"',
  '"totaltokens":',
  '"idempotencykey":"',
].map((bytes) => ({bytes, tag: TAG_ENVELOPE, anchorAtStart: true}))

/** Tag of a request (`request: true` rule) in a message that asks for nothing harmful: reported at info. */
export const REQUEST_ONLY = 'request-only'
/** Tags of a decode-and-run sink (`decode-run` detector): what its payload decodes to, read statically. */
export const DECODED_HARMLESS = 'decoded:harmless'
export const DECODED_DANGEROUS = 'decoded:dangerous'
/** The sink reads a file the text never wrote: judged by its words alone. */
export const DECODED_UNSEEN = 'decoded:unseen'
/** The payload decodes to bytes that are not text, none of it a dangerous command: judged by its words alone. */
export const DECODED_GARBLED = 'decoded:garbled'
/** `script:F`: a file the message wrote that holds the sink; `runs:F`: a script a request runs (correlation). */
export const SCRIPT_TAG = 'script:'
export const RUNS_TAG = 'runs:'
/** `bash ~/x.sh`, `sh x.sh`, `source x.sh`, `./x.sh`: a script a message asks to run. */
const RUNS_SCRIPT =
  /(?:\b(?:ba|z|da)?sh\s+|\bsource\s+|(?<![\w/])\.\s+|(?<![\w.])(?=\.\/))["']?((?:~|\$HOME)?[\w./-]{1,200}\.sh)\b/g

const MAX_HITS_PER_RULE = 10
const DECODE_DEPTH = 2
const DECODED_CATEGORIES = new Set([
  'prompt-injection',
  'dangerous-exec',
  'exfiltration',
  'credential-access',
  'persistence',
  'evasion',
  'config-tampering',
])
const SEVERITY_BY_RANK: Severity[] = ['info', 'low', 'medium', 'high', 'critical']

/** OpenClaw's own warning around wrapped external content says "ignore your guidelines": not an attack. */
const OPENCLAW_BOILERPLATE =
  /SECURITY NOTICE: The following content is from an EXTERNAL, UNTRUSTED source[\s\S]{0,700}?Send messages to third parties/g

export class Engine {
  readonly rules: CompiledRule[]
  private readonly byKind = new Map<EventKind, CompiledRule[]>()
  private readonly redactors: CompiledRule[]
  /** Raw-byte keyword search over every rule keyword and the context markers. */
  readonly prefilter: Prefilter

  constructor(set: RuleSet | CompiledRule[]) {
    // Specific secret rules before generic ones: the first rule to claim a secret keeps it.
    this.rules = [...(Array.isArray(set) ? set : set.rules)].sort((a, b) => Number(isGeneric(a)) - Number(isGeneric(b)))
    for (const kind of ['user', 'assistant', 'toolCall', 'toolResult', 'log', 'config'] as EventKind[]) {
      this.byKind.set(
        kind,
        this.rules.filter((r) => !r.kinds || r.kinds.has(kind)),
      )
    }
    this.redactors = this.rules.filter((r) => r.secretGroup !== undefined && !r.alreadyMasked)
    this.payloads = this.rules.filter((r) => r.payload && (!r.kinds || r.kinds.has('user')))
    this.index = new Map(this.rules.map((r, i) => [r, i]))
    const keywords: PrefilterKeyword[] = [...CONTEXT_MARKERS, ...ENVELOPE_KEYS, ...KIND_MARKERS]
    // payload rules run only where a request hit: their keywords must not make lines candidates
    this.rules.forEach((r, i) => {
      if (!r.payload) for (const b of r.prefilter) keywords.push({bytes: b, tag: i})
    })
    // a pattern with keywords of its own gets a tag (a slot past the rules' indexes): the same pass
    // tells whether they occur, so a rule's other patterns cost nothing where theirs are absent
    let next = this.rules.length
    this.slots = this.rules.map((r) => r.patternKeywords.map((own) => (own && !r.payload ? next++ : -1)))
    this.markSize = next
    this.rules.forEach((r, i) =>
      r.patternKeywords.forEach((own, j) => {
        const tag = this.slots[i]![j]!
        if (own && tag >= 0) for (const k of own) for (const b of rawForms(k)) keywords.push({bytes: b, tag})
      }),
    )
    this.prefilter = new Prefilter(keywords)
  }

  private readonly index: Map<CompiledRule, number>
  private readonly payloads: CompiledRule[]
  /** By rule index, by pattern: the pattern's slot in the marks (-1: it has no keywords of its own). */
  private readonly slots: number[][]
  /** Length of a marks array: the rules, then the pattern slots. */
  readonly markSize: number

  /** Marks (by rule index) of the rules whose keywords occur in these bytes: the only candidates. */
  candidates(bytes: Uint8Array, from = 0, to = bytes.length): Uint8Array {
    const marks = new Uint8Array(this.markSize)
    this.prefilter.collect(bytes, from, to, marks)
    return marks
  }

  /**
   * All rule hits in one event. `candidates` (from the raw bytes of its line or row) limits the
   * rules tried; without it they come from the event text. `whole`: the event is all its line
   * holds, so a candidate's keyword is in its text (not checked again: rules with many keywords
   * would cost a pass over the text each).
   */
  match(ev: ScanEvent, candidates?: Uint8Array, depth = 0, whole = false): RuleHit[] {
    const rules = this.byKind.get(ev.kind) ?? []
    if (rules.length === 0 || ev.text.length === 0) return []
    const marks = candidates ?? this.candidates(Buffer.from(ev.text, 'utf8'))
    const text = ev.untrusted || ev.kind === 'user' ? stripBoilerplate(ev.text) : ev.text
    let lower: string | undefined
    const hits: RuleHit[] = []
    const claimed = new Set<string>()
    for (const rule of rules) {
      if (rule.payload || marks[this.index.get(rule)!] !== 1) continue
      if (depth > 0 && !DECODED_CATEGORIES.has(rule.category)) continue
      if (rule.tools && !(ev.toolName && rule.tools.has(ev.toolName))) continue
      // the line had the keyword; this event of it may not
      lower ??= text.toLowerCase()
      // (a stray-task rule's keywords open lines: its detector checks the openers itself)
      if (!whole && !rule.anchors && !rule.openers && !rule.keywords.some((k) => lower!.includes(k))) continue
      for (const h of this.matchRuleText(rule, text, ev, depth, lower, marks)) {
        if (h.secret !== undefined) {
          if (claimed.has(h.secret)) continue
          claimed.add(h.secret)
        }
        hits.push(h)
      }
    }
    const out = onePerRule(hits)
    if (ev.kind === 'user' && out.some((h) => h.rule.request)) this.judgeRequests(out, ev, text)
    return out
  }

  /**
   * A request in a message (write memory, add a skill, skip confirmation) is judged by what it asks
   * for: kept when the message also carries a payload (a trigger rule, a dangerous command, forged
   * dialogue, …) or another injection at medium or above; else info, tagged `request-only`.
   */
  private judgeRequests(hits: RuleHit[], ev: ScanEvent, text: string): void {
    const strong = hits.find(
      (h) =>
        !h.rule.request && h.rule.category === 'prompt-injection' && SEVERITY_RANK[h.severity] >= SEVERITY_RANK.medium,
    )
    const payloads: string[] = strong ? [strong.rule.id] : []
    let harmless = false
    const lower = text.toLowerCase()
    for (const rule of this.payloads) {
      // one payload is enough to keep a request; decode-and-run sinks are always read (their verdict is reported)
      const decodes = rule.detector === 'decode-run'
      if ((payloads.length > 0 && !decodes) || !rule.keywords.some((k) => lower.includes(k))) continue
      const found = this.matchRuleText(rule, text, ev, 0, lower)
      if (found.length === 0) continue
      if (decodes) {
        // a sink whose payload the text carries is reported either way: a responder sees it was checked
        hits.push(...found.filter((h) => !h.tags.includes(DECODED_UNSEEN) && !h.tags.includes(DECODED_GARBLED)))
        if (found.every((h) => h.tags.includes(DECODED_HARMLESS))) {
          harmless = true
          continue
        }
      }
      payloads.push(rule.id)
    }
    const runs = [...text.matchAll(RUNS_SCRIPT)].slice(0, 4).map((m) => `${RUNS_TAG}${normalizeHome(m[1]!)}`)
    for (const h of hits) {
      if (!h.rule.request) continue
      h.tags = [...h.tags, ...runs]
      if (payloads.length > 0) h.tags.push(...payloads.map((p) => `payload:${p}`))
      else {
        h.severity = 'info'
        h.tags.push(REQUEST_ONLY, ...(harmless ? [DECODED_HARMLESS] : []))
      }
    }
  }

  /**
   * Decode-and-run sinks (the rule's pattern matches) judged by what the text makes them decode: a
   * dangerous command (the tool-call rules on the decoded text) → at least high, named; a harmless one →
   * info, tagged; a payload the text does not carry → the rule's own severity.
   */
  private decodeRunHits(
    rule: CompiledRule,
    text: string,
    depth: number,
    sinks: {index: number; matched: string}[],
  ): RuleHit[] {
    return resolveSinks(text, sinks).map((r, i) => {
      const {index, matched} = sinks[i]!
      const scripts = r.scripts.map((f) => `${SCRIPT_TAG}${f}`)
      const hit: RuleHit = {
        rule,
        severity: rule.severity,
        title: rule.title,
        text,
        index,
        length: matched.length,
        matched,
        tags: [],
      }
      if (r.decoded === undefined || depth >= DECODE_DEPTH)
        return {...hit, tags: [...rule.tags, DECODED_UNSEEN, ...scripts]}
      const note = `decodes to: ${r.decoded.slice(0, 4096)}`
      const inner = this.match({kind: 'toolCall', toolName: 'exec', text: r.decoded}, undefined, depth + 1).filter(
        (h) => h.severity !== 'info',
      )
      if (inner.length === 0 && r.garbled) {
        // not text: what a shell would make of it cannot be said, so the words around it decide
        return {
          ...hit,
          note: `decodes to non-text bytes: ${r.decoded}`,
          tags: [...rule.tags, DECODED_GARBLED, ...scripts],
        }
      }
      if (inner.length === 0) {
        const title = `${rule.title}: decodes to a harmless command`
        return {...hit, severity: 'info', title, note, tags: [...rule.tags, DECODED_HARMLESS, ...scripts]}
      }
      const worst = inner.reduce((a, b) => (SEVERITY_RANK[b.severity] > SEVERITY_RANK[a.severity] ? b : a))
      const rank = Math.max(SEVERITY_RANK[worst.severity], SEVERITY_RANK[rule.severity], SEVERITY_RANK.high)
      const tags = [...rule.tags, DECODED_DANGEROUS, ...inner.map((h) => `inner:${h.rule.id}`), ...scripts]
      return {...hit, severity: SEVERITY_BY_RANK[rank]!, title: `${rule.title}: ${worst.title}`, note, tags}
    })
  }

  /** One rule against one event, without the keyword gate (rule tests use it to prove the patterns). */
  matchRule(rule: CompiledRule, ev: ScanEvent): RuleHit[] {
    if (rule.kinds && !rule.kinds.has(ev.kind)) return []
    if (rule.tools && !(ev.toolName && rule.tools.has(ev.toolName))) return []
    const lower = ev.text.toLowerCase()
    if (!rule.keywords.some((k) => lower.includes(k))) return []
    const text = stripBoilerplate(ev.text)
    return this.matchRuleText(rule, text, ev, 0, text.toLowerCase())
  }

  /**
   * `lower`: the text lower-cased (where an anchored rule looks for its keywords); `marks`: the
   * prefilter's, with the pattern slots (without them, a pattern's own keywords are looked for in `lower`).
   */
  private matchRuleText(
    rule: CompiledRule,
    text: string,
    ev: ScanEvent,
    depth: number,
    lower: string,
    marks?: Uint8Array,
  ): RuleHit[] {
    if (rule.detector === 'external-boundary') return boundaryHits(rule, text)
    if (rule.detector === 'stray-task') {
      return strayTaskLines(text, lower, rule.patterns, rule.openers!).map((l) => ({
        rule,
        severity: rule.severity,
        title: rule.title,
        text,
        ...l,
        tags: [...rule.tags],
      }))
    }
    const hits: RuleHit[] = []
    const sinks: {index: number; matched: string}[] = []
    let ruleStarts: number[] | undefined
    const memo = new Map<string, number[]>()
    for (let i = 0; i < rule.patterns.length; i++) {
      const own = rule.patternKeywords[i]
      // a pattern with its own keywords runs only where one of them is
      if (own && (marks ? marks[this.slots[this.index.get(rule)!]![i]!] !== 1 : !own.some((k) => lower.includes(k))))
        continue
      const sticky = rule.anchors?.sticky[i]
      const next = sticky
        ? anchoredMatches(
            sticky,
            text,
            own
              ? keywordStarts(rule, own, text, lower, memo)
              : (ruleStarts ??= keywordStarts(rule, rule.keywords, text, lower, memo)),
          )
        : globalMatches(rule.patterns[i]!, text)
      let from = 0
      let m: RegExpExecArray | null
      while (hits.length < MAX_HITS_PER_RULE && (m = next(from)) !== null) {
        if (m[0].length === 0) {
          from = m.index + 1
          continue
        }
        from = m.index + m[0].length
        if (rule.detector === 'base64-payload') {
          if (depth < DECODE_DEPTH) hits.push(...this.decodedHits(rule, m[0], ev, depth))
          continue
        }
        if (rule.detector === 'decode-run') {
          if (sinks.length < MAX_HITS_PER_RULE) sinks.push({index: m.index, matched: m[0]})
          continue
        }
        const hit = this.checkMatch(rule, text, m)
        if (hit) hits.push(hit)
      }
    }
    if (sinks.length > 0) hits.push(...this.decodeRunHits(rule, text, depth, sinks))
    return hits
  }

  private checkMatch(rule: CompiledRule, text: string, m: RegExpExecArray): RuleHit | undefined {
    const matched = m[0]
    let secret: string | undefined
    let ent: number | undefined
    if (rule.secretGroup !== undefined) {
      secret = m[rule.secretGroup] ?? matched
      if (rule.entropy !== undefined) {
        ent = entropy(secret)
        if (ent < rule.entropy) return undefined
      }
    }
    const probe = (secret ?? matched).toLowerCase()
    if (rule.stopwords.some((s) => probe.includes(s))) return undefined
    // like gitleaks' default regexTarget: allowlist regexes test the secret (or the match)
    if (rule.allow.some((a) => a.test(secret ?? matched))) return undefined
    return {
      rule,
      severity: rule.severity,
      title: rule.title,
      text,
      index: m.index,
      length: matched.length,
      matched,
      secret,
      secretEntropy: ent,
      tags: [...rule.tags],
    }
  }

  /** Decode a base64 run and rescan it: a hit inside becomes a hit of the payload rule. */
  private decodedHits(rule: CompiledRule, run: string, ev: ScanEvent, depth: number): RuleHit[] {
    const decoded = decodeBase64Text(run)
    if (!decoded) return []
    const inner = this.match({...ev, text: decoded}, undefined, depth + 1)
    return inner.map((h) => ({
      ...h,
      rule,
      severity: SEVERITY_BY_RANK[Math.max(SEVERITY_RANK[h.severity], SEVERITY_RANK[rule.severity])] ?? h.severity,
      title: `${rule.title}: ${h.title}`,
      tags: [...new Set([...h.tags, 'decoded:base64', `inner:${h.rule.id}`])],
    }))
  }

  /** Mask every secret any rule recognizes, then any random-looking long token. */
  redact(text: string): string {
    let out = text
    for (const r of this.redactors) {
      const lower = out.toLowerCase()
      if (!r.keywords.some((k) => lower.includes(k))) continue
      out = maskRuleMatches(r, out).text
    }
    return maskHighEntropyTokens(out)
  }

  /** Context around a hit: whole words, secrets masked, invisible characters shown, one line. */
  excerpt(hit: RuleHit, width = 80): string {
    const {text} = hit
    let start = Math.max(0, hit.index - width)
    let end = Math.min(text.length, hit.index + hit.length + width)
    // widen to token boundaries so a key is never cut in half (half a key would escape the masks)
    while (start > 0 && hit.index - start < width + 120 && !/\s/.test(text[start - 1]!)) start--
    while (end < text.length && end - hit.index - hit.length < width + 120 && !/\s/.test(text[end]!)) end++
    let body = text.slice(start, end)
    const at = hit.index - start
    if (hit.secret !== undefined && !hit.rule.alreadyMasked) {
      const s = body.indexOf(hit.secret, Math.max(0, at - 1))
      if (s >= 0) body = body.slice(0, s) + maskSecret(hit.secret) + body.slice(s + hit.secret.length)
    }
    body = revealInvisible(this.redact(body)).replace(/\s+/g, ' ').trim()
    if (body.length > 400) body = `${body.slice(0, 400)}…`
    const prefix = hit.tags.includes('decoded:base64') ? '[decoded base64] ' : ''
    // masked before it is cut: half a key would escape the masks
    const note = hit.note === undefined ? '' : ` — ${oneLine(revealInvisible(this.redact(hit.note)))}`
    return `${prefix}${start > 0 ? '…' : ''}${body}${end < text.length ? '…' : ''}${note}`
  }

  /** A Finding for a hit at a location (severity as the rule says; correlation adjusts it later). */
  toFinding(hit: RuleHit, ev: ScanEvent, loc: EventLocation): Finding {
    const src = loc.source
    const order = loc.line ?? loc.seq
    const fingerprint = fingerprintOf([
      hit.rule.id,
      src.rel ?? src.file,
      loc.table ?? '',
      loc.sessionId ?? src.sessionId ?? '',
      String(order ?? ''),
      sha256(hit.secret ?? hit.matched),
    ])
    const f: Finding = {
      ruleId: hit.rule.id,
      category: hit.rule.category,
      severity: hit.severity,
      title: hit.title,
      source: clean({
        file: src.file,
        line: loc.line,
        store: loc.store,
        table: loc.table,
        agentId: loc.agentId ?? src.agentId,
        sessionId: loc.sessionId ?? src.sessionId,
        sessionKey: loc.sessionKey,
        eventId: ev.eventId,
        seq: loc.seq,
      }),
      kind: ev.kind,
      excerpt: this.excerpt(hit),
      fingerprint,
    }
    if (ev.role) f.role = ev.role
    if (ev.toolName) f.toolName = ev.toolName
    if (ev.timestamp) f.timestamp = ev.timestamp
    if (hit.secret !== undefined) {
      f.secret = hit.rule.alreadyMasked
        ? {masked: hit.secret, sha256: shortHash(hit.secret)}
        : {
            masked: maskSecret(hit.secret),
            sha256: shortHash(hit.secret),
            ...(hit.secretEntropy !== undefined ? {entropy: round2(hit.secretEntropy)} : {}),
          }
    }
    if (hit.tags.length > 0) f.tags = hit.tags
    f.digest = digestOf(hit)
    return f
  }
}

/**
 * Where `keywords` (an anchored rule's, or one pattern's) start in `text`, in order (overlapping ones too). Found
 * with indexOf in the lower-cased text — a case-insensitive alternation regex costs more than
 * the rule itself — unless lower-casing changed the length (a few non-ASCII letters) or the
 * rule folds case the Unicode way; then with the regex of all the rule's keywords (more tries, same matches).
 */
function keywordStarts(
  rule: CompiledRule,
  keywords: string[],
  text: string,
  lower: string,
  memo: Map<string, number[]>,
): number[] {
  const starts: number[] = []
  if (lower.length === text.length && !rule.patterns.some((p) => p.unicode)) {
    // patterns of one rule share keywords: each is looked for once per text
    for (const k of keywords) {
      let at = memo.get(k)
      if (!at) {
        at = []
        for (let p = lower.indexOf(k); p >= 0; p = lower.indexOf(k, p + 1)) at.push(p)
        memo.set(k, at)
      }
      for (const p of at) starts.push(p)
    }
  } else {
    const finder = rule.anchors!.finder
    finder.lastIndex = 0
    for (let k = finder.exec(text); k !== null; k = finder.exec(text)) {
      starts.push(k.index)
      finder.lastIndex = k.index + 1
    }
  }
  return [...new Set(starts)].sort((a, b) => a - b)
}

/** The first match of a global regex starting at or after `from` (calls come with `from` growing). */
function globalMatches(re: RegExp, text: string): (from: number) => RegExpExecArray | null {
  return (from) => {
    re.lastIndex = from
    return re.exec(text)
  }
}

/** The same for a pattern whose matches start at a keyword: tried (sticky) only at `starts`. */
function anchoredMatches(sticky: RegExp, text: string, starts: number[]): (from: number) => RegExpExecArray | null {
  let k = 0
  return (from) => {
    for (; k < starts.length; k++) {
      if (starts[k]! < from) continue
      sticky.lastIndex = starts[k]!
      const m = sticky.exec(text)
      if (m) return m
    }
    return null
  }
}

/**
 * What identifies a hit's event across copies of it: the match and up to 48 characters after it on
 * its line (copies differ in what OpenClaw puts before a message — an envelope, a cron tag — and
 * in what follows on later lines of a task_runs row, not next to the match).
 */
function digestOf(hit: RuleHit): string {
  const end = hit.index + hit.length
  const nl = hit.text.indexOf('\n', end)
  const after = hit.text.slice(end, Math.min(nl < 0 ? hit.text.length : nl, end + 48))
  return sha256(`${hit.rule.id}\u0000${hit.secret ?? hit.matched}\u0000${after}`).slice(0, 24)
}

/**
 * One hit per rule in one event: several patterns (or matches) of a rule there are one event to
 * report. Secret rules keep one hit per distinct secret: each is a key to rotate.
 */
function onePerRule(hits: RuleHit[]): RuleHit[] {
  if (hits.length < 2) return hits
  const kept = new Map<string, RuleHit>()
  for (const h of hits) {
    const k = h.secret === undefined ? h.rule.id : `${h.rule.id}\u0000${h.secret}`
    const first = kept.get(k)
    if (!first) kept.set(k, h)
    else if (h.tags.some((t) => !first.tags.includes(t))) first.tags = [...new Set([...first.tags, ...h.tags])]
  }
  return kept.size === hits.length ? hits : [...kept.values()]
}

function isGeneric(r: CompiledRule): boolean {
  return r.id.includes('generic')
}

/** One line, at most 160 characters: a decoded payload as an excerpt shows it. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 160 ? `${line.slice(0, 160)}…` : line
}

function normalizeHome(path: string): string {
  return path.replace(/^\$HOME(?=\/)/, '~')
}

function stripBoilerplate(text: string): string {
  if (!text.includes('SECURITY NOTICE')) return text
  return text.replace(OPENCLAW_BOILERPLATE, (m) => ' '.repeat(m.length))
}

/** Decoded text if the run is base64 of mostly printable UTF-8, else undefined. */
export function decodeBase64Text(run: string): string | undefined {
  const buf = Buffer.from(
    run.replace(/[^A-Za-z0-9+/=_-]/g, ''),
    run.includes('-') || run.includes('_') ? 'base64url' : 'base64',
  )
  if (buf.length < 16) return undefined
  let printable = 0
  for (const b of buf) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09 || b >= 0x80) printable++
  if (printable / buf.length < 0.9) return undefined
  return buf.toString('utf8')
}

const MARKER = /<<<(END_)?EXTERNAL_UNTRUSTED_CONTENT(?:\s+id=\\*"([^"\\]*)\\*")?\s*>>>/g

/**
 * OpenClaw wraps external content in `<<<EXTERNAL_UNTRUSTED_CONTENT id="<16 hex>">>>` …
 * `<<<END_EXTERNAL_UNTRUSTED_CONTENT id="<same>">>>`. A close marker with another id, a close
 * without an open, a nested open or a marker without a proper id is a forged boundary.
 */
function boundaryHits(rule: CompiledRule, text: string): RuleHit[] {
  const hits: RuleHit[] = []
  let open: string | undefined
  MARKER.lastIndex = 0
  let m: RegExpExecArray | null
  while (hits.length < MAX_HITS_PER_RULE && (m = MARKER.exec(text)) !== null) {
    const isEnd = Boolean(m[1])
    const id = m[2]
    let problem: string | undefined
    if (!id || !/^[a-f0-9]{16}$/.test(id)) problem = 'marker without a genuine id'
    else if (!isEnd && open !== undefined) problem = 'second opening marker inside a wrapped block'
    else if (isEnd && open === undefined) problem = 'closing marker without an opening one'
    else if (isEnd && open !== id) problem = 'closing marker id differs from the opening one'
    if (isEnd) open = undefined
    else if (open === undefined) open = id ?? ''
    if (problem) {
      hits.push({
        rule,
        severity: rule.severity,
        title: `${rule.title} (${problem})`,
        text,
        index: m.index,
        length: m[0].length,
        matched: m[0],
        tags: [...rule.tags],
      })
    }
  }
  return hits
}

export function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex')
}

/** 32 hex chars of SHA-256 over the parts: stable across runs for the same rule, place and match. */
export function fingerprintOf(parts: string[]): string {
  return sha256(parts.join('\u0000')).slice(0, 32)
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined || o[k] === '') delete o[k]
  return o
}
