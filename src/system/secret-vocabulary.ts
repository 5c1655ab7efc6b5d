import {createHash} from 'node:crypto'

/**
 * The one secrets vocabulary of ir: which names hold secrets, and how a secret is shown once masked.
 * Scan, collect, the journal, reports, diffs and errors all use these (ARCHITECTURE.md states them).
 */

/** Key names whose string values are secrets: config keys, JSON store fields, run variables, columns. */
export const SECRET_KEY_NAME =
  /(token|password|passwd|passphrase|secret|api[-_]?key|private[-_]?key|access[-_]?key|authorization|bearer|cookie|credential|signing|dsn|refresh)/i

/** Environment-variable names that hold secrets (`.env`, service units, process environment). */
export const SECRET_ENV_NAME = /(TOKEN|SECRET|PASSW|API_?KEY|PRIVATE|ACCESS_?KEY|CREDENTIAL|AUTH|COOKIE|DSN|BEARER)/i

/** First 12 hex digits of SHA-256: enough to match a secret across files and runs, useless to recover it. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12)
}

/**
 * The mask: `«sha256:<fingerprint>»`. Where the kind of a secret helps an analyst (findings, redacted
 * evidence), up to 4 leading characters — at most a quarter of the value — come first: `ghp_…«sha256:…»`.
 */
export function maskSecret(secret: string, opts: {keepPrefix?: boolean} = {}): string {
  const keep = opts.keepPrefix ? Math.min(4, Math.floor(secret.length / 4)) : 0
  return `${keep ? `${secret.slice(0, keep)}…` : ''}«sha256:${fingerprint(secret)}»`
}

/** A value that is already a mask (or holds one): never masked twice, never learned as a secret. */
export function isMasked(s: string): boolean {
  return s.includes('«sha256:')
}

/** Every mask in a text (for counting redactions). */
export const MASK_PATTERN = /«sha256:[0-9a-f]{12}»/g

/** A secret passed on a command line (`--token T`, `--password=P`, old gateway builds), in a process's argv. */
const ARGV_SECRET = /(--(?:token|password|secret|api-key)(?:=|\s+))([^\s"']+)/gi

/** A command line with every secret passed on it masked (plans, volatile facts, the journal). */
export function maskArgvSecrets(cmdline: string): string {
  return cmdline.replace(ARGV_SECRET, (_m, flag: string, value: string) =>
    isMasked(value) ? `${flag}${value}` : `${flag}${maskSecret(value)}`,
  )
}
