import {accessSync, constants, existsSync, readFileSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'

import {getPath, type JsonObject} from './config.js'

/** Where an `openclaw` CLI is, and its version from the package it belongs to (no process started). */
export interface OpenClawCli {
  /** Executable to run: node + openclaw.mjs, or the bin on PATH (or a wrapper script). */
  command: string
  args: string[]
  version?: string
  /** The openclaw package's folder; empty for a wrapper script outside it. */
  packageDir: string
}

/**
 * The CLI named by the environment: $IR_OPENCLAW_BIN (an openclaw.mjs or bin, for labs and unusual
 * installs), else `openclaw` on PATH. Contain and status look further (openclaw-cli.ts: the running
 * gateway, its service unit, the global npm prefix).
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
    const cli = cliAt(c, env.IR_OPENCLAW_NODE || undefined)
    if (cli) return cli
  }
  // A wrapper script (an operator's, or OpenClaw's own state/tmp/agent-cli/openclaw) is not inside the
  // package: taken last, run as it is, its version unknown.
  for (const c of candidates) {
    const cli = wrapperAt(c)
    if (cli) return cli
  }
  return undefined
}

function wrapperAt(file: string): OpenClawCli | undefined {
  try {
    if (!statSync(file).isFile()) return undefined
    accessSync(file, constants.X_OK)
    return {command: file, args: [], packageDir: ''}
  } catch {
    return undefined
  }
}

/**
 * The CLI a file belongs to (a bin, openclaw.mjs, or any file inside the package), or undefined
 * when it is not in an `openclaw` package. A script is run by `node` (default: this process's).
 */
export function cliAt(file: string, node?: string): OpenClawCli | undefined {
  if (!existsSync(file)) return undefined
  let real: string
  try {
    real = realpathSync(file)
  } catch {
    return undefined
  }
  const packageDir = findPackageDir(real)
  if (!packageDir) return undefined
  const version = readVersion(packageDir)
  // A bin on PATH (npm links it to openclaw.mjs) runs under its own `#!/usr/bin/env node`: the node the
  // operator's shell would use (OpenClaw needs Node 22+; ir may run on an older one).
  if (!node && !/\.[cm]?js$/.test(file)) return {command: file, args: [], version, packageDir}
  if (real.endsWith('.mjs') || real.endsWith('.js')) {
    // A file inside the package (dist/index.js, a worker): the entry point is openclaw.mjs.
    const entry = path.join(packageDir, 'openclaw.mjs')
    return {command: node ?? process.execPath, args: [existsSync(entry) ? entry : real], version, packageDir}
  }
  return {command: file, args: [], version, packageDir}
}

function findPackageDir(file: string): string | undefined {
  let dir = path.dirname(file)
  for (let i = 0; i < 8; i++) {
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

/**
 * The next step when OpenClaw's CLI could not do its job for a reason outside the config (empty when none is
 * known): run by a Node it does not support, or its temp dir `~/.cache/openclaw-<uid>` made by another user.
 */
export function cliStartHint(said: string): string {
  if (/Unsafe fallback OpenClaw temp dir/i.test(said))
    return " (OpenClaw's temp dir is not this user's: remove it or give it to this user, then run ir again)"
  if (/\bNode\b/.test(said)) return ' (set IR_OPENCLAW_NODE to a Node that OpenClaw supports)'
  return ''
}
