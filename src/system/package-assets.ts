import {existsSync, statSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {ExitCode, IrError} from '../errors.js'

/**
 * Files ir ships beside its code (playbooks/, playbooks/rules/, dist/rule-packs.json): found from this
 * module's own place, which is src/system/ from source and dist/src/system/ from the build.
 */

let root: string | undefined

/** The package root: the nearest folder up from here holding both package.json and playbooks/. */
export function packageRoot(): string {
  if (root) return root
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && isDir(path.join(dir, 'playbooks'))) return (root = dir)
    dir = path.dirname(dir)
  }
  throw new IrError(
    'The shipped playbooks/ folder was not found next to ir.',
    ExitCode.Failure,
    ['Reinstall ir (npm ci, or the package with its playbooks/ folder).'],
    'PACKAGE_ASSETS_MISSING',
  )
}

/** A shipped file or folder, by its path inside the package (e.g. `playbooks/rules`). */
export function packageAsset(...segments: string[]): string {
  return path.join(packageRoot(), ...segments)
}

/** The build's own files (dist/…), e.g. the pre-parsed rule packs; undefined when running from source. */
export function buildAsset(name: string): string | undefined {
  const p = path.join(packageRoot(), 'dist', name)
  return existsSync(p) && fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? p : undefined
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}
