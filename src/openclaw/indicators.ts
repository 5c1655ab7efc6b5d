import {createHash} from 'node:crypto'
import {lstatSync, readdirSync, readSync, statSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {readHead, withFile} from '../system/safe-fs.js'
import {Day, loadDataFile} from './advisories.js'
import {getPath, type JsonObject} from './config.js'
import {agentEntries, str} from './config-shape.js'

/**
 * Indicators of compromise in installed skills, from a dated data file (playbooks/data/indicators.yaml):
 * a known-malicious name, a C2 / payload host or payload string in any of the skill's files, or the
 * SHA-256 of any of its files. Pure reads, every one bounded (files, bytes read, bytes hashed).
 */

const Entry = z.object({value: z.union([z.string(), z.number()]).transform(String), why: z.string()}).strict()

const IndicatorFile = z
  .object({
    updated: Day,
    skillNames: z.array(Entry).default([]),
    hosts: z.array(Entry).default([]),
    strings: z.array(Entry).default([]),
    sha256: z.array(Entry).default([]),
  })
  .strict()
export type IndicatorData = z.infer<typeof IndicatorFile>

export function loadIndicators(file: string): IndicatorData {
  return loadDataFile(file, IndicatorFile, {what: 'indicator list', code: 'INDICATORS_INVALID'})
}

export interface IndicatorHit {
  skill: string
  dir: string
  kind: 'skill name' | 'host' | 'string' | 'sha256'
  value: string
  why: string
  /** The file that matched, relative to the skill dir (none for a name). */
  file?: string
}

/** What was checked, so "no match" can be told from "not looked at". */
export interface IndicatorCheck {
  updated: string
  skills: number
  files: number
  /** Files not read or hashed, and directories not walked: over the per-file, per-skill or per-install bounds. */
  skipped: number
}

export const LIMITS = {
  /** Text searched in each file (hosts, strings, the SKILL.md name). */
  textBytes: 256 * 1024,
  /** Larger files are not hashed. */
  hashBytes: 8 * 1024 * 1024,
  filesPerSkill: 200,
  /** Directories listed per skill (a tree of empty directories is as costly as one of files). */
  dirsPerSkill: 500,
  depth: 4,
  /** Bytes read for the whole install, after which files are skipped (status stays fast on any tree). */
  installBytes: 64 * 1024 * 1024,
}

/**
 * Skill directories of the install, where OpenClaw 2026.9.6 loads file-backed skills from (docs/tools/
 * skills.md "Loading order"): each workspace's skills/ and .agents/skills/, ~/.agents/skills (default
 * state dir only), <stateDir>/skills, each agent's workshop-skills, skills.load.extraDirs. Bundled and
 * custodian skills ship with the package and are not listed.
 */
export function skillDirs(stateDir: string, config: JsonObject | undefined, home?: string): string[] {
  const roots = new Set<string>([path.join(stateDir, 'skills')])
  const workspaces = [str(getPath(config, ['agents', 'defaults', 'workspace']))]
  if (config) for (const a of agentEntries(config)) workspaces.push(str(getPath(a.value, ['workspace'])))
  for (const name of safeList(stateDir)) if (/^workspace(-|$)/.test(name)) workspaces.push(path.join(stateDir, name))
  for (const w of workspaces)
    if (w) for (const sub of [['skills'], ['.agents', 'skills']]) roots.add(path.join(w, ...sub))
  if (home && path.resolve(stateDir) === path.resolve(home, '.openclaw'))
    roots.add(path.join(home, '.agents', 'skills'))
  for (const id of safeList(path.join(stateDir, 'agents')))
    roots.add(path.join(stateDir, 'agents', id, 'agent', 'workshop-skills'))
  const extra = getPath(config, ['skills', 'load', 'extraDirs'])
  if (Array.isArray(extra)) for (const d of extra) if (typeof d === 'string') roots.add(d)
  const out: string[] = []
  for (const root of roots) for (const name of safeList(root)) out.push(path.join(root, name))
  return out.filter((d) => {
    try {
      return statSync(d).isDirectory()
    } catch {
      return false
    }
  })
}

/** Installed skills matching a known-malicious name, a host or string in any file, or a file's SHA-256. */
export function indicatorHits(
  dirs: string[],
  data: IndicatorData,
  limits = LIMITS,
): {hits: IndicatorHit[]; check: IndicatorCheck} {
  const hits: IndicatorHit[] = []
  const check: IndicatorCheck = {updated: data.updated, skills: dirs.length, files: 0, skipped: 0}
  const texts = [
    ...data.hosts.map((e) => ({...e, kind: 'host' as const})),
    ...data.strings.map((e) => ({...e, kind: 'string' as const})),
  ].map((e) => ({...e, needle: e.value.toLowerCase()}))
  const digests = new Map(data.sha256.map((e) => [e.value.toLowerCase(), e]))
  let budget = limits.installBytes
  // One buffer for every file's head: reading thousands of small files allocates nothing per file.
  const scratch = Buffer.alloc(limits.textBytes)
  for (const dir of dirs) {
    const skill = path.basename(dir)
    const files = skillFiles(dir, limits)
    check.skipped += files.over
    const md = files.list.includes('SKILL.md') ? readHead(path.join(dir, 'SKILL.md'), limits.textBytes) : undefined
    const name = (md && /^name:\s*["']?([^"'\n]+)/m.exec(md.toString('utf8'))?.[1]?.trim()) || skill
    for (const n of data.skillNames)
      if ([skill, name].some((s) => s.toLowerCase() === n.value.toLowerCase()))
        hits.push({skill, dir, kind: 'skill name', value: n.value, why: n.why})
    for (const rel of files.list) {
      const file = path.join(dir, rel)
      const size = sizeOf(file)
      if (size === undefined || budget <= 0) {
        check.skipped++
        continue
      }
      check.files++
      const head = readHead(file, Math.min(limits.textBytes, budget), scratch)
      budget -= head?.length ?? 0
      const text = head?.toString('latin1').toLowerCase() ?? ''
      for (const t of texts)
        if (text.includes(t.needle)) hits.push({skill, dir, kind: t.kind, value: t.value, why: t.why, file: rel})
      // A file read whole for its text is not read again for its hash.
      const whole = head !== undefined && head.length === size
      if (!whole && (size > limits.hashBytes || size > budget)) {
        check.skipped++
        continue
      }
      const digest = whole ? createHash('sha256').update(head).digest('hex') : sha256File(file, size)
      if (!whole) budget -= size
      const known = digest ? digests.get(digest) : undefined
      if (known) hits.push({skill, dir, kind: 'sha256', value: known.value, why: known.why, file: rel})
    }
  }
  return {hits, check}
}

/** Regular files of a skill (no symlinks followed), relative paths, bounded in count and depth. */
function skillFiles(dir: string, limits: typeof LIMITS): {list: string[]; over: number} {
  const list: string[] = []
  let over = 0
  let dirs = 0
  const walk = (rel: string, depth: number) => {
    if (++dirs > limits.dirsPerSkill) {
      over++
      return
    }
    for (const name of safeList(path.join(dir, rel))) {
      const r = rel ? path.join(rel, name) : name
      let st
      try {
        st = lstatSync(path.join(dir, r))
      } catch {
        continue
      }
      if (st.isDirectory() && depth < limits.depth && name !== 'node_modules' && name !== '.git') walk(r, depth + 1)
      else if (st.isFile()) {
        if (list.length < limits.filesPerSkill) list.push(r)
        else over++
      }
    }
  }
  walk('', 0)
  return {list, over}
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size
  } catch {
    return undefined
  }
}

const CHUNK = 1024 * 1024

/** SHA-256 of a file read in chunks (bounded memory). */
function sha256File(file: string, size: number): string | undefined {
  return withFile(file, Math.min(CHUNK, size), (fd, buf) => {
    const h = createHash('sha256')
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null))
      h.update(buf.subarray(0, n))
    return h.digest('hex')
  })
}
