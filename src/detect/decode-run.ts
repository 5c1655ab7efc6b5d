/**
 * Static reading of a decode-and-run request (`base64 -d ~/run.sh | bash`, `echo … | xxd -r -p | sh`):
 * what the encoded payload decodes to, when the text itself carries it — inline, or written to the
 * file the sink reads by `echo`/`printf` redirections and trimmed by `sed -i 's/^..//'` earlier in
 * the same text. Nothing is run; the text is read once per regex (each bounded), files are a map.
 */

/** A decode sink in the text and what it resolves to. */
export interface DecodedSink {
  /** The decoded payload, when the text carries it; undefined: it reads a file the text never wrote. */
  decoded?: string
  /** The payload decodes to bytes that are not text (shown with each such byte as a space). */
  garbled?: boolean
  /** The file the sink decodes, when it names one. */
  file?: string
  /** Files the text writes whose content holds this sink (a script built to run it later). */
  scripts: string[]
}

/** Longest text looked at, longest file kept: a request is short, a hostile one must not grow memory. */
const MAX_TEXT = 64 * 1024
const MAX_FILE = 16 * 1024
const MAX_FILES = 32
const PATH = String.raw`(?:~|\$HOME|\$\{HOME\})?(?!-)[\w./-]{1,200}`

/** `echo [-n] "…" > F` / `>> F`, `printf '…' > F`: content quoted or one bare word. */
const WRITE = new RegExp(
  String.raw`\b(?:echo|printf)(?:\s+-[neE]{1,3}){0,3}\s+(?:"([^"\n]{0,${MAX_FILE}})"|'([^'\n]{0,${MAX_FILE}})'|([^\s"'|;&<>]{1,${MAX_FILE}}))\s*(>>?)\s*["']?(${PATH})`,
  'g',
)
/** `sed -i 's/^..//' F`, `sed -i 's/^.\{2\}//' F`, `sed -i -E 's/^.{2}//' F`: each line's first N characters cut. */
const TRIM = new RegExp(
  String.raw`\bsed\s+(?:-E\s+)?-i(?:\s+-E)?\s+["']?s([/|#])\^(\.{1,16}|\.\\?\{(\d{1,2})\\?\})\1\1g?["']?\s+["']?(${PATH})`,
  'g',
)
/** What a sink decodes: a file argument (`base64 -d F`, `< F`), or else what is piped or fed in. */
const SINK_FILE = new RegExp(
  String.raw`^(?:base64|xxd)\s+(?:-[a-zA-Z]{1,3}\s+|--decode\s+){1,3}(?:<\s*)?["']?(${PATH})`,
  'i',
)
const HERE_STRING = /<<<\s*(?:"([^"\n]{1,16384})"|'([^'\n]{1,16384})'|([^\s|;&<>]{1,16384}))/
/** The command piped into the sink (the pipeline stage before it): `echo [-n] "X"`, `printf 'X'`, `cat F`. */
const PIPED = new RegExp(
  String.raw`^\s*(?:(?:echo|printf)(?:\s+-[neE]{1,3}){0,3}\s+(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'|;&<>]+))|cat\s+["']?(${PATH})["']?)\s*$`,
)

/** The pipeline stage right before `at` (`… | <stage> | sink`), on the same line, at most MAX_FILE long. */
function stageBefore(text: string, at: number): string | undefined {
  const pipe = text.lastIndexOf('|', at - 1)
  if (pipe < 0 || text.slice(pipe + 1, at).trim() !== '') return undefined
  const from = Math.max(0, pipe - MAX_FILE)
  const head = text.slice(from, pipe)
  const cut = Math.max(head.lastIndexOf('\n'), head.lastIndexOf('|'), head.lastIndexOf(';'), head.lastIndexOf('&'))
  return head.slice(cut + 1)
}

/** Sinks (the match of a rule's pattern at `index`) resolved against the writes of the same text. */
export function resolveSinks(text: string, sinks: {index: number; matched: string}[]): DecodedSink[] {
  const body = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text
  const writes = [...body.matchAll(WRITE)].map((m) => ({
    index: m.index,
    end: m.index + m[0].length,
    content: m[1] ?? m[2] ?? m[3] ?? '',
    append: m[4] === '>>',
    file: normalize(m[5]!),
    newline: !/^\S*\s+-[eE]?n/.test(m[0]) && !m[0].startsWith('printf'),
  }))
  const trims = [...body.matchAll(TRIM)].map((m) => ({
    index: m.index,
    n: m[3] ? Number(m[3]) : m[2]!.length,
    file: normalize(m[4]!),
  }))
  return sinks.map((sink) => {
    const scripts = writes.filter((w) => w.index < sink.index && sink.index < w.end).map((w) => w.file)
    // a sink written into a script runs when the script does: after every write of the text
    const files = replay(writes, trims, scripts.length > 0 ? Infinity : sink.index)
    const hex = /^xxd/i.test(sink.matched)
    const fileArg = SINK_FILE.exec(sink.matched)?.[1]
    let encoded: string | undefined
    let file: string | undefined
    if (fileArg) {
      file = normalize(fileArg)
      encoded = files.get(file)
    } else {
      const here = HERE_STRING.exec(sink.matched)
      if (here) encoded = here[1] ?? here[2] ?? here[3]
      else {
        const stage = stageBefore(body, sink.index)
        const piped = stage === undefined ? null : PIPED.exec(stage)
        if (piped?.[4]) file = normalize(piped[4])
        encoded = piped ? (piped[1] ?? piped[2] ?? piped[3] ?? (file ? files.get(file) : undefined)) : undefined
      }
    }
    const bytes = encoded === undefined ? undefined : hex ? hexBytes(encoded) : base64Bytes(encoded)
    if (!bytes) return {file, scripts}
    const decoded = asText(bytes)
    return decoded === undefined ? {decoded: lenient(bytes), garbled: true, file, scripts} : {decoded, file, scripts}
  })
}

/** The files as the writes and trims before `at` leave them. */
function replay(
  writes: {index: number; content: string; append: boolean; file: string; newline: boolean}[],
  trims: {index: number; n: number; file: string}[],
  at: number,
): Map<string, string> {
  const ops = [
    ...writes.map((w) => ({...w, n: 0})),
    ...trims.map((t) => ({...t, content: '', append: false, newline: false, trim: true})),
  ]
    .filter((o) => o.index < at)
    .sort((a, b) => a.index - b.index)
  const files = new Map<string, string>()
  for (const op of ops) {
    if ('trim' in op) {
      const cur = files.get(op.file)
      if (cur !== undefined)
        files.set(
          op.file,
          cur
            .split('\n')
            .map((l) => l.slice(op.n))
            .join('\n'),
        )
      continue
    }
    if (!files.has(op.file) && files.size >= MAX_FILES) continue
    const next = (op.append ? (files.get(op.file) ?? '') : '') + op.content + (op.newline ? '\n' : '')
    files.set(op.file, next.slice(0, MAX_FILE))
  }
  return files
}

function normalize(path: string): string {
  return path.replace(/^["']|["']$/g, '').replace(/^(?:\$HOME|\$\{HOME\})(?=\/)/, '~')
}

/** The bytes if `s` is base64 (whitespace ignored, as `base64 -d` does). */
function base64Bytes(s: string): Buffer | undefined {
  const compact = s.replace(/\s+/g, '')
  if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined
  const buf = Buffer.from(compact, 'base64')
  return buf.length > 0 ? buf : undefined
}

/** The bytes if `s` is hex (`xxd -p`: whitespace ignored). */
function hexBytes(s: string): Buffer | undefined {
  const compact = s.replace(/\s+/g, '')
  if (compact.length === 0 || compact.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(compact)) return undefined
  return Buffer.from(compact, 'hex')
}

/** Printable UTF-8 text, else undefined. */
function asText(buf: Buffer): string | undefined {
  for (const b of buf) if (b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return undefined
  const text = buf.toString('utf8')
  return text.includes('\uFFFD') ? undefined : text
}

/** Every byte that is not printable ASCII as a space: what the rules can still read in it (conservatively). */
function lenient(buf: Buffer): string {
  let out = ''
  for (const b of buf) out += (b >= 0x20 && b < 0x7f) || b === 0x0a ? String.fromCharCode(b) : ' '
  return out
}
