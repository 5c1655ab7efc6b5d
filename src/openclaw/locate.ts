import {existsSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'
import {expandTilde, type HostEnv, openclawHome, realHost} from '../system/host.js'

export {expandTilde, type HostEnv, openclawHome, realHost}

/** What the operator asked for (flags); anything unset is resolved like OpenClaw does. */
export interface Target {
  stateDir?: string
  configPath?: string
  profile?: string
}

export interface Install {
  stateDir: string
  configPath: string
  profile?: string
  /** Why this state dir: flag, env, profile, default, legacy (Clawdbot/Moltbot era dir), found (enumerated). */
  source: 'flag' | 'env' | 'profile' | 'default' | 'legacy' | 'found'
  stateDirExists: boolean
  configExists: boolean
}

const LEGACY_STATE_DIRS = ['.clawdbot', '.moldbot', '.moltbot']
const CONFIG_NAMES = ['openclaw.json', 'clawdbot.json', 'moldbot.json', 'moltbot.json']
const PROFILE_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/i

export function validProfile(name: string): boolean {
  return PROFILE_RE.test(name)
}

/** Resolve state dir and config exactly as OpenClaw's src/config/paths.ts does (2026.2.26 … 2026.9.6). */
export function resolveInstall(target: Target = {}, host: HostEnv = realHost()): Install {
  const home = openclawHome(host)
  const abs = (p: string) => path.resolve(expandTilde(p, home))
  const profile =
    target.profile !== undefined
      ? normalizeProfile(target.profile, '--profile')
      : normalizeProfile(host.env.OPENCLAW_PROFILE, 'OPENCLAW_PROFILE')

  let stateDir: string
  let source: Install['source']
  if (target.stateDir) [stateDir, source] = [abs(target.stateDir), 'flag']
  else if (host.env.OPENCLAW_STATE_DIR?.trim()) [stateDir, source] = [abs(host.env.OPENCLAW_STATE_DIR), 'env']
  else if (profile) [stateDir, source] = [path.join(home, `.openclaw-${profile}`), 'profile']
  else {
    const preferred = path.join(home, '.openclaw')
    const legacy = LEGACY_STATE_DIRS.map((d) => path.join(home, d)).find((d) => isDir(d))
    if (isDir(preferred) || !legacy) [stateDir, source] = [preferred, 'default']
    else [stateDir, source] = [legacy, 'legacy']
  }

  let configPath: string
  if (target.configPath) configPath = abs(target.configPath)
  else if (host.env.OPENCLAW_CONFIG_PATH?.trim()) configPath = abs(host.env.OPENCLAW_CONFIG_PATH)
  else configPath = findConfig(stateDir, source === 'default' || source === 'legacy' ? home : undefined)

  return {
    stateDir,
    configPath,
    profile,
    source,
    stateDirExists: isDir(stateDir),
    configExists: existsSync(configPath),
  }
}

/** First existing config name in the state dir; for the default dir also across legacy dirs. */
function findConfig(stateDir: string, defaultHome: string | undefined): string {
  const dirs = [stateDir]
  if (defaultHome) dirs.push(...['.openclaw', ...LEGACY_STATE_DIRS].map((d) => path.join(defaultHome, d)))
  for (const dir of dirs) {
    for (const name of CONFIG_NAMES) {
      const candidate = path.join(dir, name)
      if (existsSync(candidate)) return candidate
    }
  }
  return path.join(stateDir, 'openclaw.json')
}

/**
 * Every install on this host for this user: the resolved one first, then ~/.openclaw,
 * ~/.openclaw-<profile> and the legacy dirs that exist.
 */
export function findInstalls(target: Target = {}, host: HostEnv = realHost()): Install[] {
  const primary = resolveInstall(target, host)
  const installs = [primary]
  // An explicit target is what the operator asked about: do not mix in other installs.
  if (target.stateDir || target.configPath) return installs
  const home = openclawHome(host)
  let names: string[] = []
  try {
    names = readdirSync(home)
  } catch {
    return installs
  }
  for (const name of names.sort()) {
    const dir = path.join(home, name)
    let profile: string | undefined
    if (name === '.openclaw' || LEGACY_STATE_DIRS.includes(name)) profile = undefined
    else if (name.startsWith('.openclaw-') && validProfile(name.slice(10))) profile = name.slice(10)
    else continue
    if (!isDir(dir) || installs.some((i) => path.resolve(i.stateDir) === dir)) continue
    const found = resolveInstall({stateDir: dir, profile}, {...host, env: {}})
    installs.push({...found, source: 'found', configPath: findConfig(dir, undefined)})
  }
  return installs
}

/** OpenClaw refuses a name outside its rule (src/cli/profile-utils.ts); so does ir, instead of falling back. */
function normalizeProfile(p: string | undefined, from: string): string | undefined {
  const name = p?.trim().toLowerCase()
  if (!name || name === 'default') return undefined
  if (!validProfile(name)) {
    throw new IrError(
      `${from} ${JSON.stringify(p)} is not a valid OpenClaw profile name.`,
      ExitCode.Usage,
      ['Use letters, digits, "_" and "-" only, starting with a letter or digit (as OpenClaw requires).'],
      'USAGE',
    )
  }
  return name
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}
