import {fingerprint, isMasked} from '../system/secret-vocabulary.js'

/**
 * Secrets that span lines, masked whole: PEM and OpenSSH private keys and PGP private key blocks,
 * as they sit in a file (BEGIN … END over many lines) or JSON-escaped on one line (a transcript, a
 * service-account key's `private_key`); and the credential fields of JSON key files. A block
 * becomes `-----BEGIN <label>-----⏎…«sha256:12hex»⏎-----END <label>-----`: the hash is over the
 * key's base64 characters only, so the same key has the same mark in a file and in a transcript.
 * Every scan here is linear: markers are found with indexOf, bodies walked once.
 */

/** Bounded label (≤ 40 chars before PRIVATE KEY): linear on any input. */
const BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?)-----/g
/** A block body longer than this is masked as it stands (no END looked for past it). */
export const MAX_BLOCK = 1 << 20
/** JSON fields of credential files (service-account keys, OAuth client files) whose values are secrets. */
const FIELD = /"(private_key|private_key_id|client_secret|refresh_token)"(\s{0,16}:\s{0,16})"((?:[^"\\]|\\.){8,8192})"/g

export const BLOCK_KEYWORDS = ['-----begin ']
export const FIELD_KEYWORDS = ['"private_key', '"client_secret"', '"refresh_token"']

/** The mark of a key body: its base64 characters hashed (escaped newlines dropped first). */
export function blockMark(body: string): string {
  const b64 = body.replace(/\\[nrt]/g, '').replace(/[^A-Za-z0-9+/=]/g, '')
  return `…«sha256:${fingerprint(b64)}»`
}

function isBody(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 43 ||
    c === 47 ||
    c === 61 ||
    c === 10 ||
    c === 13
  )
}

/** End of a body without END line: base64, newlines and escaped newlines only. */
function bodyEnd(text: string, from: number): number {
  const limit = Math.min(text.length, from + MAX_BLOCK)
  let i = from
  while (i < limit) {
    const c = text.charCodeAt(i)
    if (isBody(c)) i++
    else if (c === 92 && (text[i + 1] === 'n' || text[i + 1] === 'r')) i += 2
    else break
  }
  return i
}

/** Every private key block in a text (raw or JSON-escaped) replaced by its mark. */
export function maskKeyBlocks(text: string): {text: string; count: number} {
  if (!text.includes('PRIVATE KEY')) return {text, count: 0}
  let out = ''
  let copied = 0
  let count = 0
  let noEndAfter = Infinity
  BEGIN.lastIndex = 0
  for (let m = BEGIN.exec(text); m; m = BEGIN.exec(text)) {
    const label = m[1]!
    const bodyStart = m.index + m[0].length
    const endMarker = `-----END ${label}-----`
    let end = bodyStart >= noEndAfter ? -1 : text.indexOf(endMarker, bodyStart)
    if (end < 0) noEndAfter = Math.min(noEndAfter, bodyStart)
    if (end - bodyStart > MAX_BLOCK) end = -1
    const escaped = text.slice(bodyStart, bodyStart + 4).startsWith('\\')
    const nl = escaped ? '\\n' : '\n'
    const bodyStop = end >= 0 ? end : bodyEnd(text, bodyStart)
    const body = text.slice(bodyStart, bodyStop)
    out += text.slice(copied, m.index)
    out +=
      end >= 0
        ? `-----BEGIN ${label}-----${nl}${blockMark(body)}${nl}${endMarker}`
        : `-----BEGIN ${label}-----${nl}${blockMark(body)} (cut: no END line)${nl}`
    copied = end >= 0 ? end + endMarker.length : bodyStop
    BEGIN.lastIndex = copied
    count++
  }
  return {text: out + text.slice(copied), count}
}

/** Credential fields of JSON key files (`private_key_id`, `client_secret`, `refresh_token`): values masked. */
export function maskCredentialFields(text: string, mark: (v: string) => string): {text: string; count: number} {
  let count = 0
  FIELD.lastIndex = 0
  const out = text.replace(FIELD, (all, key: string, sep: string, value: string) => {
    if (isMasked(value)) return all
    count++
    return `"${key}"${sep}"${mark(value)}"`
  })
  return {text: out, count}
}

/**
 * Line by line (a streamed file): a BEGIN line without its END opens a block; body lines are held
 * (bounded) until the END line, then the block comes out as its mark. A line that is not body text
 * (nor a PEM/PGP header line) closes the block as cut.
 */
export class KeyBlockLines {
  private block?: {label: string; body: string; nl: string}
  count = 0

  get open(): boolean {
    return this.block !== undefined
  }

  /** One line (with its newline): `emit` (a finished block's mark) goes out first, then `rest`, redacted as usual. */
  line(text: string): {emit: string; rest: string} {
    const b = this.block
    if (b) {
      const endMarker = `-----END ${b.label}-----`
      const at = text.indexOf(endMarker)
      if (at >= 0) {
        b.body += text.slice(0, at)
        this.block = undefined
        this.count++
        return {
          emit: `-----BEGIN ${b.label}-----${b.nl}${blockMark(b.body)}${b.nl}${endMarker}`,
          rest: text.slice(at + endMarker.length),
        }
      }
      if (isBodyLine(text) && b.body.length + text.length <= MAX_BLOCK) {
        b.body += text
        return {emit: '', rest: ''}
      }
      return {emit: this.flush(), rest: text}
    }
    BEGIN.lastIndex = 0
    const m = BEGIN.exec(text)
    if (!m) return {emit: '', rest: text}
    const after = text.slice(m.index + m[0].length)
    if (after.includes(`-----END ${m[1]}-----`) || after.startsWith('\\')) return {emit: '', rest: text}
    this.block = {label: m[1]!, body: after, nl: /\r\n$/.test(text) ? '\r\n' : '\n'}
    return {emit: '', rest: text.slice(0, m.index)}
  }

  /** A held block without its END (cut, or the file ended): its mark. */
  flush(): string {
    const b = this.block
    if (!b) return ''
    this.block = undefined
    this.count++
    return `-----BEGIN ${b.label}-----${b.nl}${blockMark(b.body)} (cut: no END line)${b.nl}`
  }
}

/** Base64 body text, a blank line, or a PEM/PGP header (`Proc-Type: …`, `Version: …`, `Comment: …`). */
function isBodyLine(text: string): boolean {
  const t = text.replace(/\r?\n$/, '')
  if (t.length === 0) return true
  if (/^[A-Za-z][A-Za-z-]{0,30}: /.test(t)) return true
  for (let i = 0; i < t.length; i++) if (!isBody(t.charCodeAt(i))) return false
  return true
}
