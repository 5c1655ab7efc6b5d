import {lstatSync, readdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {z} from 'zod'

import {loadConfig} from '../openclaw/config.js'
import {modeChangeAllowed} from '../openclaw/install-check.js'
import {configHistoryFiles} from '../openclaw/files.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z.object({}).strict()

/** Secret-bearing trees under the state dir (both eras): walked, never following symlinks. */
const TREES = ['credentials', 'agents', 'state', 'identity', 'devices', 'nodes', 'logs']
const FILES = ['.env', 'secrets.json', 'exec-approvals.json']
const PLAN_LINES = 40

export interface ModeChange {
  path: string
  dir: boolean
  before: number
  after: number
}

/**
 * No group/world access to anything that holds secrets or transcripts: state dir 700, config (and
 * its includes and .bak copies) 600, credentials/ 700 with files 600, agent dirs and stores, the
 * state DB, device identity. Bits are only ever removed (a 400 config stays 400). Each mode before
 * and after is recorded in the case for undo; symlinks are never followed.
 */
export const tightenPermissions: ActionDefinition<z.infer<typeof Params>> = {
  name: 'tighten-permissions',
  description:
    'Remove group/world access from the state dir, config, credentials, agent stores (modes recorded for undo).',
  params: Params,
  mutates: true,
  async plan(ctx) {
    const {changes: all, skipped} = permissionPlan(ctx.install.stateDir, ctx.install.configPath, ctx.env)
    const host = {env: ctx.env, homedir: os.homedir(), uid: process.getuid?.() ?? 0}
    const changes = all.filter((c) => modeChangeAllowed(ctx.install, c.path, host))
    for (const c of all) if (!changes.includes(c)) skipped.push(`${c.path} (outside the state dir or a system path)`)
    const lines = changes.slice(0, PLAN_LINES).map((c) => `chmod ${oct(c.after)} ${c.path}   (now ${oct(c.before)})`)
    if (changes.length > PLAN_LINES) lines.push(`… and ${changes.length - PLAN_LINES} more`)
    for (const s of skipped.slice(0, 10)) lines.push(`left alone: ${s}`)
    if (!changes.length)
      return {noop: true, summary: 'permissions already tight (no group/world access)', lines, data: changes}
    const dirs = changes.filter((c) => c.dir).length
    return {
      noop: false,
      summary: `chmod ${changes.length} path(s) (${dirs} dir(s), ${changes.length - dirs} file(s))`,
      lines,
      data: changes,
      question: `${lines.join('\n')}\nRemove group/world access from these ${changes.length} path(s)?`,
    }
  },
  async apply(ctx, _params, plan) {
    const changes = plan.data as ModeChange[]
    let done = 0
    const failed: string[] = []
    for (const c of changes) {
      try {
        ctx.case.chmod(c.path, c.after, 'permissions')
        done++
      } catch (err) {
        failed.push(`${c.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
    }
    return {
      detail: `${done}/${changes.length} mode(s) tightened${failed.length ? `; ${failed.length} failed (${failed.slice(0, 3).join('; ')})` : ''}`,
      data: {failed},
    }
  },
  async verify(ctx, _params, plan) {
    const changes = plan.data as ModeChange[]
    const wrong = changes.filter((c) => {
      try {
        return (lstatSync(c.path).mode & 0o7777) !== c.after
      } catch {
        return false // vanished meanwhile: nothing left to expose
      }
    })
    if (wrong.length)
      return {
        ok: false,
        detail: `${wrong.length} path(s) not at the intended mode: ${wrong
          .slice(0, 5)
          .map((c) => c.path)
          .join(', ')}`,
      }
    // A gateway left running may create new files meanwhile: reported, not undone.
    const fresh = permissionPlan(ctx.install.stateDir, ctx.install.configPath, ctx.env).changes.filter(
      (c) => !changes.some((x) => x.path === c.path),
    )
    if (fresh.length)
      return {
        ok: true,
        detail: `${changes.length} mode(s) re-read; ${fresh.length} new path(s) appeared with group/world access since (re-run to fix): ${fresh
          .slice(0, 3)
          .map((c) => c.path)
          .join(', ')}`,
      }
    return {ok: true, detail: `${changes.length} mode(s) re-read: no group/world access left`}
  },
}

/** Every secret-bearing path with group/world bits, and what it becomes (bits only removed). */
export function permissionPlan(
  stateDir: string,
  configPath: string,
  env: NodeJS.ProcessEnv,
): {changes: ModeChange[]; skipped: string[]} {
  const changes: ModeChange[] = []
  const skipped: string[] = []
  const seen = new Set<string>()
  const consider = (p: string, recurse: boolean) => {
    const abs = path.resolve(p)
    if (seen.has(abs)) return
    seen.add(abs)
    let st
    try {
      st = lstatSync(abs)
    } catch {
      return
    }
    if (st.isSymbolicLink()) {
      skipped.push(`${abs} (symlink, not followed)`)
      return
    }
    if (!st.isDirectory() && !st.isFile()) return
    const before = st.mode & 0o7777
    const after = before & ~0o077
    if (after !== before) changes.push({path: abs, dir: st.isDirectory(), before, after})
    if (recurse && st.isDirectory()) {
      let names: string[] = []
      try {
        names = readdirSync(abs).sort()
      } catch {
        skipped.push(`${abs} (not readable)`)
      }
      for (const n of names) consider(path.join(abs, n), true)
    }
  }
  consider(stateDir, false)
  for (const f of configHistoryFiles(configPath)) consider(f, false)
  try {
    for (const inc of loadConfig(configPath, {env}).includes) consider(inc.file, false)
  } catch {
    /* a broken config still gets its own mode fixed above */
  }
  for (const t of TREES) consider(path.join(stateDir, t), true)
  for (const f of FILES) consider(path.join(stateDir, f), false)
  return {changes, skipped}
}

const oct = (m: number) => m.toString(8).padStart(3, '0')
