import {createHash} from 'node:crypto'
import {closeSync, openSync, readdirSync, readFileSync, readSync, statSync} from 'node:fs'
import path from 'node:path'

import {parse as parseYaml} from 'yaml'
import {z} from 'zod'

import {ExitCode, IrError} from '../errors.js'
import {getPath, type JsonObject} from './config.js'
import {agentEntries, str} from './config-shape.js'

/**
 * Known-vulnerable versions and indicators of compromise, from a dated data file
 * (playbooks/data/advisories.yaml): which advisories the install's version is affected by, and
 * which installed skills match a known-malicious name, string or hash. Pure reads, bounded.
 */

const Version = z.union([z.string(), z.number()]).transform(String)
const Indicator = z.object({value: z.union([z.string(), z.number()]).transform(String), why: z.string()}).strict()

const AdvisoryFile = z
  .object({
    updated: z.union([z.string(), z.date()]).transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d)),
    advisories: z.array(
      z
        .object({
          ids: z.array(z.string()).min(1),
          fixed: Version,
          title: z.string(),
          exposed: z.string(),
          lookFor: z.string(),
        })
        .strict(),
    ),
    indicators: z
      .object({
        updated: z
          .union([z.string(), z.date()])
          .transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d)),
        skillNames: z.array(Indicator).default([]),
        strings: z.array(Indicator).default([]),
        sha256: z.array(Indicator).default([]),
      })
      .strict(),
  })
  .strict()
export type AdvisoryData = z.infer<typeof AdvisoryFile>
export type Advisory = AdvisoryData['advisories'][number]

export function loadAdvisories(file: string): AdvisoryData {
  try {
    return AdvisoryFile.parse(parseYaml(readFileSync(file, 'utf8')))
  } catch (err) {
    throw new IrError(
      `${file} is not a valid advisory list: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      ExitCode.Failure,
      ['Restore it from the ir package (playbooks/data/advisories.yaml).'],
      'ADVISORIES_INVALID',
    )
  }
}

/** OpenClaw's calendar versions (2026.3.12, 2026.1.24-3, v2026.9.6): numeric parts; a suffixed build sorts first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(.*)$/.exec(v.trim())
    return m ? {parts: [Number(m[1]), Number(m[2]), Number(m[3])], suffix: m[4] !== ''} : undefined
  }
  const x = parse(a)
  const y = parse(b)
  if (!x || !y) return Number.NaN
  for (let i = 0; i < 3; i++) if (x.parts[i] !== y.parts[i]) return x.parts[i]! - y.parts[i]!
  return x.suffix === y.suffix ? 0 : x.suffix ? -1 : 1
}

export interface AdvisoryMatch {
  ids: string[]
  fixed: string
  title: string
  exposed: string
  lookFor: string
}

/** Advisories the version is affected by (older than the fixed release); none for an unreadable version. */
export function affectingAdvisories(version: string | undefined, data: AdvisoryData): AdvisoryMatch[] {
  if (!version) return []
  return data.advisories.filter((a) => compareVersions(version, a.fixed) < 0)
}

export interface IndicatorHit {
  skill: string
  dir: string
  /** skill name, string or sha256. */
  kind: 'skill name' | 'string' | 'sha256'
  value: string
  why: string
}

const MAX_SKILL_MD = 256 * 1024

/** Skill directories of the install: <stateDir>/skills, each workspace's skills/, skills.load.extraDirs. */
export function skillDirs(stateDir: string, config: JsonObject | undefined): string[] {
  const roots = new Set<string>([path.join(stateDir, 'skills')])
  const workspaces = [str(getPath(config, ['agents', 'defaults', 'workspace']))]
  if (config) for (const a of agentEntries(config)) workspaces.push(str(getPath(a.value, ['workspace'])))
  for (const name of safeList(stateDir)) if (/^workspace(-|$)/.test(name)) workspaces.push(path.join(stateDir, name))
  for (const w of workspaces) if (w) roots.add(path.join(w, 'skills'))
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

/** Installed skills that match a known-malicious name, a string in their SKILL.md, or its SHA-256. */
export function indicatorHits(dirs: string[], data: AdvisoryData): IndicatorHit[] {
  const ind = data.indicators
  const hits: IndicatorHit[] = []
  for (const dir of dirs) {
    const md = readBounded(path.join(dir, 'SKILL.md'))
    const name = (md && /^name:\s*["']?([^"'\n]+)/m.exec(md.toString('utf8'))?.[1]?.trim()) || path.basename(dir)
    const skill = path.basename(dir)
    for (const n of ind.skillNames)
      if ([skill, name].some((s) => s.toLowerCase() === n.value.toLowerCase()))
        hits.push({skill, dir, kind: 'skill name', value: n.value, why: n.why})
    if (!md) continue
    const text = md.toString('utf8').toLowerCase()
    for (const s of ind.strings)
      if (text.includes(s.value.toLowerCase())) hits.push({skill, dir, kind: 'string', value: s.value, why: s.why})
    const digest = createHash('sha256').update(md).digest('hex')
    for (const h of ind.sha256)
      if (h.value.toLowerCase() === digest) hits.push({skill, dir, kind: 'sha256', value: h.value, why: h.why})
  }
  return hits
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** The first MAX_SKILL_MD bytes of a file (memory bounded on any input). */
function readBounded(file: string): Buffer | undefined {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return undefined
  }
  try {
    const buf = Buffer.alloc(MAX_SKILL_MD)
    const n = readSync(fd, buf, 0, MAX_SKILL_MD, 0)
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}
