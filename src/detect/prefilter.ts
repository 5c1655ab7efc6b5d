/**
 * Keyword prefilter over raw bytes: one pass per chunk finds where keywords (ASCII
 * case-insensitive) start. Each position's next four bytes, case-folded with `| 0x20` (a superset
 * of ASCII case folding), are kept in a rolling 32-bit window; a hash of it is looked up in a
 * 1 Mi-bit set holding every keyword's first four bytes (3-byte keywords with every fourth byte),
 * and the first two bytes in a small table of the 2-byte keywords. That rejects all but about one
 * position in a thousand with three array reads and no unpredictable branch; candidates are then
 * compared in full. (A table of first-two-bytes alone lets a quarter of the positions through on
 * English text, and the branch mispredictions cost more than the rest of the scan.)
 */

export interface PrefilterKeyword {
  /** Lower-cased, as a latin1 string (one char per byte). At least 2 bytes. */
  bytes: string
  /** Opaque tag returned with a hit (e.g. a rule keyword vs a context marker). */
  tag: number
}

const LOWER = new Uint8Array(256)
for (let i = 0; i < 256; i++) LOWER[i] = i >= 65 && i <= 90 ? i + 32 : i

interface Entry {
  bytes: Uint8Array
  tag: number
  /** Order given (find reports the first keyword in that order). */
  order: number
  /** First min(4, length) bytes folded with `| 0x20`, as the rolling window holds them (right-aligned). */
  head: number
  /** Shift that right-aligns the window to `head`: 0 for keywords of 4+ bytes, 8 for 3, 16 for 2. */
  shift: number
}

const HASH_BITS = 20
const HASH_MUL = 0x9e3779b1
const BUCKETS = 1 << 16

function hash4(w: number): number {
  return Math.imul(w, HASH_MUL) >>> (32 - HASH_BITS)
}

export class Prefilter {
  /** Hashes of the folded first four bytes of every keyword of 3 bytes or more. */
  private readonly bits = new Int32Array(1 << (HASH_BITS - 5))
  /** Folded first two bytes of the 2-byte keywords. */
  private readonly short = new Uint8Array(65536)
  /** Keywords of 3+ bytes by the low bits of their window hash; 2-byte ones by their folded bytes. */
  private readonly buckets: Array<Entry[] | undefined> = new Array(BUCKETS)
  private readonly shortLists: Array<Entry[] | undefined> = new Array(65536)
  /** Tag of the keyword found by the last successful `find`. */
  hitTag = 0
  hitLength = 0
  /** Tags of every keyword starting at the position the last successful `next` returned: tags[0, tagCount). */
  readonly tags = new Int32Array(64)
  tagCount = 0
  readonly maxKeywordLength: number

  constructor(keywords: PrefilterKeyword[]) {
    let max = 0
    const seen = new Set<string>()
    let order = 0
    const add = (lists: Array<Entry[] | undefined>, idx: number, e: Entry) => {
      const list = lists[idx] ?? (lists[idx] = [])
      if (!list.includes(e)) list.push(e)
    }
    for (const k of keywords) {
      const key = `${k.tag}\0${k.bytes}`
      if (k.bytes.length < 2 || seen.has(key)) continue
      seen.add(key)
      const bytes = Uint8Array.from(Buffer.from(k.bytes, 'latin1'), (b) => LOWER[b] ?? b)
      const f = (j: number) => (bytes[j] ?? 0) | 0x20
      const n = bytes.length
      if (n === 2) {
        const e: Entry = {bytes, tag: k.tag, order: order++, head: (f(0) << 8) | f(1), shift: 16}
        this.short[e.head] = 1
        add(this.shortLists, e.head, e)
      } else {
        const head3 = (f(0) << 24) | (f(1) << 16) | (f(2) << 8)
        const e: Entry = {bytes, tag: k.tag, order: order++, head: n > 3 ? (head3 | f(3)) >>> 0 : head3 >>> 8, shift: n > 3 ? 0 : 8}
        for (const x of n > 3 ? [f(3)] : Array.from({length: 128}, (_, i) => (i + 128) | 0x20).concat(Array.from({length: 128}, (_, i) => i | 0x20))) {
          const h = hash4(head3 | x)
          this.bits[h >>> 5] = (this.bits[h >>> 5] ?? 0) | (1 << (h & 31))
          add(this.buckets, h & (BUCKETS - 1), e)
        }
      }
      max = Math.max(max, n)
    }
    for (const lists of [this.buckets, this.shortLists]) for (const l of lists) l?.sort((x, y) => x.order - y.order)
    this.maxKeywordLength = max
  }

  /**
   * Every keyword occurring in buf[from, to): `marks[tag] = 1` for each tag ≥ 0 (rule indexes);
   * negative tags (context markers) are ignored here. One pass, whatever the number of keywords.
   */
  collect(buf: Uint8Array, from: number, to: number, marks: Uint8Array): void {
    let p = from
    const tags = this.tags
    while (p < to) {
      const hit = this.next(buf, p, to)
      if (hit < 0) return
      for (let t = 0; t < this.tagCount; t++) if (tags[t]! >= 0) marks[tags[t]!] = 1
      p = hit + 1
    }
  }

  /**
   * Next position in buf[from, to) where at least one keyword starts (and ends before `to`), or
   * -1. `tags` then holds the tag of every keyword starting there.
   */
  next(buf: Uint8Array, from: number, to: number): number {
    return this.scan(buf, from, to, false)
  }

  /** Start of the first keyword occurrence in buf[from, to), or -1. Sets hitTag/hitLength. */
  find(buf: Uint8Array, from: number, to: number): number {
    return this.scan(buf, from, to, true)
  }

  private scan(buf: Uint8Array, from: number, to: number, first: boolean): number {
    const bits = this.bits
    const short = this.short
    let i = from
    let w = 0
    if (to - i >= 4) {
      w = ((buf[i]! | 0x20) << 16) | ((buf[i + 1]! | 0x20) << 8) | (buf[i + 2]! | 0x20)
      for (const last = to - 3; i < last; i++) {
        w = (w << 8) | (buf[i + 3]! | 0x20)
        const h = Math.imul(w, HASH_MUL) >>> (32 - HASH_BITS)
        if (((bits[h >>> 5]! >>> (h & 31)) & 1) === 0 && short[w >>> 16] === 0) continue
        if (this.verify(buf, i, to, w, h & (BUCKETS - 1), first)) return i
      }
    }
    // the last three positions: only keywords of 2 or 3 bytes fit (3-byte ones are filed under every fourth byte)
    for (; i < to - 1; i++) {
      w = ((buf[i]! | 0x20) << 24) | ((buf[i + 1]! | 0x20) << 16) | (i + 2 < to ? (buf[i + 2]! | 0x20) << 8 : 0) | 0x20
      if (this.verify(buf, i, to, w, hash4(w) & (BUCKETS - 1), first)) return i
    }
    return -1
  }

  /** Keywords at i (w = the folded window there); `first`: only the first in order (find). */
  private verify(buf: Uint8Array, i: number, to: number, w: number, bucket: number, first: boolean): boolean {
    this.tagCount = 0
    this.best = undefined
    this.check(this.buckets[bucket], buf, i, to, w, first)
    if (this.short[w >>> 16] !== 0) this.check(this.shortLists[w >>> 16], buf, i, to, w, first)
    if (!first) return this.tagCount > 0
    const best = this.best as Entry | undefined
    if (!best) return false
    this.hitTag = best.tag
    this.hitLength = best.bytes.length
    return true
  }

  private best: Entry | undefined

  private check(list: Entry[] | undefined, buf: Uint8Array, i: number, to: number, w: number, first: boolean): void {
    if (!list) return
    for (let e = 0; e < list.length; e++) {
      const entry = list[e]!
      if (entry.head !== w >>> entry.shift) continue
      const k = entry.bytes
      const n = k.length
      if (i + n > to) continue
      let j = 0
      while (j < n && LOWER[buf[i + j]!] === k[j]) j++
      if (j !== n) continue
      if (!first) {
        if (this.tagCount < this.tags.length) this.tags[this.tagCount++] = entry.tag
      }
      else if (!this.best || entry.order < this.best.order) this.best = entry
    }
  }
}
