import {createReadStream} from 'node:fs'
import {open, readFile} from 'node:fs/promises'

import {Decompress} from 'fzstd'

import {ExitCode, IrError, errorMessage} from '../errors.js'
import {loadRules} from './rules.js'
import type {RuleSet} from './rules.js'
import {createScanner} from './scanner.js'
import type {Scanner, ScannerOptions} from './scanner.js'
import {codeOf, discover} from './sources.js'
import type {Input} from './sources.js'
import {severityAtLeast} from './types.js'
import type {Finding, ScanResult, Severity} from './types.js'

export interface ScanPathsOptions extends ScannerOptions {
  /** Rules already loaded; else the shipped packs plus `extraRules`. */
  rules?: RuleSet
  extraRules?: string[]
  /** Read size per chunk (default 1 MiB). */
  chunkBytes?: number
}

/** `ir scan PATH…`: find every input under the paths, stream each through one scanner. */
export async function scanPaths(paths: string[], opts: ScanPathsOptions = {}): Promise<ScanResult> {
  const rules = opts.rules ?? await loadRules(opts.extraRules ?? [])
  const scanner = createScanner(rules, opts)
  const {inputs, skipped} = await discover(paths)
  for (const s of skipped) scanner.skip(s.path, s.reason)
  for (const input of inputs) await scanInput(scanner, input, opts.chunkBytes ?? 1 << 20)
  const result = scanner.finish()
  if (inputs.length === 0) {
    throw new IrError(`Nothing to scan in ${paths.join(', ')}: no transcripts, SQLite stores or logs found.`, ExitCode.PreconditionFailed,
      ['Pass an OpenClaw state dir (e.g. ~/.openclaw), agents/<id>/sessions/*.jsonl, a *.sqlite store or a log file.',
        ...result.scanned.skipped.slice(0, 3).map((s) => `${s.path}: ${s.reason}`)], 'SCAN_NOTHING')
  }
  return result
}

/** One input; whatever goes wrong with it is recorded as skipped and the scan goes on. */
export async function scanInput(scanner: Scanner, input: Input, chunkBytes = 1 << 20): Promise<void> {
  if (input.format === 'sqlite') {
    await scanner.scanSqliteStore(input.path, input.source)
    return
  }
  let fh
  try {
    fh = await open(input.path, 'r')
  } catch (err) {
    const code = codeOf(err)
    scanner.skip(input.path, code === 'ENOENT' ? 'vanished before it could be read' : `unreadable (${code})`)
    return
  }
  let size = 0
  try {
    const st = await fh.stat()
    if (!st.isFile()) {
      scanner.skip(input.path, 'not a regular file: not read')
      return
    }
    size = st.size
    // read only the bytes present at the start: a growing file is scanned up to there and reported
    const raw = size === 0 ? emptyChunks() : createReadStream('', {fd: fh.fd, start: 0, end: size - 1, highWaterMark: chunkBytes, autoClose: false})
    const chunks = input.format === 'jsonl-zst' ? zstdChunks(raw) : raw
    await scanner.scanJsonl(chunks as AsyncIterable<Uint8Array>, input.source)
    const after = await fh.stat()
    if (after.size > size) scanner.skip(input.path, `grew during the scan (${size} → ${after.size} bytes): scanned the first ${size} bytes`)
    else if (after.size < size) scanner.skip(input.path, `shrank during the scan (${size} → ${after.size} bytes): results may be incomplete`)
  } catch (err) {
    scanner.skip(input.path, input.format === 'jsonl-zst' && /zstd|invalid|unexpected/i.test(errorMessage(err))
      ? `not valid zstd (${errorMessage(err)}): scanned up to the error`
      : `read failed (${codeOf(err)}): scanned up to the error`)
  } finally {
    await fh.close()
  }
}

async function* emptyChunks(): AsyncGenerator<Buffer> {
  // nothing: the scanner reports the empty file
}

/** Streaming zstd (`.jsonl.zst` cold storage) with fzstd: Node 20's zlib has no zstd. */
export async function* zstdChunks(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = []
  const d = new Decompress((data) => {
    out.push(data)
  })
  for await (const c of src) {
    d.push(c)
    while (out.length > 0) yield out.shift()!
  }
  d.push(new Uint8Array(0), true)
  while (out.length > 0) yield out.shift()!
}

/**
 * Fingerprints to ignore: a file of fingerprints (one a line), of findings (JSON lines), or
 * `ir scan --json` output. Blank lines and `#` comments are ignored.
 */
export async function loadBaseline(file: string): Promise<Set<string>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new IrError(`Baseline ${file} cannot be read (${codeOf(err)}).`, ExitCode.Usage,
      ['Pass a file of fingerprints (one a line) or a findings JSONL from an earlier `ir scan --format jsonl`.'], 'BASELINE_UNREADABLE')
  }
  const set = new Set<string>()
  const trimmed = text.trim()
  if (trimmed.startsWith('{') && !trimmed.includes('\n')) {
    try {
      const doc = JSON.parse(trimmed) as {findings?: Array<{fingerprint?: string}>; fingerprint?: string}
      for (const f of doc.findings ?? [doc]) if (typeof f.fingerprint === 'string') set.add(f.fingerprint)
      return set
    } catch {
      // one JSON line that is not a document: handled below
    }
  }
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    if (line.startsWith('{')) {
      try {
        const f = JSON.parse(line) as {fingerprint?: unknown; findings?: Array<{fingerprint?: string}>}
        if (typeof f.fingerprint === 'string') set.add(f.fingerprint)
        for (const g of f.findings ?? []) if (typeof g.fingerprint === 'string') set.add(g.fingerprint)
        continue
      } catch {
        throw new IrError(`Baseline ${file} line ${i + 1} is not valid JSON.`, ExitCode.Usage,
          ['Each line must be a fingerprint or one finding object.'], 'BASELINE_INVALID')
      }
    }
    set.add(line.split(/\s+/)[0] ?? line)
  }
  return set
}

/** Drop findings whose fingerprint is in the baseline. */
export function applyBaseline(result: ScanResult, baseline: Set<string>): ScanResult {
  const findings = result.findings.filter((f) => !baseline.has(f.fingerprint))
  return {scanned: {...result.scanned, suppressed: result.findings.length - findings.length}, findings}
}

export function failOnMet(findings: Finding[], threshold: Severity | undefined): boolean {
  return threshold !== undefined && findings.some((f) => severityAtLeast(f.severity, threshold))
}
