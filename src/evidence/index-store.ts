import {appendFileSync, closeSync, fsyncSync, lstatSync, openSync, readFileSync, statSync} from 'node:fs'

import type {Finding, SkippedItem} from '../detect/finding-types.js'
import type {StagedFile} from './acquire.js'
import type {ItemRecord} from './collect-types.js'

/**
 * The per-case acquisition index (`cases/<id>/collect/index.jsonl`): one line per source whose
 * copy is complete in the staging area, with its hashes, records and findings. A rerun with the
 * same --case skips every source whose identity (inode, size, mtime of each file of its set) is
 * unchanged and whose staged copies are still there: it is not read again. Lines are appended and
 * fsynced after each scan batch; a torn last line (Ctrl-C, crash) is ignored.
 */

export interface IndexEntry {
  v: 1
  key: string
  identity: string
  includeSecrets: boolean
  records: ItemRecord[]
  staged: Array<Omit<StagedFile, 'mtime'> & {mtime: string}>
  findings: Finding[]
  skipped: SkippedItem[]
  scanned?: {files: number; events: number; bytes: number}
}

export class AcquisitionIndex {
  constructor(readonly file: string) {}

  load(): Map<string, IndexEntry> {
    const out = new Map<string, IndexEntry>()
    let text = ''
    try {
      text = readFileSync(this.file, 'utf8')
    } catch {
      return out
    }
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const e = JSON.parse(line) as IndexEntry
        if (e.v === 1 && typeof e.key === 'string') out.set(e.key, e)
      } catch {
        /* torn line */
      }
    }
    return out
  }

  append(entries: IndexEntry[]): void {
    if (entries.length === 0) return
    appendFileSync(this.file, entries.map((e) => JSON.stringify(e)).join('\n') + '\n', {mode: 0o600})
    const fd = openSync(this.file, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}

/** inode:size:mtime of each file of a source's set, from lstat (nothing is opened). */
export function identityOf(paths: string[]): string {
  return paths
    .map((p) => {
      try {
        const st = lstatSync(p)
        return `${st.ino}:${st.size}:${st.mtimeMs}`
      } catch {
        return 'missing'
      }
    })
    .join('|')
}

/** Staged copies of an entry are all still there, with their sizes. */
export function stagedIntact(e: IndexEntry): boolean {
  return e.staged.every((s) => {
    try {
      return statSync(s.stagedPath).size === s.size
    } catch {
      return false
    }
  })
}

export function toStaged(s: IndexEntry['staged'][number]): StagedFile {
  return {...s, mtime: new Date(s.mtime)}
}

export function fromStaged(s: StagedFile): IndexEntry['staged'][number] {
  return {...s, mtime: s.mtime.toISOString()}
}
