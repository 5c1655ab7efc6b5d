import {realpathSync} from 'node:fs'
import path from 'node:path'

/** The real path; for a path not there yet, its closest existing parent's real path joined with the rest. */
export function realOr(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    const parent = path.dirname(p)
    return parent === p ? p : path.join(realOr(parent), path.basename(p))
  }
}

/** p is dir or below it (both absolute). */
export function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}
