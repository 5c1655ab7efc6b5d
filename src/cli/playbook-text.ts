import type {RunOutcome} from '../playbook/engine.js'

const WIDTH = 9

/** Step lines for a playbook run; plans (diffs, process actions) indented under their step. */
export function outcomeLines(o: RunOutcome, showPlans: boolean): string[] {
  const out = [`case ${o.case}  playbook ${o.playbook}`]
  for (const s of o.steps) {
    out.push(`${s.status.padEnd(WIDTH)} ${s.id.padEnd(18)} ${s.detail}`)
    if (showPlans && s.plan && (s.status === 'planned' || s.status === 'declined'))
      for (const l of s.plan.lines) out.push(`            ${l}`)
  }
  if (o.needsConfirmation)
    out.push('Nothing was changed: no TTY to confirm. Re-run with --yes to apply, or --dry-run to see the plan.')
  return out
}
