import {readFileSync, statSync} from 'node:fs'

import {readServiceChanges} from './actions/stop-gateway.js'
import {openCase, readChanges, undoChanges, type Case, type UndoOutcome} from './case/case-store.js'
import {sha256 as sha256Hex} from './case/journal.js'
import {ExitCode, IrError} from './errors.js'
import {maskedDiff} from './openclaw/config-edit.js'
import {realHost} from './openclaw/locate.js'
import {locateTargetCli, UNCONFIRMED} from './openclaw/openclaw-cli.js'
import {commandLine, restoreCommands, restoreService} from './openclaw/service-control.js'
import type {ServiceDefinition} from './openclaw/services.js'
import type {RunOutcome} from './playbook/engine.js'
import type {Prompter} from './playbook/prompter.js'
import {runShippedPlaybook, type ShippedRunRequest} from './playbooks.js'
import type {StepStatus} from './playbook/action-types.js'
import {realRunner, type ProcessRunner} from './system/process-runner.js'

/** `ir contain` and `ir contain --undo`: the playbook run, and the way back. Never prints. */

export interface ContainStep {
  id: string
  action: string
  status: StepStatus
  detail: string
  plan?: {summary: string; lines: string[]}
}

/** The --json result (DESIGN.md: case, steps[{id, action, status, detail}], verified). */
export interface ContainResult {
  case: string
  playbook: string
  steps: ContainStep[]
  verified: boolean
  exitCode: ExitCode
  needsConfirmation: boolean
}

export interface ContainRequest extends Omit<ShippedRunRequest, 'playbook' | 'vars'> {
  dmPolicy?: string
  keepRunning?: boolean
  /** Start of the incident window (ISO time; default 14 days before now): persistence changed since is listed. */
  since?: string
}

export async function contain({dmPolicy, keepRunning, since, ...req}: ContainRequest): Promise<ContainResult> {
  const sinceMs = incidentStart(since, (req.now ?? (() => new Date()))())
  const host = req.host ?? realHost()
  // Before the stop step: the running gateway is the best witness of which openclaw runs this install.
  const openclawCli = await locateTargetCli(req.target, host)
  const outcome = await runShippedPlaybook({
    ...req,
    playbook: 'contain',
    vars: {dmPolicy: dmPolicy ?? 'disabled', keepRunning: Boolean(keepRunning), sinceMs},
    state: {targetCli: openclawCli},
  })
  const result = shapeOutcome(outcome)
  // What OpenClaw could not confirm is partial, never a precondition the operator could fix by re-running.
  if (!result.verified && result.exitCode === ExitCode.PreconditionFailed && result.steps.some(unconfirmed))
    result.exitCode = ExitCode.Partial
  return result
}

const DEFAULT_WINDOW_MS = 14 * 24 * 3600 * 1000

function incidentStart(since: string | undefined, now: Date): number {
  if (since === undefined) return now.getTime() - DEFAULT_WINDOW_MS
  const ms = Date.parse(since)
  if (Number.isNaN(ms))
    throw new IrError(
      `--since "${since}" is not an ISO time.`,
      ExitCode.Usage,
      ['Use e.g. --since 2026-11-20.'],
      'USAGE',
    )
  return ms
}

const unconfirmed = (s: ContainStep) => s.status === 'failed' && s.detail.includes(UNCONFIRMED)

/** Step data (full status dumps, internal plans) stays in the case; the result carries what the operator reads. */
export function shapeOutcome(o: RunOutcome): ContainResult {
  return {
    case: o.case,
    playbook: o.playbook,
    verified: o.verified,
    exitCode: o.exitCode,
    needsConfirmation: o.needsConfirmation,
    steps: o.steps.map((s) => ({
      id: s.id,
      action: s.action,
      status: s.status,
      detail: s.detail,
      ...(s.plan ? {plan: s.plan} : {}),
    })),
  }
}

// ------------------------------------------------------------------------------------------------

export interface UndoFile extends UndoOutcome {
  /** For a conflict: what undo would change (current -> original), secrets masked. */
  diff?: string[]
}

export interface UndoService {
  service: string
  kind: ServiceDefinition['kind']
  status: 'left disabled' | 're-enabled' | 're-enabled and started' | 'failed'
  detail: string
  /** The commands that bring it back (printed when they were not run). */
  commands: string[]
}

export interface ContainUndoResult {
  case: string
  undo: true
  files: UndoFile[]
  services: UndoService[]
  /** Gateway processes this case stopped; ir never starts them again. */
  stoppedPids: number[]
  verified: boolean
  exitCode: ExitCode
  needsConfirmation: boolean
  detail: string
}

export interface ContainUndoRequest extends Omit<ShippedRunRequest, 'playbook' | 'vars' | 'target' | 'caseId'> {
  caseId: string
}

/**
 * Put back every file the case changed (bytes and mode) — all or nothing: when any of them no
 * longer holds what ir wrote, nothing is restored and the diff is shown. Services contain disabled
 * stay disabled and nothing is started unless the operator says so.
 */
export async function containUndo(req: ContainUndoRequest): Promise<ContainUndoResult> {
  const c = openCase(req.caseId, {home: req.irHome, now: req.now, mustExist: true})
  const runner = req.runner ?? realRunner
  const uid = (req.host ?? realHost()).uid
  const preview = undoChanges(c, {dryRun: true}).map((o) => withDiff(c, o))
  const base = {case: c.id, undo: true as const, stoppedPids: stoppedPids(c)}
  const conflicts = preview.filter((o) => o.status === 'conflict')
  if (conflicts.length) {
    c.journal.append({
      playbook: 'contain',
      step: 'undo',
      action: 'undo',
      status: 'refused',
      detail: `${conflicts.length} path(s) changed since ir wrote them: ${conflicts.map((o) => o.path).join(', ')}`,
    })
    return {
      ...base,
      files: preview,
      services: servicePlan(c, uid),
      verified: false,
      exitCode: ExitCode.PreconditionFailed,
      needsConfirmation: false,
      detail: `nothing restored: ${conflicts.length} path(s) changed since ir wrote them (diff below); resolve by hand, then re-run`,
    }
  }
  const todo = preview.filter((o) => o.status === 'would-restore')
  if (req.dryRun || !req.mayChange) {
    return {
      ...base,
      files: preview,
      services: servicePlan(c, uid),
      verified: false,
      exitCode: req.dryRun ? ExitCode.Ok : ExitCode.Aborted,
      needsConfirmation: !req.dryRun,
      detail: `would restore ${todo.length} change(s)`,
    }
  }
  if (
    todo.length &&
    req.prompter.interactive &&
    !(await req.prompter.confirm(`Restore ${todo.length} change(s) recorded in case ${c.id}?`, true))
  ) {
    return {
      ...base,
      files: preview,
      services: servicePlan(c, uid),
      verified: false,
      exitCode: ExitCode.Aborted,
      needsConfirmation: false,
      detail: 'declined',
    }
  }
  const files = undoChanges(c)
  c.journal.append({
    playbook: 'contain',
    step: 'undo',
    action: 'undo',
    status: 'restored',
    files: files
      .filter((f) => f.status === 'restored' && f.kind === 'content')
      .map((f) => ({path: f.path, sha256: hashOf(f.path), role: 'restored' as const})),
    detail: `${files.filter((f) => f.status === 'restored').length} restored, ${files.filter((f) => f.status === 'already').length} already original`,
  })
  const services = await serviceUndo(c, runner, uid, req.prompter)
  const after = undoChanges(c, {dryRun: true})
  // A vanished file was not restored either: only "already original" counts.
  const left = after.filter((o) => o.status !== 'already')
  const verified = left.length === 0
  return {
    ...base,
    files,
    services,
    verified,
    exitCode: verified ? ExitCode.Ok : ExitCode.PreconditionFailed,
    needsConfirmation: false,
    detail: `${files.filter((f) => f.status === 'restored').length} change(s) restored${verified ? ', re-read: original bytes, modes and owners' : `; NOT restored: ${left.map((o) => `${o.path} (${o.kind}: ${o.detail})`).join('; ')}`}`,
  }
}

function withDiff(c: Case, o: UndoOutcome): UndoFile {
  if (o.status !== 'conflict' || o.kind !== 'content') return o
  const first = readChanges(c).find((ch) => ch.path === o.path && ch.kind === 'content')
  try {
    const original = readFileSync(first?.backup ?? '', 'utf8')
    return {...o, diff: maskedDiff(o.path, readFileSync(o.path, 'utf8'), original)}
  } catch {
    return o
  }
}

/** Disabled services of this case, newest record per service. */
function disabledServices(c: Case): ServiceDefinition[] {
  const byName = new Map<string, ServiceDefinition>()
  // Only an intent (written before the disable) with no result after it: the run was killed mid-way.
  const onlyIntent = new Set<string>()
  for (const r of readServiceChanges(c)) {
    if (!r.service) continue
    const key = `${r.service.kind}:${r.service.name}`
    if (r.intent) {
      if (!byName.has(key)) onlyIntent.add(key)
      byName.set(key, r.service)
    } else if (r.results?.some((x) => x.what === 'disable' && x.ok)) {
      byName.set(key, r.service)
      onlyIntent.delete(key)
    } else if (onlyIntent.delete(key)) byName.delete(key)
  }
  return [...byName.values()]
}

function servicePlan(c: Case, uid: number): UndoService[] {
  return disabledServices(c).map((def) => ({
    service: def.name,
    kind: def.kind,
    status: 'left disabled',
    detail: 'contain disabled it; not re-enabled',
    commands: restoreCommands(def, uid, true).map(commandLine),
  }))
}

async function serviceUndo(c: Case, runner: ProcessRunner, uid: number, prompter: Prompter): Promise<UndoService[]> {
  const out: UndoService[] = []
  for (const def of disabledServices(c)) {
    const commands = restoreCommands(def, uid, true).map(commandLine)
    // Default no: bringing the gateway back is the operator's call, never a side effect of undo.
    const enable =
      prompter.interactive && (await prompter.confirm(`Re-enable ${def.name} (disabled by this case)?`, false))
    if (!enable) {
      out.push({
        service: def.name,
        kind: def.kind,
        status: 'left disabled',
        detail: 'not re-enabled (run the commands below when ready)',
        commands,
      })
      continue
    }
    const start = await prompter.confirm(`Start ${def.name} now?`, false)
    const r = await restoreService(def, runner, uid, start)
    c.journal.append({
      playbook: 'contain',
      step: 'undo',
      action: 'undo',
      status: r.ok ? 'service restored' : 'service restore failed',
      detail: r.commands.map((x) => x.detail).join('; '),
    })
    out.push({
      service: def.name,
      kind: def.kind,
      status: !r.ok ? 'failed' : start ? 're-enabled and started' : 're-enabled',
      detail: r.commands.map((x) => x.detail).join('; '),
      commands,
    })
  }
  return out
}

function stoppedPids(c: Case): number[] {
  return [...new Set(readServiceChanges(c).flatMap((r) => (r.stoppedPid ? [r.stoppedPid] : [])))]
}

function hashOf(file: string): string | undefined {
  try {
    statSync(file)
    return sha256Hex(readFileSync(file))
  } catch {
    return undefined
  }
}
