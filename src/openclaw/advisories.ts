import {readFileSync} from 'node:fs'
import path from 'node:path'

import {parse as parseYaml} from 'yaml'
import {z} from 'zod'

import {ExitCode, IrError} from '../errors.js'

/**
 * Known-vulnerable versions, from a dated data file (playbooks/data/advisories.yaml): which
 * advisories the install's version is affected by. (Indicators in skills: indicators.ts.)
 */

const Version = z.union([z.string(), z.number()]).transform(String)
/** A YAML date (parsed as a Date) or a string, as YYYY-MM-DD. */
export const Day = z
  .union([z.string(), z.date()])
  .transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d))

const AdvisoryFile = z
  .object({
    updated: Day,
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
  })
  .strict()
export type AdvisoryData = z.infer<typeof AdvisoryFile>
export type Advisory = AdvisoryData['advisories'][number]

export function loadAdvisories(file: string): AdvisoryData {
  return loadDataFile(file, AdvisoryFile, {what: 'advisory list', code: 'ADVISORIES_INVALID'})
}

/** A bundled YAML data file checked against its schema; a broken one names itself and the way back. */
export function loadDataFile<S extends z.ZodType>(
  file: string,
  schema: S,
  about: {what: string; code: string},
): z.output<S> {
  try {
    return schema.parse(parseYaml(readFileSync(file, 'utf8')))
  } catch (err) {
    throw new IrError(
      `${file} is not a valid ${about.what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      ExitCode.Failure,
      [`Restore it from the ir package (playbooks/data/${path.basename(file)}).`],
      about.code,
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
