import {fingerprint, isMasked, maskSecret as maskWith} from '../system/secret-vocabulary.js'

/** The fingerprint findings carry (src/system/secret-vocabulary.ts). */
export const shortHash = fingerprint

/** `sk-proj-abc…` → `sk-p…«sha256:ab12cd34ef56»`: a short prefix says which kind, the hash says which one. */
export function maskSecret(secret: string): string {
  return maskWith(secret, {keepPrefix: true})
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0
  const counts = new Map<string, number>()
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) {
    const p = n / s.length
    h -= p * Math.log2(p)
  }
  return h
}

const TOKEN = /[A-Za-z0-9_\-+/=.~:]{24,}/g

/**
 * Last line of defence for excerpts: any long token that looks random (letters and digits,
 * entropy ≥ 3.5) is masked even if no secret rule named it — a context window may cut a key in half.
 */
export function maskHighEntropyTokens(text: string): string {
  return text.replace(TOKEN, (tok) => {
    if (isMasked(tok)) return tok
    if (/^(?:https?:|\/)/.test(tok))
      return tok.replace(/[A-Za-z0-9_\-+=~]{24,}/g, (t) => (looksRandom(t) ? maskSecret(t) : t))
    return looksRandom(tok) ? maskSecret(tok) : tok
  })
}

function looksRandom(tok: string): boolean {
  return /[0-9]/.test(tok) && /[A-Za-z]/.test(tok) && entropy(tok) >= 3.5
}

const INVISIBLE =
  /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|[\u{E0000}-\u{E007F}]+|[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/gu

/** Make invisible characters visible; Unicode tag runs (ASCII smuggling) are decoded as evidence. */
export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (m) => {
    const cp = m.codePointAt(0) ?? 0
    if (cp >= 0xe0000) {
      const decoded = [...m].map((c) => String.fromCharCode((c.codePointAt(0) ?? 0) - 0xe0000)).join('')
      return `<TAGS:${decoded.replace(/[^\x20-\x7e]/g, '?')}>`
    }
    return `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`
  })
}

/**
 * Mask what a secret rule matches in text: its secret group (or the whole match) becomes a
 * fingerprint; `accept` can keep a match (allowlists, entropy). Returns the text and how many were masked.
 */
export function maskRuleMatches(
  rule: {patterns: RegExp[]; secretGroup?: number},
  text: string,
  accept: (secret: string, match: string) => boolean = () => true,
): {text: string; count: number} {
  let out = text
  let count = 0
  for (const re of rule.patterns) {
    re.lastIndex = 0
    out = out.replace(re, (...args: unknown[]) => {
      const match = args[0] as string
      const group = rule.secretGroup ? args[rule.secretGroup] : match
      const secret = typeof group === 'string' && group.length > 0 ? group : match
      // never mask a mask: its hash would be a second fingerprint for the same secret
      if (isMasked(secret) || !accept(secret, match)) return match
      count++
      return match.replace(secret, maskSecret(secret))
    })
  }
  return {text: out, count}
}
