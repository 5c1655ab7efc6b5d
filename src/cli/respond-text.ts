import {checklistLines} from '../actions/rotate-checklist.js'
import {CONFIRMED_BY, PHASES, type PhaseResult, type RespondOpening, type RespondResult} from '../respond.js'
import {knownBadLines} from './status-text.js'

const MARK: Record<string, string> = {critical: 'CRIT', high: 'HIGH', medium: 'MED ', low: 'LOW '}

/** The opening screen: the install, its gateway, what is exposed, and the plan with what each phase changes. */
export function openingLines(o: RespondOpening): string[] {
  const out = [`ir respond — case ${o.case}${o.resumed ? '  (resuming: phases marked done are skipped)' : ''}`, '']
  const i = o.install
  if (i) {
    const v = i.version
    out.push(`install  ${i.stateDir}   config ${i.configPath}`)
    out.push(
      `version  ${v.running ?? v.installed ?? v.stateDb ?? v.config ?? 'unknown'}${v.running ? ' (running)' : ''}`,
    )
    const g = i.gateway
    out.push(
      `gateway  ${g.state === 'up' ? `UP  pid ${g.pid ?? '?'}  port ${g.port}${g.healthz ? '  healthz ok' : ''}` : `down (port ${g.port})`}${g.services.length ? `   service ${g.services.map((s) => s.name).join(', ')}` : ''}`,
    )
    const shown = i.exposure.filter((e) => e.severity !== 'info')
    const count = (s: string) => shown.filter((e) => e.severity === s).length
    out.push(
      `exposure ${shown.length ? `${count('critical')} critical, ${count('high')} high, ${count('medium')} medium, ${count('low')} low` : 'none found'}`,
    )
    for (const e of shown.slice(0, 6)) out.push(`  ${MARK[e.severity] ?? e.severity}  ${e.title}`)
    if (shown.length > 6) out.push(`  … ${shown.length - 6} more (ir status)`)
    out.push(...knownBadLines(i).map((l) => l.slice(2)))
  }
  if (o.others.length) out.push(`other installs (not touched): ${o.others.join(', ')}`)
  out.push('', 'The plan (each phase asked before it runs):')
  for (const [n, p] of o.phases.entries()) {
    out.push(`  ${n + 1}. ${p.title}${p.done ? '   [done in this case: skipped]' : ''}`)
    out.push(`     changes: ${p.changes}`)
  }
  out.push('')
  return out
}

/** The stderr line as a phase starts. */
export function phaseLine(index: number, title: string): string {
  return `[${index + 1}/${PHASES.length}] ${title}…\n`
}

const WIDTH = 9

/** The closing screen: what is now true per phase, where things are, and what is left to do by hand. */
export function respondLines(r: RespondResult): string[] {
  const out = [`case ${r.case}  ir respond${r.dryRun ? '  (dry run: nothing changed)' : ''}`]
  for (const p of r.phases) {
    const v =
      p.status === 'done'
        ? p.verified
          ? CONFIRMED_BY[p.id] === 'target'
            ? 'verified'
            : 're-read ok'
          : 'NOT verified'
        : ''
    out.push(
      `${p.status.padEnd(WIDTH)} ${p.id.padEnd(9)} ${v.padEnd(12)}${p.resumed ? ' (earlier run)' : ''}  ${p.detail}`,
    )
  }
  if (r.needsConfirmation) {
    out.push(
      'Nothing was changed: no TTY to confirm. Re-run with --yes to run every phase, or --dry-run to see the plan.',
    )
    return out
  }
  if (r.dryRun) return out
  out.push('', 'Where things are:')
  out.push(`  case      ${r.where.caseDir}`)
  if (r.where.volatile) out.push(`  volatile  ${r.where.volatile}`)
  if (r.bundle) out.push(`  bundle    ${r.bundle}${r.bundleSha256 ? `  sha256 ${r.bundleSha256}` : ''}`)
  if (r.where.audit) out.push(`  audit     ${r.where.audit}`)
  if (r.rotated.length)
    out.push(
      `  secrets   ${r.rotated.join(', ')}: new values in ${r.where.config}${r.where.secretsOut ? ` and ${r.where.secretsOut} (0600)` : ''}`,
    )
  if (r.findings.length) {
    out.push('', 'What the evidence shows (strongest findings; full report in the bundle, findings/report.md):')
    for (const f of r.findings) out.push(`  ${MARK[f.severity] ?? f.severity}  ${f.title}   [${f.ruleId}, ${f.file}]`)
  }
  out.push('', 'Left to do by hand:')
  out.push(...checklistLines(r.checklist).map((l) => `  ${l}`))
  // The rotate phase's checklist names each device; without it (rotate not run), the general step.
  if (!r.checklist.some((c) => c.category === 'device'))
    out.push(
      '[devices] review paired devices and nodes: openclaw devices list --json; openclaw devices remove <id>; ' +
        'openclaw nodes remove --node <id>',
    )
  out.push(
    `  [restart] when the incident is understood: ir recover --case ${r.case} (secure baseline, validated, started, probed)`,
  )
  if (r.containUndo) out.push(`  [undo] to put the pre-incident config back instead: ${r.containUndo}`)
  else if (r.undoUnavailable) out.push(`  [undo] not possible: ${r.undoUnavailable}`)
  if (r.bundle) out.push(`  [evidence] check the bundle anywhere: ir verify ${r.bundle}`)
  out.push('')
  out.push(
    r.interrupted
      ? `Interrupted. Resume with: ir respond --case ${r.case}`
      : `verified: ${r.verified ? `yes — ${whoConfirmed(r.phases)}` : 'NO (see the phases above)'}`,
  )
  return out
}

/** Which phases the target's OpenClaw confirmed, and which only ir's own re-read checked. */
function whoConfirmed(phases: PhaseResult[]): string {
  const by = (who: 'target' | 'ir') => phases.filter((p) => CONFIRMED_BY[p.id] === who).map((p) => p.id)
  const list = (ids: string[]) => (ids.length > 1 ? `${ids.slice(0, -1).join(', ')} and ${ids.at(-1)}` : ids.join(''))
  return `${list(by('target'))} confirmed by the target's OpenClaw; ${list(by('ir'))} checked by ir's own re-read (the recorded file, the sealed bundle)`
}
