import {
  containUndo,
  shapeOutcome,
  type ContainResult,
  type ContainUndoRequest,
  type ContainUndoResult,
} from './contain.js'
import {ExitCode} from './errors.js'
import {realHost} from './openclaw/locate.js'
import {locateTargetCli} from './openclaw/openclaw-cli.js'
import {runShippedPlaybook, type ShippedRunRequest} from './playbooks.js'

/**
 * `ir recover`: playbooks/recover.yaml (secure baseline, modes, OpenClaw's audit, start and probe),
 * and its undo (the case's backups, as for contain). Never prints.
 */

export interface RecoverRequest extends Omit<ShippedRunRequest, 'playbook' | 'vars'> {
  /** DM policy of the baseline: pairing (default) or allowlist. */
  dmPolicy?: string
}

/** The --json result: as contain (DESIGN.md), plus why it is not verified. */
export interface RecoverResult extends ContainResult {
  notes: string[]
  /** Every other step is done and confirmed; only the manual start is left: what to do next. */
  startLeft?: string
}

export async function recover({dmPolicy, ...req}: RecoverRequest): Promise<RecoverResult> {
  // The target's own CLI validates and audits (as contain finds it: gateway process, service, prefix, PATH).
  const host = req.host ?? realHost()
  const openclawCli = await locateTargetCli(req.target, host)
  const outcome = await runShippedPlaybook({
    ...req,
    playbook: 'recover',
    vars: {dmPolicy: dmPolicy ?? 'pairing'},
    state: {targetCli: openclawCli},
  })
  const r = shapeOutcome(outcome)
  const notes: string[] = []
  const audit = outcome.steps.find((s) => s.action === 'security-audit')
  // Only OpenClaw's own report counts (the audit step fails without it, with the reason).
  const auditRan = (audit?.data as {json?: unknown} | undefined)?.json !== undefined
  if (audit && !auditRan) notes.push(`not verified: OpenClaw's own audit gave no report (${audit.detail})`)
  const start = outcome.steps.find((s) => s.action === 'recover-start')
  const othersSettled = outcome.steps.every(
    (s) => s === start || (s.status === 'done' && s.verified) || s.status === 'noop' || s.status === 'skipped',
  )
  const startLeft = start?.status === 'manual' && othersSettled ? start.detail : undefined
  if (start?.status === 'manual' && !startLeft) notes.push(`not verified: the gateway is not started (${start.detail})`)
  if (start?.status === 'not-run')
    notes.push(
      `the gateway was not started: ${auditRan ? "OpenClaw's audit still finds critical exposure" : "OpenClaw's audit did not confirm the baseline"}`,
    )
  const settled = !req.dryRun && !outcome.needsConfirmation
  const verified = settled && outcome.verified && auditRan && start?.status === 'done'
  // The contract: what the target could not confirm is exit 5, even when every step ended well.
  const exitCode = settled && !verified && (!auditRan || r.exitCode === ExitCode.Ok) ? ExitCode.Partial : r.exitCode
  return {...r, verified, exitCode, notes, ...(startLeft ? {startLeft} : {})}
}

export type RecoverUndoRequest = ContainUndoRequest
export type RecoverUndoResult = ContainUndoResult

/** Every file and mode the case changed, put back (all or nothing), exactly as `ir contain --undo`. */
export function recoverUndo(req: RecoverUndoRequest): Promise<RecoverUndoResult> {
  return containUndo(req)
}
