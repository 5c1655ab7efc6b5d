import type {Finding, SkippedItem} from '../detect/finding-types.js'

/**
 * Evidence collection types (DESIGN.md "Evidence bundle"). Every item the collector considered
 * ends with exactly one outcome in case.json; nothing is dropped silently.
 */

export type Outcome = 'collected' | 'missing' | 'skipped' | 'failed'

/** How the bundle holds an item's content. */
export type Method =
  | 'copy' // byte-exact copy
  | 'redacted-copy' // copy with secret values replaced by `prefix…«sha256:xxxxxxxxxxxx»` marks
  | 'masked' // config / JSON store: secret values replaced, structure kept
  | 'metadata' // path, mode, size, times and SHA-256 only (secret-bearing)
  | 'sqlite-backup' // consistent online backup taken from the raw copy
  | 'export' // derived from a store (transcripts)
  | 'command' // output of a bounded command or probe
  | 'generated' // written by ir (case.json, report…)

export type ItemKind =
  | 'config'
  | 'config-history'
  | 'config-include'
  | 'env'
  | 'secret-store'
  | 'config-audit'
  | 'gateway-log'
  | 'log'
  | 'transcript'
  | 'transcript-archive'
  | 'sessions-index'
  | 'sqlite'
  | 'sqlite-sidecar'
  | 'sqlite-coordinator'
  | 'pairing'
  | 'device'
  | 'exec-approvals'
  | 'cron'
  | 'service'
  | 'workspace'
  | 'skill'
  | 'lock'
  | 'other'
  | 'directory'
  | 'volatile'
  | 'derived'
  | 'report'

/** One line of case.json `items`. */
export interface ItemRecord {
  /** Source path (absolute), or what a volatile/derived item is. */
  path: string
  kind: ItemKind
  outcome: Outcome
  reason?: string
  error?: string
  /** Path inside the bundle root. */
  bundlePath?: string
  method?: Method
  size?: number
  mtime?: string
  atime?: string
  ctime?: string
  mode?: string
  uid?: number
  gid?: number
  inode?: number
  /** SHA-256 of the source bytes read (the whole file, or `range`). */
  sha256?: string
  /** SHA-256 of the bundled file when it differs from the source (masked, redacted, derived). */
  bundleSha256?: string
  bundleSize?: number
  /** Secret values replaced in the bundled copy. */
  redactions?: number
  /** Only these bytes were read (a large log narrowed by --since). */
  range?: {start: number; end: number; reason: string}
  linkTarget?: string
  /** The file changed while it was read (a writer is active): the copy holds the bytes present at open. */
  changedDuringCopy?: boolean
  /** Read on an earlier run of the same case (resume): not read again. */
  resumed?: boolean
  /** Transcript events exported (derived transcripts), rows read (stores). */
  events?: number
  agentId?: string
  sessionId?: string
  note?: string
}

/** Progress through the callback (the command renders it; domain code never prints). */
export interface Progress {
  phase: 'discover' | 'volatile' | 'acquire' | 'sqlite' | 'scan' | 'bundle' | 'verify'
  filesDone: number
  filesTotal: number
  bytesDone: number
  bytesTotal: number
  current?: string
  /** Milliseconds since the phase started. */
  elapsedMs: number
}

export type ProgressFn = (p: Progress) => void

export interface CollectOptions {
  /** Directory the archive and its .sha256 go to (default: the case directory). */
  out?: string
  /** Only files modified at or after this time (mtime); large logs are trimmed by line time. */
  since?: Date
  /** Extra rule packs (files or directories). */
  rules: string[]
  format: 'tar.gz' | 'zip'
  includeSecrets: boolean
  /** age recipients: the archive is encrypted as it is written. */
  encryptTo?: string[]
  onProgress?: ProgressFn
  signal?: AbortSignal
}

export interface CollectSummary {
  case: string
  bundle: string
  bundleSha256: string
  /** SHA-256 of manifest-sha256.txt: for the record when the bundle is encrypted (its hash is over the ciphertext). */
  manifestSha256?: string
  encrypted?: boolean
  files: number
  findings: Finding[]
  skipped: SkippedItem[]
}

export const BUNDLE_SCHEMA = 'ir.case/v1'
