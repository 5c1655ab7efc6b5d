import {statSync} from 'node:fs'
import path from 'node:path'

import {safeReaddir} from '../system/safe-fs.js'
import {getPath, isObject, type JsonObject} from './config.js'
import {agentEntries} from './config-shape.js'

/**
 * Where an attacker who drove the agent leaves code or instructions that outlive containment:
 * managed and workspace plugins, skills and hook packs (code), cron jobs, and the agent's identity
 * files. Listed for the operator (changed in the incident window), never changed by ir.
 */

export type PersistenceKind = 'plugin' | 'skill' | 'hook pack' | 'cron jobs' | 'identity file'

export interface PersistenceItem {
  kind: PersistenceKind
  path: string
  modifiedAt: string
}

/** At most this many entries per folder are looked at (a flooded folder stays bounded). */
const MAX_ENTRIES = 500

export function persistenceChanges(
  stateDir: string,
  config: JsonObject | undefined,
  sinceMs: number,
): PersistenceItem[] {
  const items: PersistenceItem[] = []
  const add = (kind: PersistenceKind, p: string) => {
    const m = latestChange(p)
    if (m !== undefined && m >= sinceMs) items.push({kind, path: p, modifiedAt: new Date(m).toISOString()})
  }
  const children = (dir: string, kind: PersistenceKind) => {
    for (const name of safeReaddir(dir).slice(0, MAX_ENTRIES)) add(kind, path.join(dir, name))
  }
  children(path.join(stateDir, 'extensions'), 'plugin')
  children(path.join(stateDir, 'skills'), 'skill')
  children(path.join(stateDir, 'hooks'), 'hook pack')
  add('cron jobs', path.join(stateDir, 'cron', 'jobs.json'))
  for (const ws of workspaces(stateDir, config)) {
    children(path.join(ws, 'skills'), 'skill')
    children(path.join(ws, 'hooks'), 'hook pack')
    children(path.join(ws, '.openclaw', 'extensions'), 'plugin')
    for (const f of ['SOUL.md', 'IDENTITY.md']) add('identity file', path.join(ws, f))
  }
  return items.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt))
}

/** The default workspace and every one the config names (agents.defaults, each agent). */
function workspaces(stateDir: string, config: JsonObject | undefined): string[] {
  const out = [path.join(stateDir, 'workspace')]
  const named = [
    getPath(config, ['agents', 'defaults', 'workspace']),
    ...(config ? agentEntries(config).map((a) => (isObject(a.value) ? a.value.workspace : undefined)) : []),
  ]
  for (const w of named) if (typeof w === 'string' && path.isAbsolute(w)) out.push(w)
  return [...new Set(out.map((w) => path.resolve(w)))]
}

/** mtime of a file, or the newest of a folder and its direct entries (a plugin edited in place counts). */
function latestChange(p: string): number | undefined {
  let latest: number
  try {
    const st = statSync(p)
    latest = st.mtimeMs
    if (!st.isDirectory()) return latest
  } catch {
    return undefined
  }
  for (const name of safeReaddir(p).slice(0, MAX_ENTRIES)) {
    try {
      latest = Math.max(latest, statSync(path.join(p, name)).mtimeMs)
    } catch {
      /* gone */
    }
  }
  return latest
}
