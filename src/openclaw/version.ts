import {existsSync, readFileSync, realpathSync} from 'node:fs'
import path from 'node:path'

import {getPath, type JsonObject} from './config.js'

/** Where an `openclaw` CLI is, and its version from the package it belongs to (no process started). */
export interface OpenClawCli {
  /** Executable to run: node + openclaw.mjs, or the bin on PATH. */
  command: string
  args: string[]
  version?: string
  packageDir: string
}

/**
 * The CLI `ir` may call (config validate, security audit): $IR_OPENCLAW_BIN (an openclaw.mjs or
 * bin, for labs and unusual installs), else `openclaw` on PATH.
 */
export function findOpenClawCli(env: NodeJS.ProcessEnv = process.env): OpenClawCli | undefined {
  const explicit = env.IR_OPENCLAW_BIN
  const candidates = explicit
    ? [explicit]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, 'openclaw'))
  for (const c of candidates) {
    if (!existsSync(c)) continue
    let real: string
    try {
      real = realpathSync(c)
    } catch {
      continue
    }
    const packageDir = findPackageDir(real)
    if (!packageDir) continue
    const version = readVersion(packageDir)
    const node = env.IR_OPENCLAW_NODE
    if (real.endsWith('.mjs') || real.endsWith('.js'))
      return {command: node ?? process.execPath, args: [real], version, packageDir}
    return {command: c, args: [], version, packageDir}
  }
  return undefined
}

function findPackageDir(file: string): string | undefined {
  let dir = path.dirname(file)
  for (let i = 0; i < 5; i++) {
    const pj = path.join(dir, 'package.json')
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as {name?: string}).name === 'openclaw') return dir
      } catch {
        /* keep walking */
      }
    }
    dir = path.dirname(dir)
  }
  return undefined
}

function readVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {version?: string}).version
  } catch {
    return undefined
  }
}

export interface VersionFacts {
  /** meta.lastTouchedVersion: the build that last wrote the config. */
  config?: string
  /** schema_meta.app_version of the state DB: the build that last migrated it. */
  stateDb?: string
  /** The installed CLI package. */
  installed?: string
  /** /startupz of the running gateway. */
  running?: string
}

export function configVersion(config: JsonObject | undefined): string | undefined {
  const v = config ? getPath(config, ['meta', 'lastTouchedVersion']) : undefined
  return typeof v === 'string' ? v : undefined
}
