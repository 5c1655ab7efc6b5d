import {ExitCode, errorMessage} from '../errors.js'
import {SECRET_KEY_NAME} from '../system/secret-vocabulary.js'
import type {Playbook, PlaybookStep} from './playbook-schema.js'
import type {ActionContext, ActionDefinition, ActionRegistry, StepResult} from './action-types.js'

/**
 * plan → (ask, confirm) → apply → verify, step by step, every decision journaled. Never prints.
 * Without anyone to confirm (no TTY, no --yes) changing steps are only planned.
 */

export interface RunOutcome {
  case: string
  playbook: string
  steps: StepResult[]
  /** Every applied step verified (and nothing failed). */
  verified: boolean
  exitCode: ExitCode
  /** Changing steps were only planned because nobody could confirm them. */
  needsConfirmation: boolean
}

export interface EngineOptions {
  /** false: no TTY and no --yes: plan everything, change nothing. */
  mayChange: boolean
  /** The actions a step may name (the shipped registry is src/actions/registry.ts; the engine imports none). */
  actions: ActionRegistry
}

export async function runPlaybook(pb: Playbook, ctx: ActionContext, opts: EngineOptions): Promise<RunOutcome> {
  const steps: StepResult[] = []
  const journal = (r: StepResult, step: PlaybookStep) => {
    ctx.case.journal.append({
      playbook: pb.id,
      step: step.id,
      action: step.action,
      status: r.status,
      detail: r.detail,
      files: r.files,
      fingerprints: r.fingerprints,
      data: r.plan
        ? {plan: r.plan, verified: r.verified}
        : r.verified === undefined
          ? undefined
          : {verified: r.verified},
    })
  }
  ctx.case.journal.append({
    playbook: pb.id,
    status: 'start',
    detail: ctx.dryRun ? 'dry run' : opts.mayChange ? 'run' : 'plan only (no TTY, no --yes)',
    data: {stateDir: ctx.install.stateDir, configPath: ctx.install.configPath, vars: publicVars(ctx.vars)},
  })
  let stopped = false
  let needsConfirmation = false
  for (const step of pb.steps) {
    const action = opts.actions[step.action] as ActionDefinition<unknown>
    const base = {id: step.id, action: step.action}
    if (stopped) {
      steps.push({...base, status: 'not-run', detail: 'an earlier step failed'})
      continue
    }
    if (step.when && !whenHolds(step.when, ctx.vars)) {
      const r: StepResult = {
        ...base,
        status: 'skipped',
        detail: `skipped: ${step.when.startsWith('!') ? step.when.slice(1) : `not ${step.when}`}`,
      }
      steps.push(r)
      ctx.results.set(step.id, r)
      journal(r, step)
      continue
    }
    const result = await runStep(step, action, ctx, opts)
    if (result.status === 'planned' && action.mutates && !ctx.dryRun) needsConfirmation = true
    steps.push(result)
    ctx.results.set(step.id, result)
    journal(result, step)
    if (result.status === 'failed' && step.onError === 'stop') stopped = true
  }
  const exitCode = outcomeCode(steps, ctx.dryRun, needsConfirmation)
  const verified =
    !ctx.dryRun && !needsConfirmation && steps.every((s) => s.verified !== false && s.status !== 'failed')
  // The use case may still change the verdict; the exit code the process returns is the case's last entry.
  ctx.case.journal.append({playbook: pb.id, status: 'end', detail: 'steps finished', data: {stepsVerified: verified}})
  return {case: ctx.case.id, playbook: pb.id, steps, verified, exitCode, needsConfirmation}
}

async function runStep(
  step: PlaybookStep,
  action: ActionDefinition<unknown>,
  ctx: ActionContext,
  opts: EngineOptions,
): Promise<StepResult> {
  const base = {id: step.id, action: step.action}
  try {
    if (step.ask && !(step.ask.var in ctx.vars)) {
      const a = step.ask
      ctx.vars[a.var] =
        typeof a.default === 'boolean'
          ? await ctx.prompter.confirm(a.message, a.default)
          : a.choices
            ? await ctx.prompter.select(a.message, a.choices, a.default)
            : await ctx.prompter.input(a.message, {default: a.default})
    }
    const params = action.params.parse(step.with ?? {})
    const plan = await action.plan(ctx, params)
    const planView = {summary: plan.summary, lines: plan.lines}
    if (plan.noop) return {...base, status: 'noop', detail: plan.summary, plan: planView}
    if (ctx.dryRun || (action.mutates && !opts.mayChange))
      return {...base, status: 'planned', detail: plan.summary, plan: planView}
    if (action.mutates && ctx.prompter.interactive) {
      const question = step.confirm ?? plan.question ?? `${step.title}?`
      if (!(await ctx.prompter.confirm(question, true)))
        return {...base, status: 'declined', detail: `declined: ${plan.summary}`, plan: planView}
    }
    const applied = await action.apply(ctx, params, plan)
    const trail = {files: applied.files, fingerprints: applied.fingerprints}
    if (applied.status === 'manual')
      return {...base, ...trail, status: 'manual', detail: applied.detail, plan: planView, data: applied.data}
    const verdict = action.verify ? await action.verify(ctx, params, plan, applied) : undefined
    return {
      ...base,
      ...trail,
      status: verdict && !verdict.ok ? 'failed' : 'done',
      detail: verdict
        ? `${applied.detail}; ${verdict.ok ? 'verified' : 'NOT verified'}: ${verdict.detail}`
        : applied.detail,
      plan: planView,
      verified: verdict?.ok,
      data: applied.data,
    }
  } catch (err) {
    return {...base, status: 'failed', detail: errorMessage(err)}
  }
}

function whenHolds(when: string, vars: Record<string, unknown>): boolean {
  return when.startsWith('!') ? !vars[when.slice(1)] : Boolean(vars[when])
}

function outcomeCode(steps: StepResult[], dryRun: boolean, needsConfirmation: boolean): ExitCode {
  // A plan that could not be made is a wrong state the real run would hit too (a config that does not parse).
  if (dryRun) return steps.some((s) => s.status === 'failed') ? ExitCode.PreconditionFailed : ExitCode.Ok
  if (needsConfirmation) return ExitCode.Aborted
  const failed = steps.filter((s) => s.status === 'failed')
  const verificationFailed = failed.some((s) => s.verified === false)
  if (verificationFailed && failed.length === 1 && !steps.some((s) => s.status === 'manual'))
    return ExitCode.PreconditionFailed
  if (failed.length || steps.some((s) => s.status === 'manual' || s.status === 'not-run')) return ExitCode.Partial
  if (steps.some((s) => s.status === 'declined') && !steps.some((s) => s.status === 'done')) return ExitCode.Aborted
  return ExitCode.Ok
}

/** Run variables safe for the journal: no value of a key that looks secret. */
function publicVars(vars: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => !SECRET_KEY_NAME.test(k)))
}
