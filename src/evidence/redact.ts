import {entropy, maskRuleMatches, maskSecret} from '../detect/mask.js'
import {isMasked} from '../system/secret-vocabulary.js'
import {Prefilter, type PrefilterKeyword} from '../detect/prefilter.js'
import type {CompiledRule} from '../detect/rules.js'
import {BLOCK_KEYWORDS, FIELD_KEYWORDS, KeyBlockLines, maskCredentialFields, maskKeyBlocks} from './key-blocks.js'
import {isProsePlaceholder, type KnownSecrets} from './secret-values.js'

/**
 * Masks secrets in bundled copies, streaming: the install's known secret values (exact) and
 * everything the secret rules of `ir scan` recognize, replaced by `prefix…«sha256:xxxxxxxxxxxx»` (the
 * same mark findings use, so an analyst can match them). A raw-byte prefilter over the rule
 * keywords and the values' first bytes skips almost every line without decoding it; only lines
 * with a hit are decoded and rewritten. Lines are the unit, except private key blocks, which span
 * lines in plain files: those are held from BEGIN to END and masked whole (key-blocks.ts).
 */

/** Prefilter tags: rule index (below PROSE), a fixed tag, or KNOWN + index of a known value form. */
const KNOWN = 1 << 20
const BLOCK = KNOWN - 1
const FIELD = KNOWN - 2
const PROSE = KNOWN - 3
const PROSE_KEYWORDS = ['password', 'passwd', 'passphrase', 'pwd', 'secret']
/**
 * A password or secret written as prose or as a key (`db password: X`, `passwd=X`, `the secret is X`,
 * `"password":"X"`): the value masked whatever its shape, unless it is a placeholder. Every part is
 * bounded: linear on any input.
 */
const PROSE_SECRET =
  /(?<![A-Za-z])(pass(?:word|wd|phrase)|pwd|secret)(["']?)(\s{0,3}[:=]\s{0,3}|\s{1,3}is\s{1,3})(["'\x60]?)([^\s"'\x60\\]{4,256})/gi
/** A well-known token prefix (a secret rule's keyword) followed by this many token characters is masked. */
const PREFIX_MIN_TAIL = 16
const BEGIN_BYTES = Buffer.from('-----BEGIN ')
/** A line longer than this is redacted in windows that overlap by OVERLAP bytes. */
const MAX_PENDING = 1 << 20
const OVERLAP = 4096

export class Redactor {
  private readonly rules: CompiledRule[]
  private prefilter!: Prefilter
  /** Known values and their JSON-escaped forms: [form, value]. */
  private forms: Array<[string, string]> = []
  private knownVersion = -1

  /** Per rule: its keywords that begin a token (`ghp_`, `sk-proj-`, `xoxb`), as a finder of whole tokens. */
  private readonly prefixes: Array<RegExp | undefined>

  constructor(
    rules: CompiledRule[],
    private readonly secrets: KnownSecrets,
  ) {
    this.rules = rules.filter((r) => r.secretGroup !== undefined && !r.alreadyMasked && r.patterns.length > 0)
    this.prefixes = this.rules.map(prefixFinder)
    this.refresh()
  }

  /** Rebuild the prefilter when new secret values were learned. */
  private refresh(): void {
    if (this.knownVersion === this.secrets.version) return
    this.knownVersion = this.secrets.version
    this.forms = []
    for (const v of this.secrets.list())
      for (const form of new Set([v, JSON.stringify(v).slice(1, -1)])) this.forms.push([form, v])
    const keywords: PrefilterKeyword[] = []
    this.rules.forEach((r, i) => {
      for (const b of r.prefilter) keywords.push({bytes: b, tag: i})
    })
    for (const b of BLOCK_KEYWORDS) keywords.push({bytes: b, tag: BLOCK})
    for (const b of FIELD_KEYWORDS) keywords.push({bytes: b, tag: FIELD})
    for (const b of PROSE_KEYWORDS) keywords.push({bytes: b, tag: PROSE})
    this.forms.forEach(([form], i) =>
      keywords.push({
        bytes: Buffer.from(form, 'utf8').subarray(0, 24).toString('latin1').toLowerCase(),
        tag: KNOWN + i,
      }),
    )
    this.prefilter = new Prefilter(keywords)
  }

  /** Tags of every keyword in buf[start, end). */
  private tags(buf: Uint8Array, start: number, end: number): Set<number> {
    const tags = new Set<number>()
    const pf = this.prefilter
    pf.each(buf, start, end, () => {
      for (let t = 0; t < pf.count; t++) tags.add(pf.tags[t]!)
    })
    return tags
  }

  /** Redact one text (a line, a cell). */
  redactText(text: string): {text: string; count: number} {
    this.refresh()
    const buf = Buffer.from(text, 'utf8')
    const tags = this.tags(buf, 0, buf.length)
    return tags.size ? this.redactTagged(text, tags) : {text, count: 0}
  }

  /**
   * Only the rules and known values whose keywords the prefilter saw; then, where the text holds
   * JSON-escaped quotes (`{\"token\":\"…\"}` inside a JSON string), what the rules find in the unescaped
   * text — as `ir scan` sees it — is masked in the raw text too.
   */
  private redactTagged(text: string, tags: Set<number>): {text: string; count: number} {
    const raw = this.redactRaw(text, tags)
    const out = raw.text
    if (!out.includes('\\"')) return raw
    // each level of a JSON string inside a JSON string (up to 3) unescaped once more; what is found there is
    // mapped back to the text: [start, end) in it, and the secret as the level shows it (what the mark hashes)
    const found: Array<[number, number, string]> = []
    let level = out
    let toOut: Int32Array | undefined
    for (let depth = 0; depth < 3 && level.includes('\\"'); depth++) {
      const {view, rawAt} = unescapeQuotes(level)
      const map = toOut ? rawAt.map((i) => toOut![i]!) : rawAt
      const buf = Buffer.from(view, 'utf8')
      for (const [s, e] of this.hiddenSecrets(view, this.tags(buf, 0, buf.length)))
        found.push([map[s]!, map[e - 1]! + 1, view.slice(s, e)])
      level = view
      toOut = map
    }
    if (found.length === 0) return raw
    // masked in one pass, overlapping ranges merged (linear in the line)
    found.sort((a, b) => a[0] - b[0] || b[1] - a[1])
    let masked = ''
    let copied = 0
    let count = raw.count
    for (let i = 0; i < found.length;) {
      const [s, , secret] = found[i]!
      let e = found[i++]![1]
      while (i < found.length && found[i]![0] < e) e = Math.max(e, found[i++]![1])
      masked += out.slice(copied, s) + maskSecret(secret)
      copied = e
      count++
    }
    return {text: masked + out.slice(copied), count}
  }

  /** [start, end) in the view of every secret the rules, token prefixes and keyed prose find there. */
  private hiddenSecrets(view: string, tags: Set<number>): Array<[number, number]> {
    const ranges: Array<[number, number]> = []
    for (const t of tags) {
      if (t >= PROSE) continue
      const r = this.rules[t]!
      for (const re of r.patterns) {
        for (const m of view.matchAll(re)) {
          const group = r.secretGroup ? m[r.secretGroup] : m[0]
          const secret = group || m[0]
          if (!isSecret(r, secret, m[0])) continue
          const at = m.index + m[0].indexOf(secret)
          ranges.push([at, at + secret.length])
        }
      }
      const finder = this.prefixes[t]
      if (finder)
        for (const m of view.matchAll(finder))
          if (looksRandomTail(m[0], r.entropy ?? 3)) ranges.push([m.index, m.index + m[0].length])
    }
    if (tags.has(PROSE))
      for (const m of view.matchAll(PROSE_SECRET)) {
        const [all, , , sep, , raw] = m as unknown as string[]
        const value = raw!.replace(/[,;.)\]}]+$/, '')
        if (!proseSecret(value, sep!) || isProsePlaceholder(raw!)) continue
        const at = m.index + all!.length - raw!.length
        ranges.push([at, at + value.length])
      }
    return ranges
  }

  /** The rules, known values, key blocks and keyed prose on the text as it stands. */
  private redactRaw(text: string, tags: Set<number>): {text: string; count: number} {
    let out = text
    let count = 0
    if (tags.has(BLOCK)) ({text: out, count} = maskKeyBlocks(out))
    if (tags.has(FIELD)) {
      const f = maskCredentialFields(out, maskSecret)
      out = f.text
      count += f.count
    }
    const known = [...tags]
      .filter((t) => t >= KNOWN)
      .map((t) => this.forms[t - KNOWN]!)
      .sort((a, b) => b[1].length - a[1].length)
    for (const [form, value] of known) {
      if (!out.includes(form)) continue
      const parts = out.split(form)
      count += parts.length - 1
      out = parts.join(maskSecret(value))
    }
    for (const t of [...tags]
      .filter((x) => x < PROSE)
      .sort((a, b) => Number(isGeneric(this.rules[a]!)) - Number(isGeneric(this.rules[b]!)) || a - b)) {
      const r = this.rules[t]!
      const masked = maskRuleMatches(r, out, (secret, match) => isSecret(r, secret, match))
      out = masked.text
      count += masked.count
      // a well-known prefix whose token the exact pattern missed (another length, a test key): masked all the same
      const finder = this.prefixes[t]
      if (finder)
        out = out.replace(finder, (tok: string) => {
          if (!looksRandomTail(tok, r.entropy ?? 3)) return tok
          count++
          return maskSecret(tok)
        })
    }
    if (tags.has(PROSE))
      out = out.replace(PROSE_SECRET, (all, key: string, kq: string, sep: string, vq: string, raw: string) => {
        const value = raw.replace(/[,;.)\]}]+$/, '')
        if (!proseSecret(value, sep) || isProsePlaceholder(raw)) return all
        count++
        return `${key}${kq}${sep}${vq}${maskSecret(value)}${raw.slice(value.length)}`
      })
    return {text: out, count}
  }

  /** A value as raw bytes (a SQLite cell): decoded and redacted only when the prefilter finds something. */
  redactBuffer(buf: Uint8Array): {text: string; count: number} | undefined {
    this.refresh()
    const tags = this.tags(buf, 0, buf.length)
    if (tags.size === 0) return undefined
    const r = this.redactTagged(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8'), tags)
    return r.count > 0 ? r : undefined
  }

  /** A stream of one file's bytes → redacted bytes (same bytes where nothing matched). */
  stream(): LineRedactor {
    this.refresh()
    return new LineRedactor(this)
  }

  /** Complete lines buf[start, end): unchanged slices where the prefilter finds nothing. */
  redactLines(buf: Buffer, start: number, end: number): {out: Buffer[]; count: number} {
    this.refresh()
    const out: Buffer[] = []
    let count = 0
    let copied = start
    const pf = this.prefilter
    let ls = -1
    let le = -1
    let tags = new Set<number>()
    const flush = () => {
      if (ls < 0) return
      const r = this.redactTagged(buf.toString('utf8', ls, le), tags)
      if (r.count === 0) return
      if (ls > copied) out.push(buf.subarray(copied, ls))
      out.push(Buffer.from(r.text, 'utf8'))
      count += r.count
      copied = le
    }
    pf.each(buf, start, end, (at) => {
      if (at > le) {
        flush()
        tags = new Set()
        ls = at === start ? start : Math.max(start, buf.lastIndexOf(10, at - 1) + 1)
        le = buf.indexOf(10, at)
        if (le < 0 || le >= end) le = end
      }
      for (let t = 0; t < pf.count; t++) tags.add(pf.tags[t]!)
    })
    flush()
    if (copied < end) out.push(buf.subarray(copied, end))
    return {out, count}
  }
}

function isGeneric(r: CompiledRule): boolean {
  return r.id.includes('generic')
}

/** Finder of the tokens that begin with one of the rule's keywords, when they are token prefixes (`ghp_`, `xoxb`). */
function prefixFinder(r: CompiledRule): RegExp | undefined {
  if (isGeneric(r)) return undefined
  const source = r.patterns.map((p) => p.source.toLowerCase()).join(' ')
  const prefixes = r.keywords.filter(
    (k) => /^[a-z0-9][a-z0-9_.-]{2,}$/.test(k) && (/[_-]$/.test(k) || source.includes(`(${k}`)),
  )
  if (prefixes.length === 0) return undefined
  const alt = prefixes.map((k) => k.replace(/[.-]/g, '\\$&')).join('|')
  return new RegExp(`(?<![A-Za-z0-9_-])(?:${alt})[A-Za-z0-9_-]{${PREFIX_MIN_TAIL},}`, 'gi')
}

/** A prefixed token whose characters look random (letters and digits, entropy at least the rule's). */
function looksRandomTail(tok: string, min: number): boolean {
  return /[0-9]/.test(tok) && /[A-Za-z]/.test(tok) && entropy(tok) >= min && !isMasked(tok)
}

/** A value after `password:` / `secret is`: any non-placeholder; after `is`, only one that is not a plain word. */
function proseSecret(value: string, sep: string): boolean {
  if (value.length < 4 || isProsePlaceholder(value) || isMasked(value)) return false
  return /[:=]/.test(sep) || /[^A-Za-z]/.test(value)
}

/** The text with `\\"`, `\\\\` and `\\/` unescaped once, and for each of its characters where it is in the text. */
function unescapeQuotes(text: string): {view: string; rawAt: Int32Array} {
  const rawAt = new Int32Array(text.length)
  let view = ''
  let n = 0
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const next = text[i + 1]
    if (text[i] === '\\' && (next === '"' || next === '\\' || next === '/')) {
      view += text.slice(from, i)
      for (let j = from; j < i; j++) rawAt[n++] = j
      from = i + 1
      i++
    }
  }
  view += text.slice(from)
  for (let j = from; j < text.length; j++) rawAt[n++] = j
  return {view, rawAt: rawAt.subarray(0, n)}
}

function isSecret(rule: CompiledRule, secret: string, match: string): boolean {
  if (rule.entropy !== undefined && entropy(secret) < rule.entropy) return false
  // generic keyword=value rules also match names ("skillKey":"browser-automation"): in evidence, mask only what looks
  // random
  if (rule.id.includes('generic') && !(secret.length >= 12 && /[0-9]/.test(secret) && /[A-Za-z]/.test(secret)))
    return false
  const probe = secret.toLowerCase()
  if (rule.stopwords.some((s) => probe.includes(s))) return false
  if (
    rule.allow.some((a) => {
      a.lastIndex = 0
      return a.test(match)
    })
  )
    return false
  return !isMasked(secret)
}

/** Per-file state: the partial last line is held until its newline arrives. */
export class LineRedactor {
  private pending: Buffer[] = []
  private pendingLen = 0
  private readonly blocks = new KeyBlockLines()
  private lineCount = 0

  get count(): number {
    return this.lineCount + this.blocks.count
  }

  constructor(private readonly r: Redactor) {}

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = []
    const lastNl = chunk.lastIndexOf(10)
    if (lastNl < 0) {
      this.pending.push(chunk)
      this.pendingLen += chunk.length
      if (this.pendingLen > MAX_PENDING) out.push(...this.flushWindow())
      return out
    }
    let start = 0
    if (this.pendingLen > 0) {
      const firstNl = chunk.indexOf(10)
      this.pending.push(chunk.subarray(0, firstNl + 1))
      const line = Buffer.concat(this.pending)
      this.pending = []
      this.pendingLen = 0
      out.push(...this.lines(line, 0, line.length))
      start = firstNl + 1
    }
    if (lastNl + 1 > start) out.push(...this.lines(chunk, start, lastNl + 1))
    if (lastNl + 1 < chunk.length) {
      // copied: the caller may reuse the chunk's memory
      const rest = Buffer.from(chunk.subarray(lastNl + 1))
      this.pending.push(rest)
      this.pendingLen += rest.length
    }
    return out
  }

  end(): Buffer[] {
    const out: Buffer[] = []
    if (this.pendingLen > 0) {
      const line = Buffer.concat(this.pending)
      this.pending = []
      this.pendingLen = 0
      out.push(...this.lines(line, 0, line.length))
    }
    if (this.blocks.open) out.push(Buffer.from(this.blocks.flush(), 'utf8'))
    return out
  }

  private lines(buf: Buffer, start: number, end: number): Buffer[] {
    const begin = buf.indexOf(BEGIN_BYTES, start)
    if (!this.blocks.open && (begin < 0 || begin >= end)) {
      const r = this.r.redactLines(buf, start, end)
      this.lineCount += r.count
      return r.out
    }
    // a private key block may span these lines: one line at a time
    const out: Buffer[] = []
    for (let s = start; s < end;) {
      const nl = buf.indexOf(10, s)
      const e = nl < 0 || nl >= end ? end : nl + 1
      const {emit, rest} = this.blocks.line(buf.toString('utf8', s, e))
      if (emit) out.push(Buffer.from(emit, 'utf8'))
      if (rest) {
        const r = this.r.redactText(rest)
        this.lineCount += r.count
        out.push(Buffer.from(r.text, 'utf8'))
      }
      s = e
    }
    return out
  }

  /** A line without newline grew past MAX_PENDING: redact all but an overlap tail (cut on a UTF-8 boundary). */
  private flushWindow(): Buffer[] {
    const all = Buffer.concat(this.pending)
    let cut = all.length - OVERLAP
    while (cut > 0 && ((all[cut] ?? 0) & 0xc0) === 0x80) cut--
    this.pending = [Buffer.from(all.subarray(cut))]
    this.pendingLen = all.length - cut
    return this.lines(all, 0, cut)
  }
}
