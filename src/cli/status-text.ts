import {compareVersions} from '../openclaw/advisories.js'
import type {InstallStatus, StatusResult} from '../status.js'

const MARK: Record<string, string> = {critical: 'CRIT', high: 'HIGH', medium: 'MED ', low: 'LOW ', info: 'info'}

const NOT_OPENCLAW = 'not an OpenClaw state dir (no openclaw.json, agents/, credentials/ or state/)'

/** Why status found no install to report on (exit 3), or undefined when it found one. */
export function noInstallLine(r: StatusResult): string | undefined {
  if (r.installs.some((i) => i.isOpenClaw)) return undefined
  const first = r.installs[0]
  return first?.stateDirExists
    ? `${first.stateDir} is ${NOT_OPENCLAW}. Pass --state-dir or --profile (the folder that holds openclaw.json).`
    : `No OpenClaw state dir found (${first?.stateDir}). Pass --state-dir or --profile.`
}

/** One screen: per install, where it is, what it runs, whether it is up, and what is exposed. */
export function statusLines(r: StatusResult): string[] {
  const out: string[] = []
  for (const i of r.installs) {
    out.push(
      `${i.stateDir}${i.profile ? `  (profile ${i.profile})` : ''}${!i.stateDirExists ? '  — does not exist' : !i.isOpenClaw ? `  — ${NOT_OPENCLAW}` : ''}`,
    )
    const cfg = i.config.ok ? i.configPath : `${i.configPath}  — ${i.config.error}`
    out.push(`  config   ${cfg}`)
    const v = i.version
    out.push(
      `  era      ${i.era.era}${i.era.agents.length ? ` (${i.era.agents.length} agent${i.era.agents.length > 1 ? 's' : ''})` : ''}   version ${v.running ?? v.installed ?? v.stateDb ?? v.config ?? 'unknown'}${v.running ? ' (running)' : ''}`,
    )
    const g = i.gateway
    const up =
      g.state === 'up'
        ? `UP   pid ${g.pid ?? '?'}  port ${g.port}  healthz ${g.healthz ? 'ok' : 'no answer'}`
        : `down (port ${g.port})`
    out.push(`  gateway  ${up}`)
    if (i.cli) out.push(`  cli      openclaw ${i.cli.version ?? '(version unknown)'} (${i.cli.source}: ${i.cli.from})`)
    for (const s of g.services) {
      const state = [
        s.active === undefined ? undefined : s.active ? 'active' : 'inactive',
        s.enabled === undefined ? undefined : s.enabled ? 'enabled' : 'disabled',
      ]
        .filter(Boolean)
        .join(', ')
      out.push(`  service  ${s.kind} ${s.name}${state ? ` (${state})` : ''}${s.embedsToken ? '  embeds a token' : ''}`)
    }
    for (const l of g.staleLocks) out.push(`  stale    ${l.path} (pid ${l.pid ?? '?'}: ${l.reason})`)
    const shown = i.exposure.filter((e) => e.severity !== 'info')
    out.push(shown.length ? '  exposure' : '  exposure none found')
    for (const e of shown) out.push(`    ${MARK[e.severity]}  ${e.title}   [${e.where}]`)
    out.push(...knownBadLines(i))
    out.push('')
  }
  if (r.exposureUnknown) out.push('Exposure UNKNOWN: a config cannot be read; treat that gateway as open.')
  if (r.worst === 'critical' || r.worst === 'high')
    out.push('Next: `ir collect` to preserve evidence, then `ir contain` to close these surfaces.')
  return out
}

/** "this version is affected by …; assume … was exposed; upgrade to ≥ …", and what the skill indicator check found. */
export function knownBadLines(i: InstallStatus): string[] {
  const out: string[] = []
  const a = i.advisories
  if (a.affected.length) {
    const newest = a.affected.map((x) => x.fixed).reduce((m, f) => (compareVersions(f, m) > 0 ? f : m))
    out.push(
      `  advisory ${a.version} (${a.source}) is affected by ${a.affected.length} known advisor${a.affected.length > 1 ? 'ies' : 'y'}; upgrade to >= ${newest}  (list of ${a.updated})`,
    )
    for (const x of a.affected) {
      out.push(`    ${x.ids.join(' / ')} (fixed in ${x.fixed}): ${x.title}`)
      out.push(`      assume exposed: ${x.exposed}; look for: ${x.lookFor}`)
    }
  }
  const c = i.indicatorCheck
  if (c.skills)
    out.push(
      `  skills   ${c.skills} checked against the indicators of ${c.updated} (${c.files} file(s)${c.skipped ? `, ${c.skipped} not read: over the bounds` : ''}): ${i.indicators.length ? `${i.indicators.length} match(es)` : 'no match'}`,
    )
  for (const h of i.indicators)
    out.push(
      `  IOC      skill ${h.skill} matches ${h.kind} "${h.value}" (${h.why})   [${h.file ? `${h.dir}/${h.file}` : h.dir}]`,
    )
  return out
}
