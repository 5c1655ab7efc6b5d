import {existsSync, statSync} from 'node:fs'
import path from 'node:path'

import {ExitCode, IrError} from '../errors.js'
import type {HostEnv} from '../system/host.js'
import {isInside, realOr} from '../system/real-paths.js'
import {isSystemPath} from '../system/system-paths.js'
import {resolveInstall, type Install, type Target} from './locate.js'

/**
 * Target sanity for the commands that change an install (contain, rotate): the state dir must show
 * a sign of OpenClaw and must not be a system directory or a home; modes change only inside the
 * state dir (and on the config's own files).
 */

/** Entries only an OpenClaw (or Clawdbot/Moltbot) state dir holds. */
const SIGNS = [
  'openclaw.json',
  'clawdbot.json',
  'moldbot.json',
  'moltbot.json',
  'openclaw.json.bak',
  'agents',
  'credentials',
  path.join('state', 'openclaw.sqlite'),
  'devices',
  'identity',
  'exec-approvals.json',
  'gateway.cmd',
]

/** Whether the state dir holds anything only OpenClaw writes (a config, agents/, credentials/, state/…). */
export function showsOpenClawSign(install: Install): boolean {
  if (install.configExists) return true
  const dir = realOr(install.stateDir)
  return SIGNS.some((s) => existsSync(path.join(dir, s)))
}

/** Throws (exit 3, one line) unless the install is one ir may change. */
export function checkInstallTarget(install: Install, host: HostEnv): void {
  const dir = realOr(install.stateDir)
  if (isSystemPath(dir, homes(host))) {
    throw refuse(
      `${install.stateDir} is a system directory or a home, not an OpenClaw state dir; ir changes nothing there.`,
    )
  }
  if (!showsOpenClawSign(install)) {
    throw refuse(
      `${install.stateDir} shows no sign of an OpenClaw install (no openclaw.json, agents/, credentials/ or state/); ir changes nothing there.`,
    )
  }
}

/**
 * Whether ir may change this path's mode: inside the state dir, or a regular file of the config
 * (its includes, .bak copies) outside it; never a system directory, a home, or a file directly in one.
 */
export function modeChangeAllowed(install: Install, p: string, host: HostEnv): boolean {
  const abs = path.resolve(p)
  const h = homes(host)
  if (isSystemPath(abs, h)) return false
  if (isInside(abs, path.resolve(install.stateDir)) || isInside(realOr(abs), realOr(install.stateDir))) return true
  try {
    return statSync(abs).isFile() && !isSystemPath(path.dirname(abs), h) && !isSystemPath(path.dirname(realOr(abs)), h)
  } catch {
    return false
  }
}

function homes(host: HostEnv): string[] {
  return [host.homedir, host.env.HOME ?? ''].filter(Boolean)
}

function refuse(message: string): IrError {
  return new IrError(
    message,
    ExitCode.PreconditionFailed,
    ['Point ir at the OpenClaw state dir with --state-dir or --profile (`ir status` lists what it finds).'],
    'NOT_AN_INSTALL',
  )
}

/** The install a command that acts on one must find: its state dir exists, or a precondition error. */
export function existingInstall(target: Target, host: HostEnv): Install {
  const install = resolveInstall(target, host)
  if (!install.stateDirExists) {
    throw new IrError(
      `OpenClaw state dir ${install.stateDir} does not exist.`,
      ExitCode.PreconditionFailed,
      ['Point ir at the install with --state-dir or --profile (`ir status` lists what it finds).'],
      'STATE_DIR_MISSING',
    )
  }
  return install
}
