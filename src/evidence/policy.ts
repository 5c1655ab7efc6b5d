import type {ItemKind} from './collect-types.js'

/**
 * What the collector does with each path of a state dir (openclaw-internals.md Appendix B, §6, §7):
 * copy it, mask its secret values, keep metadata only, treat it as a SQLite store, or skip a
 * directory with a reason. Paths are POSIX, relative to the state dir.
 */

export type Policy =
  /** Copy (secret values found in it are redacted unless --include-secrets). */
  | 'copy'
  /** OpenClaw config (JSON5): secret values masked, fingerprints kept. */
  | 'masked-config'
  /** JSON store whose structure is evidence (pairing, devices, approvals): secret values masked. */
  | 'masked-json'
  /** Text with KEY=VALUE secrets (service units, gateway.cmd): secret values masked. */
  | 'masked-env'
  /** Secret store: path, mode, size, times, SHA-256 only, unless --include-secrets. */
  | 'metadata'
  /** SQLite database: raw copy (+ -wal/-shm), consistent backup, transcript export. */
  | 'sqlite'
  /** zstd-compressed JSONL archive: raw bytes are secret-bearing; exported decompressed and redacted. */
  | 'zst'

export type ScanAs = 'jsonl' | 'log'

export interface Classification {
  kind: ItemKind
  policy: Policy
  scan?: ScanAs
}

export interface DirRule {
  reason: string
  /** Collected anyway with --include-secrets. */
  secret?: boolean
}

const TEXT_EXT =
  /\.(md|txt|json|json5|jsonl|log|ya?ml|toml|sh|bash|zsh|ps1|cmd|js|mjs|cjs|ts|py|ini|conf|cfg|service|plist|xml|html?|csv)$/i
const SQLITE_EXT = /\.(sqlite3?|db)$/i
const COORDINATOR = /\.(generation-lock|generation-writer|reindex-lock|lock)\.sqlite$/i
export const SIDECAR = /-(wal|shm|journal)$/

/** Directories not walked, and why. */
export function directoryRule(rel: string, name: string): DirRule | undefined {
  if (name === 'node_modules')
    return {reason: 'installed package dependencies (the package.json beside it is collected)'}
  if (name === '.git')
    return {
      reason:
        'git repository internals (compressed objects cannot be scanned or redacted); review the workspace history on the source with `git log -p`',
    }
  if (rel === 'cache/control-ui-assets')
    return {reason: "OpenClaw's cached Control-UI assets (regenerated from the package; not evidence)"}
  if (/^browser\/[^/]+\/user-data$/.test(rel))
    return {reason: 'browser profile (cookies, saved logins): secret-bearing', secret: true}
  if (/^agents\/[^/]+\/agent\/codex-home$/.test(rel))
    return {reason: 'Codex CLI home (provider credentials): secret-bearing', secret: true}
  return undefined
}

export function classify(rel: string, isConfig: boolean): Classification {
  const name = rel.slice(rel.lastIndexOf('/') + 1)
  if (isConfig)
    return {
      kind:
        rel.includes('.bak') || rel.includes('.rejected') || rel.includes('.last-good') ? 'config-history' : 'config',
      policy: 'masked-config',
    }
  if (COORDINATOR.test(name)) return {kind: 'sqlite-coordinator', policy: 'copy'}
  if (SQLITE_EXT.test(name)) return {kind: 'sqlite', policy: 'sqlite'}
  if (SIDECAR.test(name) && SQLITE_EXT.test(name.replace(SIDECAR, '')))
    return {kind: 'sqlite-sidecar', policy: 'sqlite'}
  // secret stores: metadata only
  if (name === '.env' || name.startsWith('.env.') || name.endsWith('.env')) return {kind: 'env', policy: 'metadata'}
  if (/\.(pem|key|p12|pfx|keystore)$/i.test(name) || /^id_(rsa|ed25519|ecdsa)/.test(name))
    return {kind: 'secret-store', policy: 'metadata'}
  if (rel === 'secrets.json' || rel === 'node.json' || rel.startsWith('identity/'))
    return {kind: 'secret-store', policy: 'metadata'}
  if (/^agents\/[^/]+\/agent\/(auth-profiles|auth)\.json/.test(rel)) return {kind: 'secret-store', policy: 'metadata'}
  if (rel.startsWith('credentials/')) {
    if (/^credentials\/[^/]+-(allowFrom|pairing)\.json$/.test(rel)) return {kind: 'pairing', policy: 'masked-json'}
    return {kind: 'secret-store', policy: 'metadata'}
  }
  // structure is evidence, values are secrets
  if (/^(devices|nodes)\/[^/]+\.json$/.test(rel)) return {kind: 'device', policy: 'masked-json'}
  if (rel === 'exec-approvals.json') return {kind: 'exec-approvals', policy: 'masked-json'}
  if (/^agents\/[^/]+\/agent\/models\.json$/.test(rel)) return {kind: 'secret-store', policy: 'masked-json'}
  if (rel === 'gateway.cmd' || rel === 'gateway.vbs') return {kind: 'service', policy: 'masked-env'}
  // transcripts and their archives
  if (/(^|\/)sessions\/[^/]+\.jsonl\.zst$/.test(rel) || /\.jsonl\.zst$/.test(name))
    return {kind: 'transcript-archive', policy: 'zst'}
  if (/(^|\/)sessions\/[^/]+\.jsonl($|\.)/.test(rel) && !name.endsWith('.lock'))
    return {kind: 'transcript', policy: 'copy', scan: 'jsonl'}
  if (/(^|\/)sessions\/sessions\.json/.test(rel)) return {kind: 'sessions-index', policy: 'copy'}
  // logs
  if (/^logs\/config-audit\.jsonl/.test(rel)) return {kind: 'config-audit', policy: 'copy', scan: 'jsonl'}
  if (rel.startsWith('logs/') || /^cron\/runs\/.+\.jsonl$/.test(rel) || /^audit\/.+\.jsonl$/.test(rel)) {
    return {
      kind: rel.startsWith('logs/gateway') ? 'gateway-log' : 'log',
      policy: 'copy',
      scan: lineText(name) ? 'log' : undefined,
    }
  }
  if (rel.startsWith('cron/')) return {kind: 'cron', policy: 'copy', scan: lineText(name) ? 'log' : undefined}
  if (rel.startsWith('tmp/') && /\.lock$/.test(name)) return {kind: 'lock', policy: 'copy'}
  if (/^workspace[^/]*\//.test(rel) || rel.startsWith('sandboxes/'))
    return {kind: 'workspace', policy: 'copy', scan: lineText(name) ? 'log' : undefined}
  if (/^(skills|hooks|extensions|plugin-skills)\//.test(rel) || /(^|\/)skills\//.test(rel))
    return {kind: 'skill', policy: 'copy', scan: lineText(name) ? 'log' : undefined}
  return {kind: 'other', policy: 'copy', scan: lineText(name) ? 'log' : undefined}
}

/** Files collected from a workspace that lives outside the state dir (an attacker's edits live here). */
export const BOOTSTRAP_FILES = [
  'AGENTS.md',
  'SOUL.md',
  'USER.md',
  'IDENTITY.md',
  'TOOLS.md',
  'HEARTBEAT.md',
  'BOOT.md',
  'BOOTSTRAP.md',
  'MEMORY.md',
]
export const WORKSPACE_DIRS = ['memory', 'skills', 'hooks', '.openclaw']

/** Text the scanner reads line by line (pretty-printed .json is not: one record spans many lines). */
export function lineText(name: string): boolean {
  return isTextName(name) && !/\.json5?$/i.test(name)
}

export function isTextName(name: string): boolean {
  return TEXT_EXT.test(name) || /\.log(\.\d+)?$/.test(name) || /\.jsonl(\.|$)/.test(name)
}
