/**
 * Keyword prefilter over raw bytes: one pass per chunk finds where keywords (ASCII
 * case-insensitive) occur. Each position's next four bytes, case-folded with `| 0x20` (a superset
 * of ASCII case folding), are kept in a rolling 32-bit window; a hash of it is looked up in a
 * 1 Mi-bit set holding every keyword's *anchor*: four bytes of it, at its start for keywords of
 * up to 7 bytes (3-byte ones with every possible fourth byte), for longer ones the four least
 * likely to occur in chat text and JSON that still have four more bytes after them. 2-byte
 * keywords sit in a small table of first two bytes. That rejects all but a few positions in a
 * hundred with three array reads and no unpredictable branch. A long keyword's anchor alone
 * lets common words through (`from` of `from now on`), so its next four bytes are checked in a
 * second set of (anchor, next four) hashes before the candidates are compared in full.
 */

export interface PrefilterKeyword {
  /** Lower-cased, as a latin1 string (one char per byte). At least 2 bytes. */
  bytes: string
  /** Opaque tag returned with a hit (e.g. a rule keyword vs a context marker). */
  tag: number
  /** Anchor on the first four bytes: hits then come in start order relative to other keywords starting earlier. */
  anchorAtStart?: boolean
}

const LOWER = new Uint8Array(256)
for (let i = 0; i < 256; i++) LOWER[i] = i >= 65 && i <= 90 ? i + 32 : i

interface Entry {
  bytes: Uint8Array
  tag: number
  /** Offset of the anchor (the four bytes the window must hold) in the keyword. */
  offset: number
  /** The anchor folded with `| 0x20`, as the rolling window holds it (right-aligned for short keywords). */
  head: number
  /** Shift that right-aligns the window to `head`: 0 for keywords of 4+ bytes, 8 for 3, 16 for 2. */
  shift: number
}

const HASH_BITS = 20
const HASH_MUL = 0x9e3779b1
const BUCKETS = 1 << 16
/** Keywords this long or longer get the second check (anchor + the four bytes after it). */
const LONG = 8

function hash4(w: number): number {
  return Math.imul(w, HASH_MUL) >>> (32 - HASH_BITS)
}

function hash8(w: number, w2: number): number {
  return Math.imul(w ^ Math.imul(w2, 0x85ebca6b), HASH_MUL) >>> (32 - HASH_BITS)
}

function setBit(bits: Int32Array, h: number): void {
  bits[h >>> 5] = (bits[h >>> 5] ?? 0) | (1 << (h & 31))
}

/**
 * How common a byte is in chat text, code and JSON (higher = more common), after `| 0x20`.
 * Letters by English frequency; space and JSON punctuation above them; anything else rare.
 */
const COMMONNESS = new Uint8Array(256)
{
  const ranked = ' e"taoinsrhldcu,:mfpgwybv.0123456789k_-/xjqz{}[]\\'
  for (let i = 0; i < ranked.length; i++) COMMONNESS[ranked.charCodeAt(i) | 0x20] = ranked.length - i
}

/** Offset of the four bytes of `bytes` least likely to occur together in ordinary text, with four more after them. */
function rarestAnchor(bytes: Uint8Array): number {
  let best = 0
  let bestScore = Infinity
  for (let j = 0; j + LONG <= bytes.length; j++) {
    let score = 0
    for (let k = 0; k < 4; k++) score += COMMONNESS[bytes[j + k]! | 0x20]! ** 2
    if (score < bestScore) {
      bestScore = score
      best = j
    }
  }
  return best
}

export class Prefilter {
  /** Hashes of the anchors of every keyword of 3 bytes or more. */
  private readonly bits = new Int32Array(1 << (HASH_BITS - 5))
  /** Anchor hashes of keywords shorter than LONG: compared in full without the second check. */
  private readonly direct = new Int32Array(1 << (HASH_BITS - 5))
  /** Hashes of (anchor, next four bytes) of the LONG keywords. */
  private readonly bits8 = new Int32Array(1 << (HASH_BITS - 5))
  /** Folded first two bytes of the 2-byte keywords. */
  private readonly short = new Uint8Array(65536)
  /** Keywords of 3+ bytes by the low bits of their anchor's hash; 2-byte ones by their folded bytes. */
  private readonly buckets: Array<Entry[] | undefined> = new Array(BUCKETS)
  private readonly shortLists: Array<Entry[] | undefined> = new Array(65536)
  /** Keywords anchored at the position the last successful `next` returned: [0, count). */
  readonly tags = new Int32Array(64)
  /** Where each of them starts (at or before the anchor) … */
  readonly starts = new Int32Array(64)
  /** … and its length in bytes. */
  readonly lengths = new Int32Array(64)
  count = 0

  constructor(keywords: PrefilterKeyword[]) {
    const seen = new Set<string>()
    const add = (lists: Array<Entry[] | undefined>, idx: number, e: Entry) => {
      const list = lists[idx] ?? (lists[idx] = [])
      if (!list.includes(e)) list.push(e)
    }
    for (const k of keywords) {
      const key = `${k.tag}\0${k.bytes}`
      if (k.bytes.length < 2 || seen.has(key)) continue
      seen.add(key)
      const bytes = Uint8Array.from(Buffer.from(k.bytes, 'latin1'), (b) => LOWER[b] ?? b)
      const n = bytes.length
      const offset = n >= LONG && !k.anchorAtStart ? rarestAnchor(bytes) : 0
      const f = (j: number) => (bytes[offset + j] ?? 0) | 0x20
      if (n === 2) {
        const e: Entry = {bytes, tag: k.tag, offset, head: (f(0) << 8) | f(1), shift: 16}
        this.short[e.head] = 1
        add(this.shortLists, e.head, e)
      } else {
        const head3 = (f(0) << 24) | (f(1) << 16) | (f(2) << 8)
        const e: Entry = {bytes, tag: k.tag, offset, head: n > 3 ? (head3 | f(3)) >>> 0 : head3 >>> 8, shift: n > 3 ? 0 : 8}
        for (const x of n > 3 ? [f(3)] : Array.from({length: 128}, (_, i) => (i + 128) | 0x20).concat(Array.from({length: 128}, (_, i) => i | 0x20))) {
          const h = hash4(head3 | x)
          setBit(this.bits, h)
          if (n < LONG) setBit(this.direct, h)
          add(this.buckets, h & (BUCKETS - 1), e)
        }
        if (n >= LONG) setBit(this.bits8, hash8(e.head | 0, (f(4) << 24) | (f(5) << 16) | (f(6) << 8) | f(7)))
      }
    }
  }

  /**
   * Every keyword occurring in buf[from, to): `marks[tag] = 1` for each tag ≥ 0 (rule indexes);
   * negative tags (context markers) are ignored here. One pass, whatever the number of keywords.
   */
  collect(buf: Uint8Array, from: number, to: number, marks: Uint8Array): void {
    let p = from
    const tags = this.tags
    while (p < to) {
      const at = this.next(buf, p, to, from)
      if (at < 0) return
      for (let t = 0; t < this.count; t++) if (tags[t]! >= 0) marks[tags[t]!] = 1
      p = at + 1
    }
  }

  /**
   * Next anchor position in buf[from, to) where at least one keyword lying wholly inside
   * buf[min, to) is anchored, or -1. tags/starts/lengths[0, count) then describe them. Every
   * occurrence is reported exactly once, at its anchor (never before its start, and on the same
   * line as long as keywords hold no newline): to go on, call again from the returned position
   * + 1 with the same `min`.
   */
  next(buf: Uint8Array, from: number, to: number, min = from): number {
    const bits = this.bits
    const short = this.short
    const direct = this.direct
    const bits8 = this.bits8
    let i = from
    let w = 0
    if (to - i >= 4) {
      w = ((buf[i]! | 0x20) << 16) | ((buf[i + 1]! | 0x20) << 8) | (buf[i + 2]! | 0x20)
      for (const last = to - 3; i < last; i++) {
        w = (w << 8) | (buf[i + 3]! | 0x20)
        const h = Math.imul(w, HASH_MUL) >>> (32 - HASH_BITS)
        if (((bits[h >>> 5]! >>> (h & 31)) & 1) === 0 && short[w >>> 16] === 0) continue
        if (((direct[h >>> 5]! >>> (h & 31)) & 1) === 0 && short[w >>> 16] === 0 && i + 8 <= to) {
          const w2 = ((buf[i + 4]! | 0x20) << 24) | ((buf[i + 5]! | 0x20) << 16) | ((buf[i + 6]! | 0x20) << 8) | (buf[i + 7]! | 0x20)
          const h8 = hash8(w, w2)
          if (((bits8[h8 >>> 5]! >>> (h8 & 31)) & 1) === 0) continue
        }
        if (this.verify(buf, i, min, to, w, h & (BUCKETS - 1))) return i
      }
    }
    // the last three positions: only keywords of 2 or 3 bytes fit (3-byte ones are filed under every fourth byte)
    for (; i < to - 1; i++) {
      w = ((buf[i]! | 0x20) << 24) | ((buf[i + 1]! | 0x20) << 16) | (i + 2 < to ? (buf[i + 2]! | 0x20) << 8 : 0) | 0x20
      if (this.verify(buf, i, min, to, w, hash4(w) & (BUCKETS - 1))) return i
    }
    return -1
  }

  /** Keywords anchored at i (w = the folded window there). */
  private verify(buf: Uint8Array, i: number, min: number, to: number, w: number, bucket: number): boolean {
    this.count = 0
    this.check(this.buckets[bucket], buf, i, min, to, w)
    if (this.short[w >>> 16] !== 0) this.check(this.shortLists[w >>> 16], buf, i, min, to, w)
    return this.count > 0
  }

  private check(list: Entry[] | undefined, buf: Uint8Array, i: number, min: number, to: number, w: number): void {
    if (!list) return
    for (let e = 0; e < list.length; e++) {
      const entry = list[e]!
      if (entry.head !== w >>> entry.shift) continue
      const k = entry.bytes
      const n = k.length
      const s = i - entry.offset
      if (s < min || s + n > to) continue
      let j = 0
      while (j < n && LOWER[buf[s + j]!] === k[j]) j++
      if (j !== n || this.count === this.tags.length) continue
      this.tags[this.count] = entry.tag
      this.starts[this.count] = s
      this.lengths[this.count++] = n
    }
  }
}
