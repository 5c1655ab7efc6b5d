import type {z} from 'zod'

import type {Case} from '../case/case-store.js'
import type {JournalEntry} from '../case/journal.js'
import type {Install} from '../openclaw/locate.js'
import type {ProcessRunner} from '../system/process-runner.js'
import type {Prompter} from './prompter.js'

/**
 * What the steps of one run share besides plain variables: each action family adds its own slot by
 * declaration merging (src/actions/run-state.ts), so the engine knows no action and no cast is needed.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface RunState {}

/** What every action gets: the target, the case, and the effects it may use. */
export interface ActionContext {
  install: Install
  case: Case
  prompter: Prompter
  runner: ProcessRunner
  env: NodeJS.ProcessEnv
  now: () => Date
  /** Run variables (command flags, answers to `ask`): e.g. dmPolicy, keepRunning, only. Plain data, journaled. */
  vars: Record<string, unknown>
  /** Live objects the steps of one run share (never journaled); typed by the actions that own them. */
  state: RunState
  dryRun: boolean
  /** Results of earlier steps in this run, by step id (plans and details). */
  results: Map<string, StepResult>
}

export interface Plan {
  /** Nothing to change: the world already is as the step wants it. */
  noop: boolean
  /** One line: what the step would do. */
  summary: string
  /** Human detail: a diff, the process/service actions, one per line. */
  lines: string[]
  /** The question for an interactive confirm when the step has no `confirm` of its own. */
  question?: string
  /** Whatever apply() needs; the plan is the object that is executed. */
  data?: unknown
}

export type StepStatus = 'done' | 'noop' | 'planned' | 'skipped' | 'declined' | 'failed' | 'manual' | 'not-run'

export interface ApplyResult {
  detail: string
  /** Files the step read/wrote, with hashes: they go into the journal entry (never contents). */
  files?: JournalEntry['files']
  /** Fingerprints of secrets the step handled (short SHA-256 prefixes), for the journal. */
  fingerprints?: Record<string, string>
  /** 'manual': the operator must finish it (exit 5); default 'done'. */
  status?: 'done' | 'manual'
  data?: unknown
}

export interface VerifyResult {
  ok: boolean
  detail: string
}

export interface StepResult {
  files?: JournalEntry['files']
  fingerprints?: Record<string, string>
  id: string
  action: string
  status: StepStatus
  detail: string
  plan?: {summary: string; lines: string[]}
  verified?: boolean
  data?: unknown
}

export interface ActionDefinition<P = Record<string, unknown>> {
  name: string
  description: string
  /** zod schema of `with`: strict, so unknown parameters are load errors. */
  params: z.ZodType<P>
  /** Changes the world (dry-run only plans it; needs confirmation). */
  mutates: boolean
  plan(ctx: ActionContext, params: P): Promise<Plan>
  apply(ctx: ActionContext, params: P, plan: Plan): Promise<ApplyResult>
  verify?(ctx: ActionContext, params: P, plan: Plan, applied: ApplyResult): Promise<VerifyResult>
}

/** Playbook `action:` names → implementations; given to the loader and the engine by the caller. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each action has its own parameter type
export type ActionRegistry = Readonly<Record<string, ActionDefinition<any>>>
