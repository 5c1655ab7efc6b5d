import {readFileSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'

import JSON5 from 'json5'

import {ExitCode, IrError, errorMessage} from '../errors.js'

/** OpenClaw's own limits (src/config/includes.ts). */
const INCLUDE_KEY = '$include'
const MAX_INCLUDE_DEPTH = 10

export type JsonObject = {[key: string]: unknown}

export interface LoadedConfig {
  path: string
  /** Exact bytes of the root file as read (the editor works on these). */
  text: string
  mode: number
  /** Merged value with $include resolved; "${VAR}" strings are kept as written. */
  value: JsonObject
  /** Object paths whose content came from an included file, and that file. */
  includes: Array<{at: string[]; file: string}>
}

export class ConfigError extends IrError {
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly column?: number,
    code = 'CONFIG_INVALID',
  ) {
    super(
      message,
      ExitCode.PreconditionFailed,
      [`Fix ${path.basename(file)} by hand (or restore a backup such as ${path.basename(file)}.bak), then re-run.`],
      code,
    )
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv
}

/** Read an OpenClaw config as OpenClaw does: JSON5, $include (confined, depth 10, no cycles). */
export function loadConfig(configPath: string, options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env
  const {text, mode} = readText(configPath)
  const root = parseJson5(text, configPath)
  const includes: LoadedConfig['includes'] = []
  const roots = [path.dirname(safeRealpath(configPath)), ...includeRoots(env)]
  const value = resolveIncludes(root, configPath, [], [safeRealpath(configPath)], roots, includes)
  if (!isObject(value)) throw new ConfigError(`${configPath}: the top level is not an object.`, configPath, 1, 1)
  return {path: configPath, text, mode, value, includes}
}

export function parseJson5(text: string, file: string): unknown {
  try {
    // Plain JSON (what OpenClaw's own writer produces) parses ~100x faster strictly; same value.
    return JSON.parse(text)
  } catch {
    /* JSON5 below */
  }
  try {
    return JSON5.parse(text)
  } catch (err) {
    const e = err as SyntaxError & {lineNumber?: number; columnNumber?: number}
    const where = e.lineNumber ? `:${e.lineNumber}:${e.columnNumber ?? 1}` : ''
    const reason = errorMessage(err)
      .replace(/^JSON5: /, '')
      .replace(/ at \d+:\d+$/, '')
    throw new ConfigError(`${file}${where}: ${reason}.`, file, e.lineNumber, e.columnNumber)
  }
}

function readText(file: string): {text: string; mode: number} {
  try {
    const st = statSync(file)
    if (st.isDirectory()) throw Object.assign(new Error('directory'), {code: 'EISDIR'})
    return {text: readFileSync(file, 'utf8'), mode: st.mode & 0o7777}
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const what =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable'
          : code === 'EISDIR'
            ? 'is a directory, not a config file'
            : errorMessage(err)
    throw new ConfigError(
      `${file} ${what}.`,
      file,
      undefined,
      undefined,
      code === 'ENOENT' ? 'CONFIG_MISSING' : 'CONFIG_UNREADABLE',
    )
  }
}

function resolveIncludes(
  node: unknown,
  file: string,
  at: string[],
  chain: string[],
  roots: string[],
  includes: LoadedConfig['includes'],
): unknown {
  if (Array.isArray(node))
    return node.map((v, i) => resolveIncludes(v, file, [...at, String(i)], chain, roots, includes))
  if (!isObject(node)) return node
  let base: unknown = {}
  const spec = node[INCLUDE_KEY]
  if (spec !== undefined) {
    const list = typeof spec === 'string' ? [spec] : Array.isArray(spec) ? spec : undefined
    if (!list || list.some((s) => typeof s !== 'string')) {
      throw new ConfigError(
        `${file}: "$include" at ${at.join('.') || '(root)'} must be a path or a list of paths.`,
        file,
      )
    }
    if (chain.length > MAX_INCLUDE_DEPTH) {
      throw new ConfigError(
        `${file}: $include nesting deeper than ${MAX_INCLUDE_DEPTH}.`,
        file,
        undefined,
        undefined,
        'CONFIG_INCLUDE',
      )
    }
    for (const rel of list as string[]) {
      const target = path.resolve(path.dirname(file), rel)
      const real = safeRealpath(target)
      if (!roots.some((r) => real === r || real.startsWith(r + path.sep))) {
        throw new ConfigError(
          `${file}: $include "${rel}" points outside the config directory.`,
          file,
          undefined,
          undefined,
          'CONFIG_INCLUDE',
        )
      }
      if (chain.includes(real)) {
        throw new ConfigError(
          `${file}: $include cycle: ${[...chain, real].map((p) => path.basename(p)).join(' -> ')}.`,
          file,
          undefined,
          undefined,
          'CONFIG_INCLUDE',
        )
      }
      const {text} = readText(target)
      const included = resolveIncludes(parseJson5(text, target), target, at, [...chain, real], roots, includes)
      includes.push({at, file: target})
      base = deepMerge(base, included)
    }
  }
  const own: JsonObject = {}
  for (const [k, v] of Object.entries(node)) {
    if (k !== INCLUDE_KEY) own[k] = resolveIncludes(v, file, [...at, k], chain, roots, includes)
  }
  return spec === undefined ? own : deepMerge(base, own)
}

/** Sibling keys override included ones; objects merge, everything else replaces. */
export function deepMerge(a: unknown, b: unknown): unknown {
  if (!isObject(a) || !isObject(b)) return b
  const out: JsonObject = {...a}
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v
  return out
}

function includeRoots(env: NodeJS.ProcessEnv): string[] {
  return (env.OPENCLAW_INCLUDE_ROOTS ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((p) => safeRealpath(path.resolve(p)))
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return path.resolve(p)
  }
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Value at a dotted path, or undefined. */
export function getPath(root: unknown, keys: readonly string[]): unknown {
  let cur = root
  for (const k of keys) {
    if (Array.isArray(cur)) cur = cur[Number(k)]
    else if (isObject(cur)) cur = cur[k]
    else return undefined
  }
  return cur
}

const ENV_REF = /^\$\{([A-Z_][A-Z0-9_]*)\}$/

/** "${VAR}" → the variable's name; anything else → undefined. */
export function envRefName(value: unknown): string | undefined {
  return typeof value === 'string' ? ENV_REF.exec(value)?.[1] : undefined
}

/** A config string with ${VAR} substituted (for probing), undefined when the variable is unset. */
export function resolveEnvString(value: string, env: NodeJS.ProcessEnv): string | undefined {
  let missing = false
  const out = value.replace(/(\$?)\$\{([A-Z_][A-Z0-9_]*)\}/g, (all, esc: string, name: string) => {
    if (esc) return all.slice(1)
    const v = env[name]
    if (v === undefined) missing = true
    return v ?? ''
  })
  return missing ? undefined : out
}

/**
 * The gateway port a config names, read from raw text that did not parse (so a broken config's
 * gateway can still be probed): the first `port: N` after the `gateway` key. Linear: no nested
 * quantifiers, one pass from the gateway key.
 */
export function rawGatewayPort(text: string): number | undefined {
  const gateway = /["']?gateway["']?\s*:/.exec(text)
  if (!gateway) return undefined
  const port = /["']?port["']?\s*:\s*(\d{1,5})(?!\d)/.exec(text.slice(gateway.index, gateway.index + 64 * 1024))
  const n = port ? Number(port[1]) : NaN
  return n > 0 && n < 65536 ? n : undefined
}
