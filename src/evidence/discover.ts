import {lstatSync, readdirSync, readlinkSync, type Stats} from 'node:fs'
import path from 'node:path'

import {getPath, isObject, type JsonObject} from '../openclaw/config.js'
import {configHistoryFiles, gatewayLogFiles} from '../openclaw/files.js'
import {readLocks} from '../openclaw/gateway.js'
import {findServiceDefinitions, serviceMatches} from '../openclaw/services.js'
import {isSqliteFile, SQLITE_MIN_BYTES} from '../openclaw/stores/sqlite-file.js'
import {realOr} from '../system/real-paths.js'
import {evidencePath, posix, stateRel} from './bundle-paths.js'
import {
  BOOTSTRAP_FILES,
  type Classification,
  classify,
  directoryRule,
  lineText,
  type Policy,
  type ScanAs,
  SIDECAR,
  WORKSPACE_DIRS,
} from './policy.js'
import {fileType} from './source-io.js'
import type {ItemKind, ItemRecord} from './collect-types.js'

/**
 * Step 1 of collect: every source of one install, both storage eras, every agent (paths from
 * openclaw-internals.md §0, §6, §7, Appendix B). Only lstat and readdir: nothing is opened, no
 * symlink is followed (an attacker can plant `sessions/x.jsonl -> /etc/shadow`; it is recorded
 * with its target). Directories that are not evidence are skipped with a reason.
 */

export interface Source {
  path: string
  /** Relative to the state dir (POSIX), when inside it. */
  rel?: string
  bundlePath: string
  kind: ItemKind
  policy: Policy
  scan?: ScanAs
  size: number
  mtimeMs: number
  agentId?: string
  sessionId?: string
  /** -wal / -shm / -journal of a SQLite store. */
  sidecars?: Source[]
  /** Read only the part of the file at or after this time (a big log narrowed by --since). */
  trimSince?: Date
}

export interface DiscoverInput {
  stateDir: string
  configPath: string
  config?: JsonObject
  /** Files pulled in by $include. */
  includes?: string[]
  env: NodeJS.ProcessEnv
  home: string
  uid?: number
  tmpDir?: string
  profile?: string
  since?: Date
  includeSecrets: boolean
  /** Logs at least this big are trimmed by line time with --since instead of copied whole (default 64 MiB). */
  trimMinBytes?: number
}

export interface Discovery {
  stateDir: string
  sources: Source[]
  /** Items decided at discovery: symlinks, special files, skipped directories, too old for --since. */
  records: ItemRecord[]
  bytes: number
}

/** Kinds --since never narrows: small state files that say how the install is set up now. */
const ALWAYS = new Set<ItemKind>([
  'config',
  'config-history',
  'config-include',
  'env',
  'secret-store',
  'sqlite',
  'sqlite-sidecar',
  'sqlite-coordinator',
  'pairing',
  'device',
  'exec-approvals',
  'service',
  'sessions-index',
  'lock',
  'cron',
])
const TRIMMABLE = new Set<ItemKind>(['gateway-log', 'log', 'config-audit'])
const CONFIG_NAME = /^(openclaw|clawdbot|moltbot|moldbot)\.json($|\.)/

export function discoverSources(input: DiscoverInput): Discovery {
  const stateDir = realOr(input.stateDir)
  const records: ItemRecord[] = []
  const sources = new Map<string, Source>()
  const configFiles = new Set(
    [...configHistoryFiles(input.configPath), ...(input.includes ?? [])].map((f) => path.resolve(f)),
  )
  if (stateDir !== path.resolve(input.stateDir)) {
    records.push({
      path: input.stateDir,
      kind: 'directory',
      outcome: 'collected',
      method: 'metadata',
      linkTarget: stateDir,
      note: 'the state dir is a symlink; its target (chosen by the operator) was collected',
    })
  }

  const add = (file: string, st: Stats, forced?: {kind: ItemKind; policy: Policy; scan?: ScanAs}) => {
    if (sources.has(file)) return
    const rel = stateRel(file, stateDir)
    const isConfig = configFiles.has(file) || (rel !== undefined && !rel.includes('/') && CONFIG_NAME.test(rel))
    let c: {kind: ItemKind; policy: Policy; scan?: ScanAs}
    if (rel !== undefined) c = classify(rel, isConfig)
    else if (isConfig) c = classify(path.basename(file), true)
    else {
      // outside the state dir: secret stores and databases are known by name, the rest by where they were found
      const byName = classify(path.basename(file), false)
      c = byName.policy !== 'copy' ? byName : (forced ?? externalClass(file))
    }
    if (c.policy === 'copy') c = bySqliteHeader(file, st, c)
    const kind = configFiles.has(file) && !file.startsWith(path.dirname(input.configPath)) ? 'config-include' : c.kind
    const src: Source = {
      path: file,
      rel,
      bundlePath: evidencePath(file, stateDir),
      kind,
      policy: c.policy,
      scan: c.scan,
      size: st.size,
      mtimeMs: st.mtimeMs,
    }
    const m = rel ? /^agents\/([^/]+)\/(?:sessions|agent)\//.exec(rel) : undefined
    if (m) src.agentId = m[1]
    if (kind === 'transcript' || kind === 'transcript-archive')
      src.sessionId = path.basename(file).replace(/\.jsonl.*$/, '')
    if (input.since && st.mtimeMs < input.since.getTime() && !ALWAYS.has(kind)) {
      records.push({
        ...meta(file, st),
        kind,
        outcome: 'skipped',
        reason: `not modified since ${input.since.toISOString()} (--since)`,
      })
      return
    }
    if (input.since && TRIMMABLE.has(kind) && st.size >= (input.trimMinBytes ?? 64 << 20)) src.trimSince = input.since
    sources.set(file, src)
  }

  const visit = (file: string, forced?: {kind: ItemKind; policy: Policy; scan?: ScanAs}): void => {
    let st: Stats
    try {
      st = lstatSync(file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') records.push({path: file, kind: 'other', outcome: 'failed', error: `lstat: ${code}`})
      return
    }
    if (st.isSymbolicLink()) {
      records.push({
        ...meta(file, st),
        kind: forced?.kind ?? 'other',
        outcome: 'skipped',
        reason: 'symlink: recorded, not followed',
        linkTarget: safeReadlink(file),
      })
      return
    }
    if (st.isDirectory()) return walk(file)
    if (!st.isFile()) {
      records.push({
        ...meta(file, st),
        kind: 'other',
        outcome: 'skipped',
        reason: `not a regular file (${fileType(st)})`,
      })
      return
    }
    add(file, st, forced)
  }

  const walk = (dir: string, forced?: {kind: ItemKind; policy: Policy; scan?: ScanAs}): void => {
    const stack = [dir]
    while (stack.length) {
      const d = stack.pop()!
      let names: string[]
      try {
        names = readdirSync(d).sort()
      } catch (err) {
        records.push({
          path: d,
          kind: 'directory',
          outcome: 'failed',
          error: `cannot list: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        })
        continue
      }
      for (const name of names.reverse()) {
        const full = path.join(d, name)
        const relState = stateRel(full, stateDir) ?? posix(path.relative(dir, full))
        let st: Stats
        try {
          st = lstatSync(full)
        } catch {
          continue // vanished between readdir and lstat
        }
        if (st.isDirectory()) {
          const rule = directoryRule(relState, name)
          if (rule && !(rule.secret && input.includeSecrets)) {
            records.push({
              ...meta(full, st),
              kind: 'directory',
              outcome: 'skipped',
              reason: rule.secret ? `${rule.reason}; collected only with --include-secrets` : rule.reason,
            })
            continue
          }
          stack.push(full)
          continue
        }
        if (st.isSymbolicLink()) {
          records.push({
            ...meta(full, st),
            kind: 'other',
            outcome: 'skipped',
            reason: 'symlink: recorded, not followed',
            linkTarget: safeReadlink(full),
          })
        } else if (!st.isFile()) {
          records.push({
            ...meta(full, st),
            kind: 'other',
            outcome: 'skipped',
            reason: `not a regular file (${fileType(st)})`,
          })
        } else {
          add(full, st, forced && {...forced, scan: lineText(name) ? forced.scan : undefined})
        }
      }
    }
  }

  // the state dir, whole (both eras: sessions/*.jsonl and agents/*/agent/*.sqlite alike)
  walk(stateDir)
  // config and its history / includes living elsewhere
  for (const f of configFiles) if (!stateRel(f, stateDir)) visit(f)
  // gateway logs: logging.file, /tmp/openclaw/openclaw[-<profile>]-*.log, the uid fallback dir
  for (const f of gatewayLogFiles(stateDir, input.config, {uid: input.uid, tmpDir: input.tmpDir})) {
    if (!stateRel(f, stateDir)) visit(f, {kind: 'gateway-log', policy: 'copy', scan: 'log'})
  }
  // lock files of older builds (/tmp/openclaw-<uid>/gateway.<hash>.lock)
  for (const lock of readLocks(stateDir, input.configPath, {uid: input.uid, tmpDir: input.tmpDir})) {
    if (!stateRel(lock.path, stateDir)) visit(lock.path, {kind: 'lock', policy: 'copy'})
  }
  // service definitions that run this install's gateway (old ones embed the token)
  for (const def of findServiceDefinitions(input.home, stateDir)) {
    if (def.file.startsWith(stateDir + path.sep)) continue
    if (serviceMatches(def, stateDir, input.home, input.profile))
      visit(def.file, {kind: 'service', policy: 'masked-env', scan: 'log'})
  }
  // workspaces outside the state dir: bootstrap files, memory, skills, hooks, workspace plugins
  for (const ws of workspaceDirs(input, stateDir)) {
    for (const name of BOOTSTRAP_FILES) visit(path.join(ws, name), {kind: 'workspace', policy: 'copy', scan: 'log'})
    for (const sub of WORKSPACE_DIRS) {
      const d = path.join(ws, sub)
      if (isDir(d))
        walk(d, {kind: sub === 'skills' || sub === '.openclaw' ? 'skill' : 'workspace', policy: 'copy', scan: 'log'})
    }
  }
  // SecretRef file providers (secrets.providers.<id>: {source: "file", path}): their values mask everything else
  for (const f of secretFiles(input)) if (!stateRel(f, stateDir)) visit(f, {kind: 'secret-store', policy: 'metadata'})
  // extra skill dirs (ClawHavoc: SKILL.md "prerequisites" that download and run)
  const extra = input.config ? getPath(input.config, ['skills', 'load', 'extraDirs']) : undefined
  if (Array.isArray(extra)) {
    for (const d of extra)
      if (typeof d === 'string' && isDir(expand(d, input.home)) && !stateRel(expand(d, input.home), stateDir))
        walk(expand(d, input.home), {kind: 'skill', policy: 'copy', scan: 'log'})
  }

  const list = groupSqlite([...sources.values()])
  const bytes = list.reduce((n, s) => n + s.size + (s.sidecars ?? []).reduce((m, x) => m + x.size, 0), 0)
  return {stateDir, sources: list, records, bytes}
}

/** A SQLite store carries its -wal/-shm/-journal; a sidecar without its store is kept as metadata. */
function groupSqlite(sources: Source[]): Source[] {
  const byPath = new Map(sources.map((s) => [s.path, s]))
  const out: Source[] = []
  for (const s of sources) {
    if (s.kind !== 'sqlite-sidecar') {
      out.push(s)
      continue
    }
    const db = byPath.get(s.path.replace(SIDECAR, ''))
    if (db && db.kind === 'sqlite') (db.sidecars ??= []).push(s)
    else out.push({...s, policy: 'metadata'})
  }
  return out
}

/** SQLite known by its header, not its name (the doctor's `<db>.pre-startup-migration-<ts>.bak`, renamed stores). */
function bySqliteHeader(file: string, st: Stats, c: Classification): Classification {
  const name = path.basename(file)
  if (c.kind === 'sqlite-coordinator' || lineText(name)) return c
  if (SIDECAR.test(name))
    return isSqliteFile(file.replace(SIDECAR, '')) ? {kind: 'sqlite-sidecar', policy: 'sqlite'} : c
  return st.size >= SQLITE_MIN_BYTES && isSqliteFile(file) ? {kind: 'sqlite', policy: 'sqlite'} : c
}

function secretFiles(input: DiscoverInput): string[] {
  const providers = input.config ? getPath(input.config, ['secrets', 'providers']) : undefined
  if (!isObject(providers)) return []
  return Object.values(providers)
    .filter((p) => isObject(p) && p.source === 'file' && typeof p.path === 'string')
    .map((p) => path.resolve(expand((p as {path: string}).path, input.home)))
}

function externalClass(file: string): {kind: ItemKind; policy: Policy; scan?: ScanAs} {
  return {kind: 'other', policy: 'copy', scan: lineText(path.basename(file)) ? 'log' : undefined}
}

function workspaceDirs(input: DiscoverInput, stateDir: string): string[] {
  const dirs = new Set<string>()
  const c = input.config
  if (c) {
    const def = getPath(c, ['agents', 'defaults', 'workspace'])
    if (typeof def === 'string') dirs.add(expand(def, input.home))
    const list = getPath(c, ['agents', 'list'])
    if (Array.isArray(list))
      for (const a of list)
        if (isObject(a) && typeof a.workspace === 'string') dirs.add(expand(a.workspace, input.home))
  }
  if (input.profile) dirs.add(path.join(input.home, '.openclaw', `workspace-${input.profile}`))
  return [...dirs].filter((d) => isDir(d) && !stateRel(d, stateDir) && d !== stateDir)
}

function expand(p: string, home: string): string {
  return path.resolve(p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p)
}

export function meta(
  file: string,
  st: Stats,
): Pick<ItemRecord, 'path' | 'size' | 'mtime' | 'atime' | 'ctime' | 'mode' | 'uid' | 'gid' | 'inode'> {
  return {
    path: file,
    size: st.size,
    mtime: iso(st.mtimeMs),
    atime: iso(st.atimeMs),
    ctime: iso(st.ctimeMs),
    mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
    uid: st.uid,
    gid: st.gid,
    inode: st.ino,
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function safeReadlink(p: string): string | undefined {
  try {
    return readlinkSync(p)
  } catch {
    return undefined
  }
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory()
  } catch {
    return false
  }
}
