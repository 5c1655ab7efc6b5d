import {statSync} from 'node:fs'
import path from 'node:path'

import type {CollectRun} from './actions/collect-session.js'
import {irHome} from './case/case-store.js'
import {loadRules, requireLoaded} from './detect/rules.js'
import {parseRecipients} from './evidence/bundle-crypt.js'
import type {SessionInit} from './evidence/collector.js'
import type {CollectSummary, ProgressFn} from './evidence/collect-types.js'
import {ExitCode, IrError} from './errors.js'
import {type HostEnv, realHost, resolveInstall, type Target} from './openclaw/locate.js'
import type {Prompter} from './playbook/prompter.js'
import type {StepResult} from './playbook/action-types.js'
import {runShippedPlaybook} from './playbooks.js'
import {isInside, realOr} from './system/real-paths.js'
import type {ProcessRunner} from './system/process-runner.js'

/** `ir collect`: playbooks/collect.yaml on one install, and what the command prints. */

export interface CollectRequest {
  target: Target
  caseId?: string
  out?: string
  since?: string
  rules?: string[]
  format?: 'tar.gz' | 'zip'
  /** age public keys: the bundle is encrypted to them as it is written. */
  encryptTo?: string[]
  /** undefined: asked (default no); false/true: given on the command line. */
  includeSecrets?: boolean
  dryRun: boolean
  prompter: Prompter
  mayChange: boolean
  onProgress?: ProgressFn
  signal?: AbortSignal
  runner?: ProcessRunner
  host?: HostEnv
  irHome?: string
  now?: () => Date
  seams?: SessionInit['seams']
}

export interface CollectResult extends CollectSummary {
  /** The bundle was read back and matches its manifest and journal chain. */
  verified: boolean
  dryRun: boolean
  steps: StepResult[]
  exitCode: ExitCode
}

export function parseSince(s: string | undefined): Date | undefined {
  if (s === undefined) return undefined
  const d = new Date(s)
  if (!/^\d{4}-\d{2}-\d{2}/.test(s) || Number.isNaN(d.getTime())) {
    throw new IrError(
      `--since "${s}" is not an ISO date or time.`,
      ExitCode.Usage,
      ['Use e.g. --since 2026-11-20 or --since 2026-11-20T08:00:00Z.'],
      'USAGE',
    )
  }
  return d
}

/** The flags a collect run takes, as `checkCollectFlags` reads them. */
export type CollectFlags = Pick<CollectRequest, 'target' | 'out' | 'since' | 'rules' | 'encryptTo' | 'irHome' | 'host'>

/**
 * What collect refuses before any work (exit 2, one line): a bad --since, an --out that is a file or
 * inside the state dir (or the case directory there), a --rules pack that does not load, a bad
 * --encrypt-to. `ir respond` runs it before its first phase, so nothing changes on a flag collect refuses.
 */
export async function checkCollectFlags(req: CollectFlags): Promise<{since?: Date; encryptTo: string[]}> {
  const since = parseSince(req.since)
  // collect never writes into the install it collects
  const install = resolveInstall(req.target, req.host ?? realHost())
  const state = realOr(install.stateDir)
  if (req.out !== undefined) outMustBeADirectory(req.out)
  for (const [what, dir] of [
    ['--out', req.out],
    ['the case directory ($IR_HOME)', req.irHome ?? irHome(req.host ?? realHost())],
  ] as const) {
    if (dir && install.stateDirExists && isInside(realOr(path.resolve(dir)), state)) {
      throw new IrError(
        `${what} (${dir}) is inside the state dir ${install.stateDir}: collect never writes into the install it collects.`,
        ExitCode.Usage,
        ['Pick a directory outside the state dir (e.g. --out /mnt/evidence).'],
        'OUT_INSIDE_STATE',
      )
    }
  }
  if (req.rules?.length) await rulesMustLoad(req.rules)
  return {since, encryptTo: parseRecipients(req.encryptTo ?? [])}
}

export async function collect(req: CollectRequest): Promise<CollectResult> {
  const {since, encryptTo} = await checkCollectFlags(req)
  const run: CollectRun = {onProgress: req.onProgress, signal: req.signal, seams: req.seams}
  const vars: Record<string, unknown> = {
    out: req.out,
    since: since?.toISOString(),
    rules: req.rules ?? [],
    format: req.format ?? 'tar.gz',
    encryptTo,
  }
  if (req.includeSecrets !== undefined) vars.includeSecrets = req.includeSecrets
  // collect changes nothing in the install: its steps run without --yes (only the bundle is written)
  const outcome = await runShippedPlaybook({
    playbook: 'collect',
    target: req.target,
    caseId: req.caseId,
    vars,
    state: {collect: run},
    dryRun: req.dryRun,
    prompter: req.prompter,
    mayChange: req.mayChange,
    runner: req.runner,
    host: req.host,
    irHome: req.irHome,
    now: req.now,
  })
  const base = {dryRun: req.dryRun, steps: outcome.steps}
  if (req.dryRun) {
    return {
      ...base,
      case: outcome.case,
      bundle: '',
      bundleSha256: '',
      files: 0,
      findings: [],
      skipped: [],
      verified: false,
      exitCode: ExitCode.Ok,
    }
  }
  const summary = run.summary
  if (!summary) {
    const failed = outcome.steps.find((s) => s.status === 'failed')
    const resume = `Re-run with --case ${outcome.case} to resume: sources already copied are not read again.`
    if (req.signal?.aborted)
      throw new IrError(
        `Interrupted: case ${outcome.case} is consistent up to the last copied source; no bundle was written.`,
        ExitCode.Aborted,
        [resume],
        'INTERRUPTED',
      )
    const err = run.error
    if (err instanceof IrError)
      throw new IrError(
        err.message,
        err.exitCode,
        [...err.suggestions.filter((s) => !s.includes('same --case')), resume],
        err.code,
      )
    throw new IrError(
      `Collection failed at step ${failed?.id ?? '?'}: ${failed?.detail ?? 'unknown error'}.`,
      ExitCode.Failure,
      [resume],
      'COLLECT_FAILED',
    )
  }
  const bundleStep = outcome.steps.find((s) => s.id === 'bundle')
  const verified = bundleStep?.verified === true
  const itemFailures = summary.skipped.some((s) => s.reason.startsWith('failed:'))
  let exitCode = outcome.exitCode
  if (!verified) exitCode = ExitCode.PreconditionFailed
  else if (exitCode === ExitCode.Ok && itemFailures) exitCode = ExitCode.Partial
  return {...base, ...summary, verified, exitCode}
}

/** `--out` names a directory (made if missing), never a file: said before any work. */
function outMustBeADirectory(out: string): void {
  let st
  try {
    st = statSync(out)
  } catch {
    return
  }
  if (!st.isDirectory())
    throw new IrError(
      `--out ${out} is a file: it names the directory the bundle and its .sha256 are written into.`,
      ExitCode.Usage,
      [`Pass a directory, e.g. --out ${path.dirname(path.resolve(out))}.`],
      'OUT_NOT_A_DIRECTORY',
    )
}

/** An extra rule pack that does not load is a usage error naming the file and the rule, not a silent skip. */
async function rulesMustLoad(paths: string[]): Promise<void> {
  requireLoaded(await loadRules(paths))
}
