/**
 * Which config keys each OpenClaw line knows: an unknown key makes the whole config invalid (and
 * from 2026.9.8 the gateway refuses to start), so ir writes a key only where the target knows it.
 * Each `since` was checked with that version's own `openclaw config validate` in the lab
 * (2026.6.35, 2026.7.35, 2026.9.6); versions ir has not seen are taken as knowing what 2026.9.6 knows,
 * and their own CLI validates the result.
 */

export type ConfigFeature =
  /** `tools.exec.mode` (the canonical exec policy; `security`/`ask` are the legacy form). */
  | 'tools.exec.mode'
  /** `gateway.terminal.enabled` (operator terminal that inherits the gateway's environment). */
  | 'gateway.terminal'
  | 'tools.agentToAgent'
  | 'tools.sessions.visibility'
  | 'cron.enabled'
  /** `gateway.nodes.pairing.sshVerify` (SSH-verified automatic node pairing, on by default). */
  | 'gateway.nodes.pairing.sshVerify'

/** Oldest checked version that knows the key ('2026.6.35' = known in the oldest line checked). */
const SINCE: Record<ConfigFeature, string> = {
  'tools.exec.mode': '2026.6.35',
  'gateway.terminal': '2026.7.35',
  'tools.agentToAgent': '2026.6.35',
  'tools.sessions.visibility': '2026.6.35',
  'cron.enabled': '2026.6.35',
  'gateway.nodes.pairing.sshVerify': '2026.9.6',
}

/** The versions the lab checks contain against. */
export const TESTED_VERSIONS = ['2026.6.35', '2026.7.35', '2026.9.6']

/** True when `version` is known to accept the key; undefined version (no CLI, no config stamp): false. */
export function knowsKey(version: string | undefined, feature: ConfigFeature): boolean {
  const v = parseVersion(version)
  return v !== undefined && compareVersions(v, parseVersion(SINCE[feature])!) >= 0
}

export function isTestedVersion(version: string | undefined): boolean {
  const v = parseVersion(version)
  return v !== undefined && TESTED_VERSIONS.some((t) => compareVersions(v, parseVersion(t)!) === 0)
}

/** 2026.9.6, 2026.7.1-beta.2, 2026.3.23-1 -> [2026, 9, 6] (prerelease tags ignored). */
function parseVersion(v: string | undefined): number[] | undefined {
  const m = v ? /^v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})/.exec(v.trim()) : null
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}
