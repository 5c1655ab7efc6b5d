import {open, readdir, readlink, stat} from 'node:fs/promises'
import path from 'node:path'

import {errorMessage} from '../errors.js'
import type {SkippedItem, SourceRef} from './finding-types.js'

/**
 * Finding the inputs in the paths given: transcripts (JSONL, archives, zstd cold storage),
 * SQLite stores, gateway and audit logs. Directories are walked without following symlinks:
 * a symlink is recorded (with where it leads) and never read through.
 */

export type InputFormat = 'jsonl' | 'jsonl-zst' | 'sqlite'

export interface Input {
  /** Path as shown in findings (as given, or joined under the directory given). */
  path: string
  format: InputFormat
  source: SourceRef
}

export interface Discovery {
  inputs: Input[]
  skipped: SkippedItem[]
}

/** Directories no OpenClaw evidence lives in, and that can be huge (browser profiles, packages). */
const SKIP_DIRS = new Set(['node_modules', '.git', 'browser'])
const MAX_DEPTH = 8

export async function discover(paths: string[]): Promise<Discovery> {
  const out: Discovery = {inputs: [], skipped: []}
  for (const p of paths) {
    let st
    try {
      st = await stat(p)
    } catch (err) {
      out.skipped.push({path: p, reason: `not found or not readable (${codeOf(err)})`})
      continue
    }
    if (st.isDirectory()) await walk(p, p, 0, out)
    else if (st.isFile()) {
      const format = formatByName(path.basename(p)) ?? (await sniff(p))
      out.inputs.push(input(p, relFromAnchor(p), format))
    } else out.skipped.push({path: p, reason: 'not a regular file or directory: not read'})
  }
  return out
}

async function walk(dir: string, root: string, depth: number, out: Discovery): Promise<void> {
  let entries
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch (err) {
    out.skipped.push({path: dir, reason: `directory not readable (${codeOf(err)})`})
    return
  }
  entries.sort((a, b) => a.name.localeCompare(b.name))
  for (const e of entries) {
    const full = path.join(dir, e.name)
    const rel = path.relative(root, full)
    if (e.isSymbolicLink()) {
      out.skipped.push({path: full, reason: await symlinkReason(full, root)})
    } else if (e.isDirectory()) {
      if (SKIP_DIRS.has(e.name)) continue
      if (depth >= MAX_DEPTH) out.skipped.push({path: full, reason: `deeper than ${MAX_DEPTH} levels: not walked`})
      else await walk(full, root, depth + 1, out)
    } else {
      const format = formatByName(e.name)
      if (!format) continue
      if (!e.isFile()) out.skipped.push({path: full, reason: 'not a regular file (FIFO, socket or device): not read'})
      else out.inputs.push(input(full, rel, format))
    }
  }
}

async function symlinkReason(full: string, root: string): Promise<string> {
  let target = '?'
  try {
    target = await readlink(full)
  } catch (err) {
    return `symlink (unreadable: ${codeOf(err)}): not followed`
  }
  const resolved = path.resolve(path.dirname(full), target)
  const inside = !path.relative(path.resolve(root), resolved).startsWith('..')
  return `symlink to ${target}${inside ? '' : ' (outside the scanned directory)'}: recorded, not followed`
}

/** Which inputs a name says we read; undefined = not evidence this scanner reads. */
export function formatByName(name: string): InputFormat | undefined {
  if (/-(?:wal|shm|journal)$/.test(name) || name.endsWith('.lock')) return undefined
  if (/\.(?:sqlite3?|db)$/.test(name)) return 'sqlite'
  if (/\.jsonl(?:\.[^/]*)?\.zst$/.test(name)) return 'jsonl-zst'
  // transcripts and their archives: x.jsonl, x.jsonl.reset.<ts>, .deleted.<ts>, .bak.<ts>, config-
  // audit.jsonl.migrated.1.raw
  if (/\.jsonl(?:\.[^/]*)?$/.test(name)) return 'jsonl'
  if (/\.log$/.test(name)) return 'jsonl'
  return undefined
}

async function sniff(p: string): Promise<InputFormat> {
  const head = Buffer.alloc(16)
  try {
    const fh = await open(p, 'r')
    try {
      await fh.read(head, 0, 16, 0)
    } finally {
      await fh.close()
    }
  } catch {
    return 'jsonl' // the scan reports why it cannot be read
  }
  if (head.toString('latin1', 0, 15) === 'SQLite format 3') return 'sqlite'
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'jsonl-zst'
  return 'jsonl'
}

function input(p: string, rel: string, format: InputFormat): Input {
  const parts = rel.split(path.sep)
  const source: SourceRef = {file: p, rel: parts.join('/')}
  const ai = parts.lastIndexOf('agents')
  if (ai >= 0 && parts[ai + 1]) source.agentId = parts[ai + 1]
  const name = parts[parts.length - 1] ?? ''
  if (parts.includes('sessions') && format !== 'sqlite') {
    source.kind = 'transcript'
    const id = /^([0-9a-f-]{8,})(?:-topic-[^.]+)?\.jsonl/.exec(name)?.[1]
    if (id) source.sessionId = id
  } else if (name.startsWith('config-audit')) source.kind = 'config-audit'
  else if (name.endsWith('.log') || parts.includes('logs')) source.kind = 'log'
  return {path: p, format, source}
}

/** For a file given on its own: the part of its path from `agents/`, `logs/` or `state/` on, else its name. */
function relFromAnchor(p: string): string {
  const parts = path.resolve(p).split(path.sep)
  for (const anchor of ['agents', 'logs', 'state', 'sessions']) {
    const i = parts.lastIndexOf(anchor, parts.length - 2)
    if (i >= 0) return parts.slice(i).join(path.sep)
  }
  return path.basename(p)
}

export function codeOf(err: unknown): string {
  return (err as {code?: string}).code ?? errorMessage(err)
}
