/**
 * Keyword prefilter over raw bytes: one pass per chunk finds the first position where any keyword
 * (ASCII case-insensitive) starts. A 64 Ki-entry table indexed by the first two lower-cased bytes,
 * with a bitmask of possible third bytes, rejects almost every position with two array reads; it
 * runs about 2.5× faster in V8 than one alternation regex over the same keywords (measured:
 * ~250 MB/s vs ~105 MB/s), which is what keeps `ir scan` near ripgrep.
 */

export interface PrefilterKeyword {
  /** Lower-cased, as a latin1 string (one char per byte). At least 2 bytes. */
  bytes: string
  /** Opaque tag returned with a hit (e.g. a rule keyword vs a context marker). */
  tag: number
}

const LOWER = new Uint8Array(256)
for (let i = 0; i < 256; i++) LOWER[i] = i >= 65 && i <= 90 ? i + 32 : i

interface Entry {bytes: Uint8Array; tag: number}

export class Prefilter {
  private readonly table = new Int32Array(65536)
  private readonly lists: Array<Entry[] | undefined> = new Array(65536)
  /** Tag of the keyword found by the last successful `find`. */
  hitTag = 0
  hitLength = 0
  readonly maxKeywordLength: number

  constructor(keywords: PrefilterKeyword[]) {
    let max = 0
    const seen = new Set<string>()
    for (const k of keywords) {
      const key = `${k.tag}\0${k.bytes}`
      if (k.bytes.length < 2 || seen.has(key)) continue
      seen.add(key)
      const bytes = Uint8Array.from(Buffer.from(k.bytes, 'latin1'), (b) => LOWER[b] ?? b)
      const idx = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)
      this.table[idx] = (this.table[idx] ?? 0) | (bytes.length > 2 ? 1 << ((bytes[2] ?? 0) & 31) : -1)
      const list = this.lists[idx] ?? (this.lists[idx] = [])
      list.push({bytes, tag: k.tag})
      max = Math.max(max, bytes.length)
    }
    this.maxKeywordLength = max
  }

  /**
   * Every keyword occurring in buf[from, to): `marks[tag] = 1` for each tag ≥ 0 (rule indexes);
   * negative tags (context markers) are ignored here. One pass, whatever the number of keywords.
   */
  collect(buf: Uint8Array, from: number, to: number, marks: Uint8Array): void {
    const table = this.table
    const low = LOWER
    if (to - from < 2) return
    let b0 = low[buf[from]!]!
    let b1 = low[buf[from + 1]!]!
    const last = to - 1
    for (let i = from; i < last; i++) {
      const mask = table[(b0 << 8) | b1]!
      const b2 = i + 2 < to ? low[buf[i + 2]!]! : 0
      if (mask !== 0 && (i + 2 >= to || ((mask >>> (b2 & 31)) & 1) !== 0)) {
        const list = this.lists[(b0 << 8) | b1]!
        for (let e = 0; e < list.length; e++) {
          const entry = list[e]!
          if (entry.tag < 0 || marks[entry.tag] === 1) continue
          const k = entry.bytes
          const n = k.length
          if (i + n > to) continue
          let j = 2
          while (j < n && low[buf[i + j]!] === k[j]) j++
          if (j === n) marks[entry.tag] = 1
        }
      }
      b0 = b1
      b1 = b2
    }
  }

  /** Start of the first keyword occurrence in buf[from, to), or -1. Sets hitTag/hitLength. */
  find(buf: Uint8Array, from: number, to: number): number {
    const table = this.table
    const low = LOWER
    if (to - from < 2) return -1
    let b0 = low[buf[from]!]!
    let b1 = low[buf[from + 1]!]!
    const last = to - 1
    for (let i = from; i < last; i++) {
      const mask = table[(b0 << 8) | b1]!
      const b2 = i + 2 < to ? low[buf[i + 2]!]! : 0
      if (mask !== 0 && (i + 2 >= to || ((mask >>> (b2 & 31)) & 1) !== 0)) {
        const list = this.lists[(b0 << 8) | b1]!
        for (let e = 0; e < list.length; e++) {
          const k = list[e]!.bytes
          const n = k.length
          if (i + n > to) continue
          let j = 2
          while (j < n && low[buf[i + j]!] === k[j]) j++
          if (j === n) {
            this.hitTag = list[e]!.tag
            this.hitLength = n
            return i
          }
        }
      }
      b0 = b1
      b1 = b2
    }
    return -1
  }
}
