import {createRequire} from 'node:module'

import {PREFILTER_KERNEL} from './prefilter-kernel.js'

/**
 * Keyword prefilter over raw bytes: one pass per chunk finds where keywords (ASCII
 * case-insensitive) occur. Each position's next four bytes, case-folded with `| 0x20` (a superset
 * of ASCII case folding), are kept in a rolling 32-bit window; a hash of it is looked up in a
 * 1 Mi-bit set holding every keyword's *anchor*: four bytes of it, at its start for keywords of
 * up to 7 bytes (3-byte ones with every possible fourth byte), for longer ones the four least
 * likely to occur in chat text and JSON that still have four more bytes after them. 2-byte
 * keywords sit in a small table of first two bytes. That rejects all but about one position in
 * a hundred with three array reads and no unpredictable branch. A long keyword's anchor alone
 * lets common words through (`from` of `from now on`), so its next four bytes are checked in a
 * second set of (anchor, next four) hashes; the few candidates left are compared in full.
 *
 * The loop over every byte runs in WebAssembly (prefilter-kernel.wat); the tables live in its
 * memory and the comparisons in JavaScript, on the caller's buffer. Where Hyperscan is installed
 * (the optional `ir-hyperscan` addon, native/hyperscan/), it finds the keywords instead: about
 * three times as fast, the same occurrences (IR_PREFILTER=wasm keeps the WebAssembly loop).
 */

export interface PrefilterKeyword {
  /** Lower-cased, as a latin1 string (one char per byte). At least 2 bytes. */
  bytes: string
  /** Opaque tag returned with a hit (e.g. a rule keyword vs a context marker). */
  tag: number
  /** Anchor on the first bytes: a keyword starting before another one is then seen before it. */
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

// the kernel's memory layout (prefilter-kernel.wat)
const L1 = 0
const DIRECT = 131072
const L2 = 262144
const SHORT = 393216
const OUT = 458752
const OUT_MAX = 4096
const DATA = 524288
/** Bytes scanned per kernel call; the kernel reads up to 7 bytes past a window for the second check. */
const WINDOW = 1 << 20

function hash4(w: number): number {
  return Math.imul(w, HASH_MUL) >>> (32 - HASH_BITS)
}

/** A second, independent hash of the window: DIRECT is indexed by it. */
function hash4b(w: number): number {
  return Math.imul(w, 0x85ebca6b) >>> (32 - HASH_BITS)
}

/** w: the anchor window; next: the four bytes after it, folded, little-endian (as the kernel loads them). */
function hash8(w: number, next: number): number {
  return Math.imul(w ^ Math.imul(next, 0x85ebca6b), HASH_MUL) >>> (32 - HASH_BITS)
}

function setBit(bits: Int32Array, h: number): void {
  bits[h >>> 5] = bits[h >>> 5]! | (1 << (h & 31))
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

// Node has WebAssembly; TypeScript's libs declare it only with the DOM's
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => {exports: object}
}

let kernelModule: object | undefined

/** The optional Hyperscan addon (native/hyperscan/hs-prefilter.c). */
interface HyperscanAddon {
  compile(keywords: Buffer[]): object
  /** (keyword index, end offset from `from`) pairs into out; negative: -count, out too small (then `take`). */
  scan(handle: object, bytes: Uint8Array, from: number, to: number, out: Int32Array): number
  take(handle: object, out: Int32Array): number
}

const hyperscan: HyperscanAddon | undefined = (() => {
  try {
    return createRequire(import.meta.url)('ir-hyperscan') as HyperscanAddon
  } catch {
    return undefined
  }
})()

/** Whether the Hyperscan addon is built here. */
export const HYPERSCAN_BUILT = hyperscan !== undefined

/** Which loop finds the keywords by default in this process. */
export const PREFILTER_ENGINE: 'hyperscan' | 'wasm' =
  hyperscan && process.env.IR_PREFILTER !== 'wasm' ? 'hyperscan' : 'wasm'

/** A Hyperscan database of the distinct keywords, each with its tags. */
interface NativeKeywords {
  handle: object
  lengths: Int32Array
  maxLength: number
  tags: number[][]
}

interface Kernel {
  memory: {buffer: ArrayBuffer}
  candidates(from: number, to: number, limit: number, max: number): number
}

export class Prefilter {
  private readonly kernel: Kernel
  private readonly mem: Buffer
  private readonly out: Int32Array
  /** Keywords of 3+ bytes by the low bits of their anchor's hash; 2-byte ones by their folded bytes. */
  private readonly buckets: Array<Entry[] | undefined> = new Array(BUCKETS)
  private readonly shortLists: Array<Entry[] | undefined> = new Array(65536)
  private readonly native?: NativeKeywords
  /** Where eachUtf8 encodes strings for Hyperscan. */
  private utf8Scratch?: Buffer
  /**
   * Candidate positions (or Hyperscan's pairs), one array per nesting level (a visitor may scan again with this
   * prefilter).
   */
  private readonly batches: Int32Array[] = []
  private depth = 0
  /** Keywords anchored at the position last passed to a visitor: [0, count). */
  readonly tags = new Int32Array(64)
  /** Where each of them starts (at or before the anchor) … */
  readonly starts = new Int32Array(64)
  /** … and its length in bytes. */
  readonly lengths = new Int32Array(64)
  count = 0

  /** engine: which loop finds the keywords (default: Hyperscan where the addon is built). */
  constructor(keywords: PrefilterKeyword[], engine: 'hyperscan' | 'wasm' = PREFILTER_ENGINE) {
    kernelModule ??= new WebAssembly.Module(Buffer.from(PREFILTER_KERNEL, 'base64'))
    this.kernel = new WebAssembly.Instance(kernelModule).exports as unknown as Kernel
    this.mem = Buffer.from(this.kernel.memory.buffer)
    this.out = new Int32Array(this.kernel.memory.buffer, OUT, OUT_MAX)
    const table = (offset: number) => new Int32Array(this.kernel.memory.buffer, offset, (1 << HASH_BITS) >>> 5)
    const l1 = table(L1)
    const direct = table(DIRECT)
    const l2 = table(L2)
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
        this.mem[SHORT + e.head] = 1
        add(this.shortLists, e.head, e)
        continue
      }
      const head3 = (f(0) << 24) | (f(1) << 16) | (f(2) << 8)
      const e: Entry = {
        bytes,
        tag: k.tag,
        offset,
        head: n > 3 ? (head3 | f(3)) >>> 0 : head3 >>> 8,
        shift: n > 3 ? 0 : 8,
      }
      for (const x of n > 3 ? [f(3)] : Array.from({length: 256}, (_, i) => i | 0x20)) {
        const h = hash4(head3 | x)
        setBit(l1, h)
        if (n < LONG) setBit(direct, hash4b(head3 | x))
        add(this.buckets, h & (BUCKETS - 1), e)
      }
      if (n >= LONG) setBit(l2, hash8(head3 | f(3), f(4) | (f(5) << 8) | (f(6) << 16) | (f(7) << 24)))
    }
    if (engine === 'hyperscan' && keywords.some((k) => k.bytes.length >= 2)) {
      if (!hyperscan) throw new Error('the ir-hyperscan addon is not built here (needs libhyperscan-dev, then npm ci)')
      const byBytes = new Map<string, number[]>()
      for (const k of keywords) {
        if (k.bytes.length < 2) continue
        const tags = byBytes.get(k.bytes) ?? []
        if (!tags.includes(k.tag)) tags.push(k.tag)
        byBytes.set(k.bytes, tags)
      }
      const list = [...byBytes.keys()]
      this.native = {
        handle: hyperscan.compile(list.map((b) => Buffer.from(b, 'latin1'))),
        lengths: Int32Array.from(list, (b) => b.length),
        maxLength: Math.max(2, ...list.map((b) => b.length)),
        tags: [...byBytes.values()],
      }
    }
  }

  /**
   * Every keyword lying wholly inside buf[from, to), reported once, at its anchor (never before
   * its start, and on the same line as long as keywords hold no newline), in anchor order:
   * `visit(at)` sees tags/starts/lengths[0, count) of the keywords anchored at `at` and returns
   * true to stop. A visitor may scan again with this prefilter, but must read the arrays first.
   */
  each(buf: Uint8Array, from: number, to: number, visit: (at: number) => boolean | void): void {
    if (this.native) {
      this.eachNative(this.native, buf, from, to, visit)
      return
    }
    const batch = this.batches[this.depth] ?? (this.batches[this.depth] = new Int32Array(OUT_MAX + 3))
    this.depth++
    try {
      let p = from
      while (p < to) {
        const n = this.candidates(buf, p, to, batch)
        for (let k = 0; k < n; k++) {
          const at = batch[k]!
          if (this.verify(buf, at, from, to) && visit(at) === true) return
        }
        if (n < OUT_MAX) return
        p = batch[n - 1]! + 1
      }
    } finally {
      this.depth--
    }
  }

  /**
   * `each` over the UTF-8 bytes of a string, encoded straight into the kernel's memory (no
   * Buffer per call: SQLite hands transcript rows over as strings). `visit` gets those bytes too;
   * it must not scan again. Returns the byte length.
   */
  eachUtf8(text: string, visit: (at: number, bytes: Buffer) => boolean | void): number {
    if (this.native && text.length * 3 <= WINDOW) {
      const scratch = (this.utf8Scratch ??= Buffer.allocUnsafe(WINDOW))
      const n = scratch.write(text, 0, 'utf8')
      const bytes = scratch.subarray(0, n)
      this.each(bytes, 0, n, (at) => visit(at, bytes))
      return n
    }
    if (text.length * 3 > WINDOW) {
      const bytes = Buffer.from(text, 'utf8')
      this.each(bytes, 0, bytes.length, (at) => visit(at, bytes))
      return bytes.length
    }
    const n = this.mem.write(text, DATA, 'utf8')
    const bytes = this.mem.subarray(DATA, DATA + n)
    this.each(bytes, 0, n, (at) => visit(at, bytes))
    return n
  }

  /**
   * Every keyword occurring in buf[from, to): `marks[tag] = 1` for each tag ≥ 0 (rule indexes);
   * negative tags (context markers) are ignored here. One pass, whatever the number of keywords.
   */
  collect(buf: Uint8Array, from: number, to: number, marks: Uint8Array): void {
    this.each(buf, from, to, () => {
      for (let t = 0; t < this.count; t++) if (this.tags[t]! >= 0) marks[this.tags[t]!] = 1
    })
  }

  /**
   * `each` on Hyperscan: it reports every occurrence by its end; they are visited by start (a
   * keyword inside a record key comes after the key), those with the same start together.
   */
  private eachNative(
    native: NativeKeywords,
    buf: Uint8Array,
    from: number,
    to: number,
    visit: (at: number) => boolean | void,
  ): void {
    // a window at a time (overlapping by a keyword's length): Hyperscan's list of matches stays small
    for (let p = from; p < to; p += WINDOW) {
      const stop = Math.min(to, p + WINDOW)
      let pairs = this.batches[this.depth] ?? (this.batches[this.depth] = new Int32Array(2 * OUT_MAX))
      let n = hyperscan!.scan(native.handle, buf, p, Math.min(to, stop + native.maxLength - 1), pairs)
      if (n < 0) {
        // a keyword-dense window: a bigger array for this one (not kept)
        pairs = new Int32Array(-2 * n)
        n = hyperscan!.take(native.handle, pairs)
      }
      // to (start, index), those starting in this window, sorted by start: ends come in order, so
      // starts nearly do (insertion sort)
      let kept = 0
      for (let k = 0; k < n; k++) {
        const id = pairs[2 * k]!
        const start = p + pairs[2 * k + 1]! - native.lengths[id]!
        if (start >= stop) continue
        let j = kept++
        for (; j > 0 && pairs[2 * j - 2]! > start; j--) {
          pairs[2 * j] = pairs[2 * j - 2]!
          pairs[2 * j + 1] = pairs[2 * j - 1]!
        }
        pairs[2 * j] = start
        pairs[2 * j + 1] = id
      }
      this.depth++
      try {
        for (let k = 0; k < kept;) {
          const start = pairs[2 * k]!
          this.count = 0
          for (; k < kept && pairs[2 * k] === start; k++) {
            const id = pairs[2 * k + 1]!
            for (const tag of native.tags[id]!) {
              if (this.count === this.tags.length) break
              this.tags[this.count] = tag
              this.starts[this.count] = start
              this.lengths[this.count++] = native.lengths[id]!
            }
          }
          if (visit(start) === true) return
        }
      } finally {
        this.depth--
      }
    }
  }

  /**
   * Candidate anchors in buf[from, to) into `batch` (at most OUT_MAX, in order; call again past
   * the last one when full). The kernel sees one window at a time, copied into its memory; the
   * last three positions, where only 2- and 3-byte keywords fit, are always candidates.
   */
  private candidates(buf: Uint8Array, from: number, to: number, batch: Int32Array): number {
    let n = 0
    let p = from
    const tail = Math.max(from, to - 3)
    // bytes eachUtf8 wrote into the kernel's memory are scanned where they are
    const inPlace = buf.buffer === this.mem.buffer && buf.byteOffset === DATA
    while (p < tail && n < OUT_MAX) {
      const limit = Math.min(tail, p + WINDOW)
      const end = Math.min(to, limit + 7)
      // memory address of buf[0] for this window
      const base = inPlace ? DATA : DATA - p
      if (!inPlace) this.mem.set(buf.subarray(p, end), DATA)
      const got = this.kernel.candidates(base + p, base + end, base + limit, OUT_MAX - n)
      for (let k = 0; k < got; k++) batch[n++] = this.out[k]! - base
      if (n === OUT_MAX) return n
      p = limit
    }
    for (let i = tail; i < to - 1 && n < OUT_MAX; i++) batch[n++] = i
    return n
  }

  /** Keywords anchored at i that lie in buf[min, to): fills tags/starts/lengths; false if none. */
  private verify(buf: Uint8Array, i: number, min: number, to: number): boolean {
    const b = (j: number) => (i + j < to ? buf[i + j]! | 0x20 : 0x20)
    const w = ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0
    this.count = 0
    this.check(this.buckets[hash4(w) & (BUCKETS - 1)], buf, i, min, to, w)
    if (this.mem[SHORT + (w >>> 16)] !== 0) this.check(this.shortLists[w >>> 16], buf, i, min, to, w)
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
