import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {readdir, readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import {z} from 'zod'

import {ExitCode, IrError, errorMessage} from '../errors.js'
import {buildAsset, packageAsset} from '../system/package-assets.js'
import {CATEGORIES, EVENT_KINDS, SEVERITIES} from './finding-types.js'
import {indicatorPack} from './indicator-rules.js'
import {openersOf} from './stray-task.js'
import type {Category, EventKind, Severity, SkippedItem} from './finding-types.js'

/** Built-in detectors for what a regex alone cannot say: decoding, marker pairing, a line alien to its document. */
export const DETECTORS = ['base64-payload', 'decode-run', 'external-boundary', 'stray-task'] as const
export type Detector = (typeof DETECTORS)[number]

const TestCase = z.union([
  z.string(),
  z.object({text: z.string(), kind: z.enum(EVENT_KINDS).optional(), tool: z.string().optional()}).strict(),
])
export type RuleTestCase = z.infer<typeof TestCase>

const Keyword = z.string().refine((k) => Buffer.byteLength(k, 'utf8') >= 2, 'a keyword needs at least 2 bytes')

const Pattern = z.union([
  z.string(),
  z
    .object({
      regex: z.string(),
      flags: z
        .string()
        .regex(/^[imsu]*$/)
        .optional(),
      /**
       * This pattern's own keywords: it runs only on text where one of them occurs and, with
       * `starts_with_keyword`, only there. They do not widen the rule's keywords (the prefilter):
       * a rule of several patterns then costs each pattern's pass only where that pattern's words are.
       */
      keywords: z.array(Keyword).min(1).optional(),
      /** Overrides the rule's `starts_with_keyword` for this pattern. */
      starts_with_keyword: z.boolean().optional(),
    })
    .strict(),
])

const RuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"'),
    title: z.string().min(3),
    description: z.string().optional(),
    category: z.enum(CATEGORIES),
    severity: z.enum(SEVERITIES),
    /** Attribution of a derived pattern, e.g. "gitleaks:anthropic-api-key". */
    source: z.string().optional(),
    applies_to: z
      .object({
        kinds: z.array(z.enum(EVENT_KINDS)).min(1).optional(),
        tools: z.array(z.string()).min(1).optional(),
      })
      .strict()
      .optional(),
    /** Case-insensitive literals; at least one must occur for the patterns to run (the prefilter). */
    keywords: z.array(Keyword).min(1),
    patterns: z.array(Pattern).default([]),
    /**
     * Every match begins with one of the keywords (as gitleaks' generic rule does): the patterns
     * are then tried only where a keyword occurs, not at every position of a long text.
     */
    starts_with_keyword: z.boolean().optional(),
    /**
     * A regex over the raw bytes (JSON-escaped, latin1) right after each keyword occurrence that
     * every match implies: a line or row where it never matches is not decoded for this rule. It
     * must hold for the escaped forms (`\"`, `\n`, `\uXXXX`) of what the patterns see.
     */
    raw_gate: z.string().optional(),
    detector: z.enum(DETECTORS).optional(),
    /**
     * What this rule finds in a message (kind user) is a request — write memory, add a skill, skip
     * confirmation — whose harm is in what it asks for: alone it is reported at info; with a
     * `payload` rule or another prompt-injection rule at medium or above in the same message, at
     * its severity. In tool results it keeps its severity.
     */
    request: z.boolean().optional(),
    /** Never reported: what makes a `request` in the same message harmful (run only where one hit). */
    payload: z.boolean().optional(),
    /** Capture group holding the secret: its presence makes this a secret rule (masked everywhere). */
    secret_group: z.number().int().min(0).optional(),
    /** Minimum Shannon entropy (bits per char) of the secret group. */
    entropy: z.number().min(0).max(8).optional(),
    /** The match is a secret OpenClaw already masked at write time (`sk-pro…ABCD`). */
    already_masked: z.boolean().optional(),
    allowlist: z
      .object({
        /** Case-insensitive substrings of the secret (or match) that make it a placeholder. */
        stopwords: z.array(z.string()).optional(),
        /** Regexes tested against the secret (or the whole match when the rule has no secret group). */
        regexes: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    tags: z.array(z.string()).optional(),
    tests: z.object({match: z.array(TestCase).min(1), no_match: z.array(TestCase).default([])}).strict(),
  })
  .strict()
export type RuleSpec = z.infer<typeof RuleSchema>

const PackSchema = z
  .object({
    pack: z.string().min(1),
    description: z.string().optional(),
    rules: z.array(z.unknown()).min(1),
  })
  .strict()

export interface CompiledRule {
  id: string
  title: string
  description?: string
  category: Category
  severity: Severity
  attribution?: string
  kinds: ReadonlySet<EventKind> | null
  tools: ReadonlySet<string> | null
  /** Lower-cased; gate on the decoded event text. */
  keywords: string[]
  /** Lower-cased byte strings (latin1) for the raw prefilter: UTF-8 bytes and JSON-escaped forms. */
  prefilter: string[]
  patterns: RegExp[]
  /** Per pattern: its own keywords (lower-cased), when it has any. */
  patternKeywords: Array<string[] | undefined>
  /**
   * With `starts_with_keyword` (rule or pattern): a regex finding the rule's keywords, and each
   * anchored pattern made sticky (undefined: the pattern runs across the text).
   */
  anchors?: {finder: RegExp; sticky: Array<RegExp | undefined>}
  /** `raw_gate`, sticky: tried at the end of each raw keyword occurrence. */
  rawGate?: RegExp
  detector?: Detector
  /** `stray-task`: the lower-cased first words a task line may open with. */
  openers?: Set<string>
  request: boolean
  payload: boolean
  secretGroup?: number
  entropy?: number
  alreadyMasked: boolean
  stopwords: string[]
  allow: RegExp[]
  tags: string[]
  tests: {match: RuleTestCase[]; no_match: RuleTestCase[]}
  file: string
}

export interface RuleSet {
  rules: CompiledRule[]
  files: string[]
  /** Rules or packs refused at load (invalid regex, schema error): reported as skipped, the scan goes on. */
  rejected: SkippedItem[]
}

/** Where the shipped packs live (the package's playbooks/rules, from source and from the build). */
export function shippedRulesDir(): string {
  return packageAsset('playbooks', 'rules')
}

/** The indicator list `ir status` checks skills against; scans get rules from it (indicator-rules.ts). */
export function shippedIndicatorsFile(): string {
  return packageAsset('playbooks', 'data', 'indicators.yaml')
}

/** Extra rule packs that do not load are a usage error naming the file and the rule, not a silent skip. */
export function requireLoaded(set: RuleSet): RuleSet {
  if (set.rejected.length === 0) return set
  const first = set.rejected[0]!
  throw new IrError(
    `--rules: ${first.path}: ${first.reason}${set.rejected.length > 1 ? ` (and ${set.rejected.length - 1} more)` : ''}.`,
    ExitCode.Usage,
    [
      ...set.rejected.slice(1, 5).map((r) => `${r.path}: ${r.reason}`),
      'Fix the pack (see playbooks/rules/*.yaml for the format) or leave it out.',
    ],
    'RULES_INVALID',
  )
}

/**
 * Shipped packs plus `extraPaths` (files or directories of *.yaml). A shipped pack that does not
 * load is a bug and throws; a user's pack or rule that does not load is rejected (named by file
 * and rule id in `rejected`) and the others are kept. A missing extra path throws: the operator
 * asked for it.
 */
export async function loadRules(
  extraPaths: string[] = [],
  opts: {shippedDir?: string | null; indicators?: string | null} = {},
): Promise<RuleSet> {
  const set: RuleSet = {rules: [], files: [], rejected: []}
  const seen = new Map<string, string>()
  const shipped = opts.shippedDir === null ? [] : await yamlFiles(opts.shippedDir ?? shippedRulesDir())
  // the shipped packs come with the shipped indicator list; a test's own packs only with its own
  const indicators =
    opts.indicators === undefined && opts.shippedDir === undefined ? shippedIndicatorsFile() : opts.indicators
  for (const file of [...shipped, ...(indicators ? [indicators] : [])]) {
    const rejected = await loadPack(file, set, seen, file === indicators ? indicatorPack : undefined)
    if (rejected.length > 0) {
      throw new IrError(
        `Shipped rule pack ${file} is invalid: ${rejected.map((r) => r.reason).join('; ')}`,
        ExitCode.Failure,
        ['This is a bug in ir: report it with this message.'],
        'RULES_INVALID',
      )
    }
  }
  for (const p of extraPaths) {
    let files: string[]
    try {
      files = (await stat(p)).isDirectory() ? await yamlFiles(p) : [p]
    } catch (err) {
      throw new IrError(
        `Rule pack ${p} cannot be read: ${errorMessage(err)}`,
        ExitCode.Usage,
        ['Check the --rules path: a YAML file or a directory of *.yaml packs.'],
        'RULES_NOT_FOUND',
      )
    }
    for (const file of files) set.rejected.push(...(await loadPack(file, set, seen)))
  }
  return set
}

async function yamlFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort()
  return names.map((n) => path.join(dir, n))
}

/**
 * The shipped packs as `npm run build` parsed them (dist/rule-packs.json, by the SHA-256 of their
 * bytes): parsing YAML is most of a scan's start-up. From source there is none.
 */
let prebuilt: Map<string, unknown> | undefined

function prebuiltPack(text: string): unknown {
  if (!prebuilt) {
    prebuilt = new Map()
    try {
      const file = buildAsset('rule-packs.json')
      const packs = file ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {}
      for (const [hash, doc] of Object.entries(packs)) prebuilt.set(hash, doc)
    } catch {
      // running from source, or a build without it: the YAML is parsed
    }
  }
  const doc = prebuilt.get(createHash('sha256').update(text).digest('hex'))
  return doc === undefined ? undefined : structuredClone(doc)
}

/** `asPack`: the file is data that becomes a pack (the indicator list), not a pack itself. */
async function loadPack(
  file: string,
  set: RuleSet,
  seen: Map<string, string>,
  asPack?: (doc: unknown) => unknown,
): Promise<SkippedItem[]> {
  let doc: unknown
  try {
    const text = await readFile(file, 'utf8')
    // the YAML parser is loaded only when needed: importing it is a tenth of a scan's start-up
    doc = prebuiltPack(text) ?? (await import('yaml')).parse(text)
  } catch (err) {
    return [{path: file, reason: `rule pack rejected: not valid YAML (${errorMessage(err).split('\n')[0]})`}]
  }
  if (asPack) doc = asPack(doc)
  const pack = PackSchema.safeParse(doc)
  if (!pack.success) return [{path: file, reason: `rule pack rejected: ${zodMessage(pack.error)}`}]
  set.files.push(file)
  const rejected: SkippedItem[] = []
  pack.data.rules.forEach((raw, i) => {
    const id = typeof (raw as {id?: unknown})?.id === 'string' ? (raw as {id: string}).id : `#${i + 1}`
    const parsed = RuleSchema.safeParse(raw)
    if (!parsed.success) {
      rejected.push({path: file, reason: `rule ${id} rejected: ${zodMessage(parsed.error)}`})
      return
    }
    const prev = seen.get(parsed.data.id)
    if (prev) {
      rejected.push({path: file, reason: `rule ${id} rejected: id already defined in ${prev}`})
      return
    }
    try {
      set.rules.push(compileRule(parsed.data, file))
      seen.set(parsed.data.id, file)
    } catch (err) {
      rejected.push({path: file, reason: `rule ${id} rejected: ${errorMessage(err)}`})
    }
  })
  return rejected
}

function zodMessage(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ')
}

/** Compile one validated rule; throws with a message naming the bad pattern. */
export function compileRule(spec: RuleSpec, file = '<inline>'): CompiledRule {
  if (spec.patterns.length === 0 && !spec.detector) throw new Error('needs patterns or a detector')
  if (spec.request && spec.payload) throw new Error('a rule is a request or a payload, not both')
  const patterns = spec.patterns.map((p) =>
    compilePattern(typeof p === 'string' ? p : p.regex, typeof p === 'string' ? '' : (p.flags ?? '')),
  )
  const own = spec.patterns.map((p) => (typeof p === 'string' ? undefined : p.keywords))
  const all = spec.keywords
  // base64 is case-sensitive: offsets come from the keywords as written, then fold like the rest
  const gate = spec.detector === 'base64-payload' ? all.flatMap(base64Offsets) : all
  const keywordAlternation = all.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
  const anchored = spec.patterns.map((p) =>
    typeof p === 'string' ? !!spec.starts_with_keyword : (p.starts_with_keyword ?? !!spec.starts_with_keyword),
  )
  const anchors = anchored.some(Boolean)
    ? {
        finder: new RegExp(keywordAlternation, patterns.some((re) => re.unicode) ? 'giu' : 'gi'),
        sticky: patterns.map((re, i) => (anchored[i] ? stickyOf(re) : undefined)),
      }
    : undefined
  return {
    id: spec.id,
    title: spec.title,
    description: spec.description,
    category: spec.category,
    severity: spec.severity,
    attribution: spec.source,
    kinds: spec.applies_to?.kinds ? new Set(spec.applies_to.kinds) : null,
    tools: spec.applies_to?.tools ? new Set(spec.applies_to.tools) : null,
    keywords: [...new Set(gate.map((k) => k.toLowerCase()))],
    prefilter: [...new Set((spec.detector === 'stray-task' ? lineStarts(gate) : gate).flatMap(rawForms))],
    patterns,
    patternKeywords: own.map((k) => k?.map((w) => w.toLowerCase())),
    anchors,
    rawGate: spec.raw_gate === undefined ? undefined : stickyOf(compilePattern(spec.raw_gate, '', false)),
    detector: spec.detector,
    openers: spec.detector === 'stray-task' ? openersOf(all) : undefined,
    request: spec.request ?? false,
    payload: spec.payload ?? false,
    secretGroup: spec.secret_group,
    entropy: spec.entropy,
    alreadyMasked: spec.already_masked ?? false,
    stopwords: (spec.allowlist?.stopwords ?? []).map((s) => s.toLowerCase()),
    allow: (spec.allowlist?.regexes ?? []).map((r) => compilePattern(r, '', false)),
    tags: spec.tags ?? [],
    tests: spec.tests,
    file,
  }
}

/**
 * A `stray-task` rule's keywords open a line: in raw bytes they follow a newline (escaped in JSON),
 * a list or quote marker, or the opening quote of a JSON string (the text's first line).
 */
function lineStarts(keywords: string[]): string[] {
  return keywords.flatMap((k) => ['\n', '\n- ', '\n* ', '\n> ', '"'].map((before) => before + k))
}

function stickyOf(re: RegExp): RegExp {
  return new RegExp(re.source, `${re.flags.replace('g', '')}y`)
}

/** gitleaks writes `(?i)` up front; JavaScript wants a flag. Scoped `(?-i:…)` has no JS equivalent on Node 20. */
export function compilePattern(source: string, flags: string, global = true): RegExp {
  let src = source
  let f = flags
  if (src.startsWith('(?i)')) {
    src = src.slice(4)
    if (!f.includes('i')) f += 'i'
  }
  if (/\(\?-?[a-z]+[:)]/.test(src)) {
    throw new Error(
      `pattern /${source}/: inline flag groups like (?-i:…) are not supported in JavaScript; expand the case classes instead`,
    )
  }
  if (/[^\x00-\x7f]|\\u\{|\\p\{/.test(src) && !f.includes('u')) f += 'u'
  try {
    return new RegExp(src, global ? `${f}g` : f)
  } catch (err) {
    throw new Error(`invalid regex /${source}/: ${errorMessage(err).replace(/^Invalid regular expression: /, '')}`)
  }
}

/**
 * The forms a keyword takes in raw bytes (latin1 view): its UTF-8 bytes and, when JSON would
 * escape it, the escaped forms (`\"`, `\u200b`) — so the prefilter sees what JSON.parse would decode.
 */
export function rawForms(keyword: string): string[] {
  const lower = keyword.toLowerCase()
  const forms = new Set<string>([Buffer.from(lower, 'utf8').toString('latin1')])
  const jsonEscaped = JSON.stringify(lower).slice(1, -1)
  forms.add(jsonEscaped)
  // ensure_ascii writers (Python json.dumps) escape every non-ASCII char
  forms.add(lower.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
  // a form with a char above U+00FF is no byte string (JSON leaves astral chars as surrogate pairs)
  return [...forms].filter((f) => f.length >= 2 && !/[^\x00-\xff]/.test(f))
}

/**
 * Substrings that the base64 encoding of `word` has whatever its byte offset in the encoded
 * blob (Sigma's `base64offset`): a cheap keyword gate for encoded payloads.
 */
export function base64Offsets(word: string): string[] {
  const out: string[] = []
  for (let i = 0; i < 3; i++) {
    const enc = Buffer.from('\0'.repeat(i) + word, 'utf8').toString('base64')
    const start = [0, 2, 3][i] ?? 0
    const rem = (i + Buffer.byteLength(word)) % 3
    const end = enc.length - (rem === 0 ? 0 : rem === 1 ? 3 : 2)
    if (end - start >= 4) out.push(enc.slice(start, end))
  }
  return out
}
