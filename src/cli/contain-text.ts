import type {ContainResult, ContainUndoResult} from '../contain.js'

const WIDTH = 9
const SHOW_PLAN = new Set(['planned', 'declined', 'done', 'manual', 'failed'])

/** `ir contain`: one line per step, the plan (diff, process/service actions) under each changing step. */
export function containLines(r: ContainResult): string[] {
  const out = [`case ${r.case}  playbook ${r.playbook}`]
  for (const s of r.steps) {
    out.push(`${s.status.padEnd(WIDTH)} ${s.id.padEnd(12)} ${s.detail}`)
    if (s.plan && SHOW_PLAN.has(s.status)) for (const l of s.plan.lines) out.push(`            ${l}`)
  }
  if (r.needsConfirmation)
    out.push('Nothing was changed: no TTY to confirm. Re-run with --yes to apply, or --dry-run to see the plan.')
  else if (r.steps.some((s) => s.status === 'done')) {
    out.push(`verified: ${r.verified ? 'yes' : 'NO (see the failed steps above)'}`)
    out.push(`Undo: ir contain --undo --case ${r.case}`)
  }
  return out
}

/** `ir contain --undo`: each file and service, conflicts with their diff. */
export function undoLines(r: ContainUndoResult): string[] {
  const out = [`case ${r.case}  undo: ${r.detail}`]
  for (const f of r.files) {
    out.push(`${f.status.padEnd(WIDTH)} ${f.kind.padEnd(8)} ${f.path}  ${f.detail}`)
    for (const l of f.diff ?? []) out.push(`            ${l}`)
  }
  for (const s of r.services) {
    out.push(`${s.status.padEnd(WIDTH)} service  ${s.service}  ${s.detail}`)
    if (s.status === 'left disabled') for (const c of s.commands) out.push(`            ${c}`)
  }
  for (const pid of r.stoppedPids)
    out.push(
      `note      gateway pid ${pid} was stopped by this case; ir does not start it again — start it yourself when ready`,
    )
  if (r.needsConfirmation)
    out.push('Nothing was changed: no TTY to confirm. Re-run with --yes to apply, or --dry-run to see the plan.')
  return out
}
