import JSON5 from 'json5'

import {entropy, maskSecret} from '../detect/mask.js'
import {maskSecrets} from '../openclaw/config-edit.js'
import {isMasked, MASK_PATTERN, SECRET_ENV_NAME, SECRET_KEY_NAME} from '../system/secret-vocabulary.js'

/**
 * Secret values of an install, learned from the files that hold them (config and its history,
 * .env, credential stores, device/pairing stores, service units, SQLite secret tables), so that
 * every other bundled file can be checked for them: a gateway token pasted into a chat or a log is
 * masked there too. Values are kept in memory only, never written.
 */

/** Key names whose string values are secrets (config, JSON stores, JSON columns): the one vocabulary. */
export const SECRET_KEY = SECRET_KEY_NAME
const SECRET_ENV_KEY = SECRET_ENV_NAME
/** Shorter values are not replaced file-wide (they would mangle ordinary words); keyed masking still hides them. */
export const MIN_KNOWN_LENGTH = 8

export class KnownSecrets {
  private readonly values = new Set<string>()
  /** Bumped on every new value: redactors rebuild their prefilter when it changes. */
  version = 0

  add(values: Iterable<string>): number {
    let added = 0
    for (const v of values) {
      const s = v.trim()
      if (s.length < MIN_KNOWN_LENGTH || this.values.has(s) || isPlaceholder(s)) continue
      this.values.add(s)
      added++
    }
    if (added) this.version++
    return added
  }

  list(): string[] {
    // longest first: a value containing another is replaced whole
    return [...this.values].sort((a, b) => b.length - a.length)
  }

  get size(): number {
    return this.values.size
  }
}

function isPlaceholder(s: string): boolean {
  return /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(s) || isMasked(s) || /^\*+$/.test(s)
}

/**
 * Not a secret but where one goes, in prose (`password: <your-password>`, `passwd=${DB_PASS}`,
 * `xxxx`, `changeme`, an example): stricter than for values under a secret key of a store.
 */
export function isProsePlaceholder(s: string): boolean {
  return (
    isPlaceholder(s) ||
    /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$|^\$[A-Z_][A-Z0-9_]*$|^\{\{[^}]{0,64}\}\}$|^<[^<>]{0,64}>$/.test(s) ||
    /^(?:[*xX•.]+|null|none|true|false|undefined|required|string|empty)$/i.test(s) ||
    /changeme|change[-_]me|example|placeholder|your[-_ ]?(?:own[-_ ]?)?(?:password|secret|token|key)|redacted/i.test(s)
  )
}

/** A long token that looks random (letters and digits, high entropy): a credential even without a telling key. */
export function looksRandom(s: string, minLength = 20): boolean {
  return s.length >= minLength && !/\s/.test(s) && /[0-9]/.test(s) && /[A-Za-z]/.test(s) && entropy(s) >= 3.3
}

/** String values under secret-looking keys, anywhere in a JSON value. */
export function jsonSecretValues(value: unknown, opts: {randomToo?: boolean} = {}): string[] {
  const out: string[] = []
  const walk = (v: unknown, secretContext: boolean): void => {
    if (typeof v === 'string') {
      if (secretContext || (opts.randomToo && looksRandom(v))) out.push(v)
      return
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, secretContext)
      return
    }
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, secretContext || SECRET_KEY.test(k))
    }
  }
  walk(value, false)
  return out.filter((s) => s.length > 0 && !isPlaceholder(s))
}

/** KEY=VALUE lines (.env, systemd Environment=, `set` in .cmd files, launchd plist pairs). */
export function envSecretValues(text: string): string[] {
  const out: string[] = []
  // systemd: Environment="A=1" "B=2" holds the pairs inside quotes
  const flat = text.replace(/^\s*Environment\s*=\s*/gm, ' ')
  for (const m of flat.matchAll(
    /(?:^|[\s"'])(?:export\s+|set\s+"?)?([A-Za-z_][A-Za-z0-9_]*)=("[^"\n]*"|'[^'\n]*'|[^\s"'\n]*)/gm,
  )) {
    const key = m[1] ?? ''
    const value = (m[2] ?? '').replace(/^["']|["']$/g, '')
    if (value && (SECRET_ENV_KEY.test(key) || looksRandom(value, 16))) out.push(value)
  }
  for (const m of text.matchAll(/<key>([^<]+)<\/key>\s*<string>([^<]*)<\/string>/g)) {
    if (SECRET_ENV_KEY.test(m[1] ?? '') && m[2]) out.push(m[2])
  }
  return out
}

/** Base64 body lines of PEM blocks, and random-looking tokens of any other secret store text. */
export function storeTextSecretValues(text: string): string[] {
  const out: string[] = []
  let parsed: unknown
  try {
    parsed = JSON5.parse(text)
  } catch {
    /* not JSON */
  }
  if (parsed !== undefined) out.push(...jsonSecretValues(parsed, {randomToo: true}))
  out.push(...envSecretValues(text))
  for (const m of text.matchAll(/^[A-Za-z0-9+/=]{40,}$/gm)) out.push(m[0])
  for (const m of text.matchAll(/[A-Za-z0-9_\-+/=.~]{20,}/g)) if (looksRandom(m[0])) out.push(m[0])
  return out
}

/** Replace every occurrence of the values (and their JSON-escaped forms) by mark(value). */
export function replaceValues(
  text: string,
  values: string[],
  mark: (v: string) => string = maskSecret,
): {text: string; count: number} {
  let out = text
  let count = 0
  for (const v of [...new Set(values)].sort((a, b) => b.length - a.length)) {
    if (!v) continue
    for (const form of new Set([v, JSON.stringify(v).slice(1, -1)])) {
      if (!out.includes(form)) continue
      const parts = out.split(form)
      count += parts.length - 1
      out = parts.join(mark(v))
    }
  }
  return {text: out, count}
}

export interface Masked {
  text: string
  count: number
  /** Secret values found (to be masked in every other file too). */
  values: string[]
  /** The file did not parse: masking fell back to key=value lines. */
  unparsed?: boolean
}

/** OpenClaw config (JSON5, maybe broken): secret values → «sha256:…» fingerprints, layout and comments kept. */
export function maskConfigText(text: string, known: string[] = []): Masked {
  let values: string[] = []
  let unparsed = false
  try {
    values = jsonSecretValues(JSON5.parse(text))
  } catch {
    unparsed = true
  }
  // keyed values are read from the text itself too: a config that does not parse still names its secrets
  values.push(...keyedSecretValues(text), ...envSecretValues(text))
  const long = [...values, ...known].filter((v) => v.length >= MIN_KNOWN_LENGTH)
  const masked = maskSecrets(text, long)
  // keyed values of any length (short passwords) on lines maskSecrets did not catch
  const rest = replaceKeyed(masked)
  return {text: rest.text, count: countMarks(rest.text) - countMarks(text), values, unparsed}
}

/** JSON store (pairing, devices, approvals): structure kept, secret values masked. */
export function maskJsonText(text: string, known: string[] = []): Masked {
  let values: string[] = []
  let unparsed = false
  try {
    values = jsonSecretValues(JSON5.parse(text), {randomToo: true})
  } catch {
    unparsed = true
  }
  const r = replaceValues(text, [...values, ...known.filter((k) => text.includes(k))])
  const keyed = replaceKeyed(r.text)
  return {text: keyed.text, count: r.count + keyed.count, values, unparsed}
}

/** Unit files, gateway.cmd, plists: KEY=VALUE secrets masked. */
export function maskEnvText(text: string, known: string[] = []): Masked {
  const values = envSecretValues(text)
  const r = replaceValues(text, [...values, ...known.filter((k) => text.includes(k))])
  return {text: r.text, count: r.count, values}
}

/**
 * `"token": "x"` / `token: 'x'` on one line, JSON or JSON5 whether it parses or not. Key and spacing
 * lengths are bounded: linear on any input.
 */
const KEYED = /(["']?)([A-Za-z0-9_$-]{1,64})\1([ \t]{0,16}:[ \t]{0,16})(["'])((?:(?!\4)[^\\\n]|\\.){1,8192})\4/g

function keyedSecret(key: string, value: string): boolean {
  return SECRET_KEY.test(key) && !isPlaceholder(value)
}

/** Values under secret-looking keys, read from the text (a config with a stray comma still gives its token). */
export function keyedSecretValues(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(KEYED)) {
    const value = unescapeJs(m[5]!)
    if (keyedSecret(m[2]!, value)) out.push(value)
  }
  return out
}

/** The value masked whatever its length. */
function replaceKeyed(text: string): {text: string; count: number} {
  let count = 0
  const out = text.replace(KEYED, (all, q: string, key: string, sep: string, vq: string, value: string) => {
    if (!keyedSecret(key, value)) return all
    count++
    return `${q}${key}${q}${sep}${vq}${maskSecret(value)}${vq}`
  })
  return {text: out, count}
}

function unescapeJs(s: string): string {
  if (!s.includes('\\')) return s
  try {
    return JSON.parse(`"${s.replace(/\\'/g, "'")}"`) as string
  } catch {
    return s
  }
}

/** Secret-named variables of a process environment (the gateway's: /proc/<pid>/environ). */
export function environSecretValues(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([k, v]) => SECRET_ENV_KEY.test(k) && v.length > 0)
    .map(([, v]) => v)
}

function countMarks(s: string): number {
  return (s.match(MASK_PATTERN) ?? []).length
}
