import {stat} from 'node:fs/promises'

import {applyBaseline, loadBaseline, loadRules, requireLoaded, scanPaths} from './detect/api.js'
import type {CompiledRule, ScanResult} from './detect/api.js'
import {resolveInstall} from './openclaw/locate.js'
import type {Target} from './openclaw/locate.js'
import {ExitCode, IrError} from './errors.js'

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

/**
 * Loads the rules, scans every input under the paths, applies the baseline. Read-only. A path the
 * operator named that does not exist, or an extra rule pack that does not load, is a usage error before
 * anything is scanned (exit 2): a typo must not pass for a clean scan.
 */
export async function scan(req: ScanRequest): Promise<ScanOutcome> {
  const paths = req.paths.length > 0 ? req.paths : [resolveInstall(req.target ?? {}).stateDir]
  await mustExist(req.paths)
  const rules = requireLoaded(await loadRules(req.rules ?? []))
  let result = await scanPaths(paths, {rules})
  if (req.baseline) result = applyBaseline(result, await loadBaseline(req.baseline))
  return {result, rules: rules.rules}
}

async function mustExist(paths: string[]): Promise<void> {
  const missing: string[] = []
  for (const p of paths) {
    try {
      await stat(p)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
        missing.push(p)
    }
  }
  if (missing.length === 0) return
  throw new IrError(
    `${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist: nothing was scanned.`,
    ExitCode.Usage,
    ['Check the path (or leave it out to scan the OpenClaw state dir).'],
    'PATH_NOT_FOUND',
  )
}
