import {applyBaseline, loadBaseline, loadRules, scanPaths} from './detect/api.js'
import type {CompiledRule, ScanResult} from './detect/api.js'
import {resolveInstall} from './openclaw/locate.js'
import type {Target} from './openclaw/locate.js'

/** `ir scan`: what to scan, with which extra rules, leaving out a baseline's findings. */
export interface ScanRequest {
  /** Files or directories; none = the resolved OpenClaw state dir of `target`. */
  paths: string[]
  target?: Target
  /** Extra rule packs (YAML files or directories). */
  rules?: string[]
  /** File of fingerprints (or findings JSONL) to leave out. */
  baseline?: string
}

export interface ScanOutcome {
  result: ScanResult
  /** The rules the scan ran (reports describe them). */
  rules: CompiledRule[]
}

/** Loads the rules, scans every input under the paths, applies the baseline. Read-only. */
export async function scan(req: ScanRequest): Promise<ScanOutcome> {
  const paths = req.paths.length > 0 ? req.paths : [resolveInstall(req.target ?? {}).stateDir]
  const rules = await loadRules(req.rules ?? [])
  let result = await scanPaths(paths, {rules})
  if (req.baseline) result = applyBaseline(result, await loadBaseline(req.baseline))
  return {result, rules: rules.rules}
}
