import {statSync} from 'node:fs'
import {readFile} from 'node:fs/promises'

import {ExitCode, IrError} from '../errors.js'
import {scanInput} from './input.js'
import {loadRules} from './rules.js'
import type {RuleSet} from './rules.js'
import {scanOnWorkers, workerCount} from './parallel.js'
import {StreamScanner} from './scanner.js'
import type {ScanPart, ScannerOptions} from './scanner.js'
import {codeOf, discover} from './sources.js'
import {severityAtLeast} from './finding-types.js'
import type {Finding, ScanResult, Severity} from './finding-types.js'

export {scanInput, zstdChunks} from './input.js'

export interface ScanPathsOptions extends ScannerOptions {
  /** Rules already loaded; else the shipped packs plus `extraRules`. */
  rules?: RuleSet
  extraRules?: string[]
  /** Read size per chunk (default 1 MiB). */
  chunkBytes?: number
  /**
   * Worker threads to spread inputs over, besides this thread (0 = this thread only). Default: one
   * per CPU but one (at most 3) when there are several inputs and 16 MiB or more in all. Findings
   * are the same either way.
   */
  workers?: number
}

/** `ir scan PATH…`: find every input under the paths, stream each through a scanner (one per worker thread). */
export async function scanPaths(paths: string[], opts: ScanPathsOptions = {}): Promise<ScanResult> {
  const rules = opts.rules ?? (await loadRules(opts.extraRules ?? []))
  const scanner = new StreamScanner(rules, opts)
  const {inputs, skipped} = await discover(paths)
  for (const s of skipped) scanner.skip(s.path, s.reason)
  const chunkBytes = opts.chunkBytes ?? 1 << 20
  // synchronous: thousands of small stats cost more as thread-pool round trips than as calls
  const sizes = inputs.length > 1 ? inputs.map((i) => sizeOf(i.path)) : []
  const n = workerCount(inputs, sizes, opts.workers)
  if (n > 0) {
    // parts come back in any order; merged in input order they give what one thread gives
    const parts: Array<ScanPart | undefined> = new Array(inputs.length)
    const {maxLineBytes} = opts
    const solo = new StreamScanner({...rules, rejected: []}, opts)
    const scanHere = async (i: number) => {
      try {
        await scanInput(solo, inputs[i]!, chunkBytes)
      } catch (err) {
        // nothing of this input may leak into the next one's part (it is scanned again)
        solo.drain()
        throw err
      }
      return solo.drain()
    }
    await scanOnWorkers(
      inputs,
      n,
      {rules, opts: {maxLineBytes}, chunkBytes},
      sizes,
      (i, part) => {
        parts[i] = part
      },
      async (i) => {
        parts[i] = await scanHere(i)
      },
      scanHere,
    )
    for (const part of parts) if (part) scanner.absorb(part)
  } else {
    for (const input of inputs) await scanInput(scanner, input, chunkBytes)
  }
  const result = scanner.finish()
  if (inputs.length === 0) {
    throw new IrError(
      `Nothing to scan in ${paths.join(', ')}: no transcripts, SQLite stores or logs found.`,
      ExitCode.PreconditionFailed,
      [
        'Pass an OpenClaw state dir (e.g. ~/.openclaw), agents/<id>/sessions/*.jsonl, a *.sqlite store or a log file.',
        ...result.scanned.skipped.slice(0, 3).map((s) => `${s.path}: ${s.reason}`),
      ],
      'SCAN_NOTHING',
    )
  }
  return result
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
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
    throw new IrError(
      `Baseline ${file} cannot be read (${codeOf(err)}).`,
      ExitCode.Usage,
      ['Pass a file of fingerprints (one a line) or a findings JSONL from an earlier `ir scan --format jsonl`.'],
      'BASELINE_UNREADABLE',
    )
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
        throw new IrError(
          `Baseline ${file} line ${i + 1} is not valid JSON.`,
          ExitCode.Usage,
          ['Each line must be a fingerprint or one finding object.'],
          'BASELINE_INVALID',
        )
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
