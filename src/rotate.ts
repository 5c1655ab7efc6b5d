import path from 'node:path'

import {
  parseScopes,
  releaseSecretsOut,
  reserveSecretsOut,
  SecretVault,
  type RotateRun,
} from './actions/shared/rotate-run.js'
import {ExitCode, IrError} from './errors.js'
import {realHost} from './openclaw/locate.js'
import {locateTargetCli} from './openclaw/openclaw-cli.js'
import type {RunOutcome} from './playbook/engine.js'
import {runShippedPlaybook, type ShippedRunRequest} from './playbooks.js'

/** `ir rotate`: the rotate playbook with its run state, and the verdict over the whole run. Never prints. */

export interface RotateRequest extends Omit<ShippedRunRequest, 'playbook' | 'vars' | 'state'> {
  /** --only, as given (a comma list); default every scope. */
  only?: string
  secretsOut?: string
  allowUnverified?: boolean
}

export interface RotateResult extends RunOutcome {
  /** What the steps found, for the operator's screen (fingerprints, never values). */
  run: Pick<RotateRun, 'inventory' | 'checklist'>
  messages: string[]
  /** The inventory found nothing in scope: the command shows the result, then fails with exit 3. */
  nothingToRotate: boolean
  /** The scopes --only named (undefined: every scope). */
  only?: string[]
  /** Key path → new value, only when the operator asked to see them once (never under --json). */
  showOnce?: Record<string, string>
}

/** The error `ir rotate` ends with when there was nothing to rotate (after the result is shown). */
export function nothingToRotateError(r: RotateResult): IrError {
  return new IrError(
    `Nothing to rotate: ${r.messages.join(' ')}`,
    ExitCode.PreconditionFailed,
    [
      r.only
        ? `Nothing of --only ${r.only.join(',')} is set here: run \`ir rotate\` without --only to rotate what is.`
        : 'Run `ir contain` to require token auth on the gateway, then `ir rotate`.',
      `The case ${r.case} records the inventory.`,
    ],
    'NOTHING_TO_ROTATE',
  )
}

export async function rotate(req: RotateRequest): Promise<RotateResult> {
  const {only: onlyFlag, secretsOut: outFlag, allowUnverified, ...base} = req
  const only = onlyFlag === undefined ? undefined : parseScopes(onlyFlag)
  const out = outFlag ? reserveSecretsOut(path.resolve(outFlag), req.mayChange && !req.dryRun) : undefined
  const run: RotateRun = {vault: new SecretVault(), secretsOut: out}
  let outcome: RunOutcome
  try {
    // The target's own CLI (validates the edited config, stores a pasted key), found as contain finds it.
    const targetCli = await locateTargetCli(base.target, base.host ?? realHost())
    outcome = await runShippedPlaybook({
      ...base,
      playbook: 'rotate',
      vars: {only, allowUnverified},
      state: {rotate: run, targetCli},
    })
  } finally {
    releaseSecretsOut(out)
  }
  const verdict = rotationVerdict(outcome, run, {allowUnverified, dryRun: req.dryRun})
  return {
    ...outcome,
    verified: verdict.verified,
    exitCode: verdict.exitCode,
    messages: verdict.messages,
    nothingToRotate: verdict.nothingToRotate,
    ...(only ? {only} : {}),
    run: {inventory: run.inventory, checklist: run.checklist},
    ...(run.vault.showRequested ? {showOnce: run.vault.handover()} : {}),
  }
}

export interface RotationVerdict {
  /** Every rotated secret proven on the running gateway (and nothing left manual or failed). */
  verified: boolean
  exitCode: ExitCode
  /** The inventory found nothing to rotate. */
  nothingToRotate: boolean
  /** Notes for the operator (no values). */
  messages: string[]
}

/**
 * The run's exit code and `verified` from what the steps found: nothing to rotate → 3; the old
 * secret still accepted after (or without) a restart → 3, or 5 when the restart is a manual step;
 * a gateway that was down → 0 but not verified; otherwise the engine's code (5 partial, 3 proof
 * failed, 4 nothing confirmed).
 */
export function rotationVerdict(
  o: RunOutcome,
  run: RotateRun,
  opts: {allowUnverified?: boolean; dryRun?: boolean} = {},
): RotationVerdict {
  const step = (action: string) => o.steps.find((s) => s.action === action)
  const inv = step('rotate-inventory')
  const rot = step('rotate-secrets')
  const restart = step('rotate-restart')
  const messages: string[] = []
  const invData = run.inventory
  const nothingToRotate =
    invData?.secrets?.length === 0 || (rot?.status === 'noop' && !(rot.detail ?? '').includes('skipped'))
  if (inv?.status === 'failed') {
    return {
      verified: false,
      exitCode: ExitCode.PreconditionFailed,
      nothingToRotate: false,
      messages: [`Nothing was rotated: the inventory failed (${inv.detail}).`],
    }
  }
  if (opts.dryRun || o.needsConfirmation) return {verified: false, exitCode: o.exitCode, nothingToRotate, messages}
  if (nothingToRotate) {
    return {
      verified: false,
      exitCode: ExitCode.PreconditionFailed,
      nothingToRotate,
      messages: invData?.notes?.length ? invData.notes : ['no secret in scope is set on this install.'],
    }
  }
  let exitCode = o.exitCode
  const proveData = run.prove
  const restartData = run.restart
  const final = restartData?.restarted ? restartData : proveData
  if (proveData?.state === 'down')
    messages.push('NOT verified: the gateway was not running. "Verify on next start" is recorded in the case.')
  if (proveData?.restartNeeded) {
    if (restart?.status === 'manual') {
      messages.push(
        'The running gateway still accepts the old secret and ir cannot restart it: restart it yourself, then check ' +
          'again (exit 5).',
      )
      exitCode = ExitCode.Partial
    } else if (!restartData?.verified) {
      messages.push(
        `The running gateway still accepts the old secret${restart?.status === 'declined' ? ' (restart declined)' : restart?.status === 'done' || restart?.status === 'failed' ? ' even after a restart' : ''}.`,
      )
      exitCode = ExitCode.PreconditionFailed
    }
  }
  if (proveData?.unverified && proveData.state === 'up') {
    messages.push(
      opts.allowUnverified
        ? 'Not verified on the running gateway (allowed by --allow-unverified).'
        : 'Not verified on the running gateway: see the prove step.',
    )
  }
  const clean = !o.steps.some((s) => s.status === 'failed' || s.status === 'manual')
  const verified = Boolean(final?.verified) && clean
  if (verified) messages.push('Verified: the running gateway rejects the old secret(s) and accepts the new one(s).')
  return {verified, exitCode, nothingToRotate, messages}
}
