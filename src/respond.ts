import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {releaseSecretsOut, reserveSecretsOut, type ChecklistItem} from './actions/shared/rotate-run.js'
import {openCase, undoChanges, type Case} from './case/case-store.js'
import {sha256} from './case/journal.js'
import {contain} from './contain.js'
import {ExitCode, IrError, errorMessage} from './errors.js'
import {checkCollectFlags, collect} from './collect.js'
import type {ProgressFn} from './evidence/collect-types.js'
import {PRE_STOP_FILE, volatileFacts, type GatewayFacts} from './evidence/volatile.js'
import {maskSecrets} from './openclaw/config-edit.js'
import {loadConfig, type JsonObject} from './openclaw/config.js'
import {checkInstallTarget, existingInstall} from './openclaw/install-check.js'
import {openclawHome, realHost, type HostEnv, type Install, type Target} from './openclaw/locate.js'
import {locateInstallCli} from './openclaw/openclaw-cli.js'
import type {Prompter} from './playbook/prompter.js'
import type {RunEffects} from './playbook/run.js'
import {runShippedPlaybook} from './playbooks.js'
import {rotate} from './rotate.js'
import {status, type InstallStatus} from './status.js'
import {realRunner} from './system/process-runner.js'
import type {Finding} from './detect/finding-types.js'

/**
 * `ir respond`: one incident run in OpenClaw's order — volatile evidence while the gateway still
 * runs, contain, rotate, collect, re-audit by the target's own OpenClaw — in one case. Each phase
 * is a use case of its own (contain, rotate, collect); this module orders them, asks before each
 * one, records each outcome in the case journal (so `--case` resumes after Ctrl-C, skipping what
 * is done) and gives the verdict. Never prints: the opening and progress go to callbacks.
 */

export const PHASES = ['volatile', 'contain', 'rotate', 'collect', 'audit'] as const
export type PhaseId = (typeof PHASES)[number]

export type PhaseStatus = 'done' | 'planned' | 'declined' | 'failed' | 'not-run'

/**
 * Who confirms a phase: the target's own OpenClaw (config validate, auth probes, its audit), or ir's
 * re-read of what it wrote itself (the volatile facts file, the sealed bundle).
 */
export const CONFIRMED_BY: Record<PhaseId, 'target' | 'ir'> = {
  volatile: 'ir',
  contain: 'target',
  rotate: 'target',
  collect: 'ir',
  audit: 'target',
}

/** One phase in the --json result (DESIGN.md: {id, status, verified, detail}). */
export interface PhaseResult {
  id: PhaseId
  status: PhaseStatus
  verified: boolean
  detail: string
  /** Done in an earlier run of this case, skipped now. */
  resumed?: boolean
  exitCode: ExitCode
}

export interface PlannedPhase {
  id: PhaseId
  title: string
  /** What the phase changes in the install (or "nothing"). */
  changes: string
  /** Already done in this case (resume). */
  done: boolean
}

/** The opening screen: what was found, and the plan. */
export interface RespondOpening {
  case: string
  resumed: boolean
  install: InstallStatus | undefined
  others: string[]
  phases: PlannedPhase[]
}

export interface RespondResult {
  case: string
  phases: PhaseResult[]
  /** The evidence bundle (archive path), when the collect phase sealed one. */
  bundle: string | undefined
  bundleSha256?: string
  verified: boolean
  exitCode: ExitCode
  /** Nothing ran: no TTY and no --yes. */
  needsConfirmation: boolean
  dryRun: boolean
  interrupted: boolean
  /** Where things are, for the closing screen. */
  where: {caseDir: string; volatile?: string; secretsOut?: string; config: string; audit?: string}
  /** The strongest findings of the collected evidence (what happened). */
  findings: Array<Pick<Finding, 'ruleId' | 'severity' | 'title'> & {file: string}>
  /** Credentials ir cannot rotate itself, from the rotate phase. */
  checklist: ChecklistItem[]
  /** Keys rotated (names only). */
  rotated: string[]
  /** The undo command, only when it can restore every change this case made. */
  containUndo?: string
  /** Why `ir contain --undo` cannot put the pre-incident config back (it restores all or nothing). */
  undoUnavailable?: string
}

export interface RespondRequest extends RunEffects {
  target: Target
  caseId?: string
  out?: string
  secretsOut?: string
  /** Recipients the bundle is encrypted to (as `ir collect --encrypt-to`). */
  encryptTo?: string[]
  dmPolicy?: string
  keepRunning?: boolean
  since?: string
  /** Ctrl-C: the current phase finishes its step, later phases do not start; the case resumes with --case. */
  signal?: AbortSignal
  /** Shown before anything is asked or changed. */
  onOpening?: (o: RespondOpening) => void
  /** A phase starts (for the stderr progress line). */
  onPhase?: (id: PhaseId, index: number, title: string) => void
  /** Progress of the collect phase (files, bytes, rate). */
  onProgress?: ProgressFn
  /** Test seams of the collect phase. */
  collectSeams?: Parameters<typeof collect>[0]['seams']
}

const TITLES: Record<PhaseId, string> = {
  volatile: 'volatile evidence while the gateway still runs',
  contain: 'contain: stop the gateway, lock down every inbound surface',
  rotate: 'rotate the gateway, remote and hooks secrets',
  collect: 'collect the full evidence bundle and the incident report',
  audit: "re-audit with the target's own OpenClaw",
}

/** Exit codes from best to worst (DESIGN.md): a declined phase is less bad than a failed proof or a partial run. */
const EXIT_RANK: ExitCode[] = [ExitCode.Ok, ExitCode.Aborted, ExitCode.PreconditionFailed, ExitCode.Partial]
export function worstExit(codes: ExitCode[]): ExitCode {
  const rank = (c: ExitCode) => (EXIT_RANK.includes(c) ? EXIT_RANK.indexOf(c) : EXIT_RANK.length)
  return codes.reduce<ExitCode>((w, c) => (rank(c) > rank(w) ? c : w), ExitCode.Ok)
}

export function planPhases(
  req: Pick<RespondRequest, 'keepRunning' | 'dmPolicy' | 'out' | 'secretsOut' | 'encryptTo'>,
): Omit<PlannedPhase, 'done'>[] {
  return [
    {
      id: 'volatile',
      title: TITLES.volatile,
      changes:
        'nothing: records the gateway process, its listening sockets and connections, health, services and exposure ' +
        'in the case',
    },
    {
      id: 'contain',
      title: TITLES.contain,
      changes: `${req.keepRunning ? 'keeps the gateway running (--keep-running)' : 'stops and disables the gateway (service, then the process)'}; config locked down (DMs ${req.dmPolicy ?? 'disabled'}, groups off, loopback, token auth) in one validated edit; modes 700/600; undo: ir contain --undo --case ID, until the rotate phase scrubs the backups that hold old secrets`,
    },
    {
      id: 'rotate',
      title: TITLES.rotate,
      changes: `new secrets written where OpenClaw reads them; new values ${req.secretsOut ? `to ${req.secretsOut} (0600)` : 'stay only there (no --secrets-out)'}`,
    },
    {
      id: 'collect',
      title: TITLES.collect,
      changes: `nothing in the install: a hashed, verified bundle in ${req.out ?? 'the case directory'}${req.encryptTo?.length ? `, encrypted to ${req.encryptTo.length} recipient(s)` : ''}`,
    },
    {id: 'audit', title: TITLES.audit, changes: 'nothing: openclaw security audit --json, saved in the case'},
  ]
}

/** Phases this case already completed (journal entries of earlier respond runs). */
export function completedPhases(c: Case): Map<PhaseId, {verified: boolean; detail: string}> {
  const done = new Map<PhaseId, {verified: boolean; detail: string}>()
  for (const e of c.journal.entries()) {
    if (e.playbook !== 'respond' || !e.step || !(PHASES as readonly string[]).includes(e.step)) continue
    const id = e.step as PhaseId
    if (e.status === 'done') done.set(id, {verified: e.data?.verified === true, detail: e.detail ?? ''})
    else done.delete(id)
  }
  return done
}

export async function respond(req: RespondRequest): Promise<RespondResult> {
  const host = req.host ?? realHost()
  const install = existingInstall(req.target, host)
  // Refused before anything is asked, recorded or changed: not an install, or a flag a later phase refuses.
  checkInstallTarget(install, host)
  await checkPhaseFlags(req, host)
  const c = openCase(req.caseId, {home: req.irHome, now: req.now})
  const earlier = completedPhases(c)
  // The target's own CLI, found while its gateway still runs (from the process), for the final audit.
  const openclawCli = (await locateInstallCli(install, host)) ?? null
  const st = await status(req.target, {host, runner: req.runner})
  const mine = st.installs.find((i) => path.resolve(i.stateDir) === path.resolve(install.stateDir))
  const opening: RespondOpening = {
    case: c.id,
    resumed: earlier.size > 0,
    install: mine,
    others: st.installs.filter((i) => i !== mine).map((i) => i.stateDir),
    phases: planPhases(req).map((p) => ({...p, done: earlier.has(p.id)})),
  }
  req.onOpening?.(opening)
  const result: RespondResult = {
    case: c.id,
    phases: [],
    bundle: undefined,
    verified: false,
    exitCode: ExitCode.Ok,
    needsConfirmation: false,
    dryRun: req.dryRun,
    interrupted: false,
    where: {caseDir: c.dir, config: install.configPath, secretsOut: req.secretsOut},
    findings: [],
    checklist: [],
    rotated: [],
  }
  const phaseList = (status: PhaseStatus, detail: string, code: ExitCode): PhaseResult[] =>
    PHASES.map((id) => ({id, status, verified: false, detail, exitCode: code}))
  if (!req.dryRun && !req.mayChange) {
    result.phases = phaseList('planned', 'not run: no TTY to confirm and no --yes', ExitCode.Aborted)
    return {...result, needsConfirmation: true, exitCode: ExitCode.Aborted}
  }
  const {prompter, interrupted} = interruptible(req.prompter, req.signal)
  if (!req.dryRun && prompter.interactive) {
    const go = await ask(prompter, `Start the incident run (case ${c.id})?`)
    if (go !== true) {
      c.journal.append({playbook: 'respond', status: go === 'interrupted' ? 'interrupted' : 'declined'})
      result.phases = phaseList(
        'not-run',
        go === 'interrupted' ? 'interrupted' : 'declined at the start',
        ExitCode.Aborted,
      )
      return {...result, interrupted: go === 'interrupted', exitCode: ExitCode.Aborted}
    }
  }
  c.journal.append({
    playbook: 'respond',
    status: 'start',
    detail: req.dryRun ? 'dry run' : earlier.size ? `resume (done: ${[...earlier.keys()].join(', ')})` : 'run',
    data: {stateDir: install.stateDir, configPath: install.configPath},
  })
  const sub = {
    target: req.target,
    caseId: c.id,
    dryRun: req.dryRun,
    prompter,
    mayChange: req.mayChange,
    runner: req.runner,
    host: req.host,
    irHome: req.irHome,
    now: req.now,
  }
  const runners: Record<PhaseId, () => Promise<Omit<PhaseResult, 'id'>>> = {
    volatile: async () => {
      if (req.dryRun) return planned('would record the gateway process, listeners, health and exposure')
      const {file, gateway: gw} = await recordVolatile(c, install, host, req, opening.others)
      result.where.volatile = file
      const conns = `${gw.connections.length}${gw.connectionsTruncated ? '+' : ''} connection(s)`
      return {
        status: 'done',
        verified: true,
        exitCode: ExitCode.Ok,
        detail: `gateway ${gw.state}${gw.pid ? ` pid ${gw.pid}` : ''}, ${gw.listening.length} listening socket(s), ${conns}; recorded ${path.basename(file)} (sha256 in the journal; re-read matches; bundled by the collect phase)`,
      }
    },
    contain: async () => {
      const r = await contain({...sub, dmPolicy: req.dmPolicy, keepRunning: req.keepRunning})
      return fromSteps(r, r.verified, r.exitCode)
    },
    rotate: async () => {
      const r = await rotate({...sub, secretsOut: req.secretsOut})
      result.checklist = r.run.checklist ?? []
      result.rotated = (r.run.inventory?.secrets ?? []).map((s) => s.key)
      const gatewayDown = r.messages.some((m) => m.includes('not running'))
      const detail = [
        ...r.messages,
        ...(gatewayDown ? ['proven when the gateway is back: `ir recover` starts it and probes the new token'] : []),
      ].join(' ')
      const base = fromSteps(r, r.verified, r.nothingToRotate ? ExitCode.PreconditionFailed : r.exitCode)
      return {...base, detail: detail || base.detail}
    },
    collect: async () => {
      const r = await collect({
        ...sub,
        out: req.out,
        since: req.since,
        encryptTo: req.encryptTo,
        includeSecrets: false,
        signal: req.signal,
        onProgress: req.onProgress,
        seams: req.collectSeams,
      })
      if (req.dryRun) return planned(r.steps.map((s) => `${s.id}: ${s.detail}`).join('; '))
      result.bundle = r.bundle
      result.bundleSha256 = r.bundleSha256
      result.findings = strongest(r.findings)
      return {
        status: r.verified ? 'done' : 'failed',
        verified: r.verified,
        exitCode: r.exitCode,
        detail: `${r.bundle} (${r.files} files, ${r.findings.length} findings)${r.verified ? '; read back: matches its manifest and journal chain' : '; NOT verified: run ir verify'}`,
      }
    },
    audit: async () => {
      if (req.dryRun) return planned("openclaw security audit --json by the target's own CLI")
      const o = await runShippedPlaybook({...sub, playbook: 'respond', state: {targetCli: openclawCli}})
      const step = o.steps.find((s) => s.action === 'security-audit')
      // Only OpenClaw's own report verifies (the step fails without it, with the reason).
      const report = (step?.data as {json?: unknown} | undefined)?.json !== undefined
      result.where.audit = report ? path.join(c.dir, 'security-audit.json') : undefined
      const verified = step?.verified === true
      return {
        status: report ? 'done' : 'failed',
        verified,
        exitCode: verified ? ExitCode.Ok : report ? ExitCode.PreconditionFailed : ExitCode.Partial,
        detail: step?.detail ?? 'no audit result',
      }
    },
  }
  for (const [i, id] of PHASES.entries()) {
    const prior = earlier.get(id)
    if (prior && !req.dryRun) {
      result.phases.push({
        id,
        status: 'done',
        verified: prior.verified,
        detail: prior.detail,
        resumed: true,
        exitCode: 0,
      })
      continue
    }
    if (interrupted()) {
      result.interrupted = true
      result.phases.push(notRun(id, 'interrupted (Ctrl-C): resume with --case'))
      continue
    }
    if (!req.dryRun && prompter.interactive) {
      const yes = await ask(
        prompter,
        `Phase ${i + 1}/${PHASES.length} — ${TITLES[id]}: ${opening.phases[i]!.changes}. Run it?`,
      )
      if (yes !== true) {
        result.interrupted ||= yes === 'interrupted'
        const r: PhaseResult =
          yes === 'interrupted'
            ? notRun(id, 'interrupted (Ctrl-C): resume with --case')
            : {id, status: 'declined', verified: false, detail: 'declined by the operator', exitCode: ExitCode.Aborted}
        result.phases.push(r)
        journalPhase(c, r)
        continue
      }
    }
    req.onPhase?.(id, i, TITLES[id])
    let r: PhaseResult
    try {
      r = {id, ...(await runners[id]())}
    } catch (err) {
      const e = err instanceof IrError ? err : undefined
      r = {
        id,
        status: 'failed',
        verified: false,
        detail: errorMessage(err),
        exitCode: e?.exitCode === ExitCode.Aborted ? ExitCode.Aborted : (e?.exitCode ?? ExitCode.Partial),
      }
    }
    // Ctrl-C during the phase (its own prompt, or the signal): not done, so a resume runs it again.
    if (interrupted() && r.status !== 'planned') {
      result.interrupted = true
      r = {...r, status: 'not-run', exitCode: ExitCode.Aborted, detail: `interrupted (Ctrl-C): ${r.detail}`}
    }
    result.phases.push(r)
    if (!req.dryRun) journalPhase(c, r)
  }
  const run = result.phases
  result.verified = !req.dryRun && run.every((p) => p.status === 'done' && p.verified)
  const codes = run.map((p) =>
    // The contract: what could not be confirmed is exit 5, even when the phase itself ended well.
    p.status === 'done' && !p.verified && p.exitCode === ExitCode.Ok ? ExitCode.Partial : p.exitCode,
  )
  result.exitCode = req.dryRun ? ExitCode.Ok : result.interrupted ? ExitCode.Aborted : worstExit(codes)
  if (!req.dryRun) Object.assign(result, undoOffer(c))
  c.journal.append({
    playbook: 'respond',
    status: 'end',
    detail: `exit ${result.exitCode}`,
    data: {verified: result.verified, interrupted: result.interrupted},
  })
  return result
}

/**
 * The flags the phases use, checked as those phases check them (collect: --out, --since,
 * --encrypt-to; rotate: --secrets-out, reserved and released as rotate reserves it), so that a bad
 * one stops the run before contain changes anything, not after.
 */
async function checkPhaseFlags(req: RespondRequest, host: HostEnv): Promise<void> {
  const {target, out, since, encryptTo, irHome} = req
  await checkCollectFlags({target, out, since, encryptTo, irHome, host})
  if (req.secretsOut) releaseSecretsOut(reserveSecretsOut(path.resolve(req.secretsOut), req.mayChange && !req.dryRun))
}

/**
 * The way back, offered only when it works: `ir contain --undo` restores all or nothing, and rotate
 * scrubs the backups that held a secret, so after a rotation it cannot restore the config.
 */
function undoOffer(c: Case): Pick<RespondResult, 'containUndo' | 'undoUnavailable'> {
  const preview = undoChanges(c, {dryRun: true})
  const todo = preview.filter((o) => o.status === 'would-restore')
  const blocked = preview.filter((o) => o.status === 'conflict')
  if (!todo.length) return {}
  if (!blocked.length) return {containUndo: `ir contain --undo --case ${c.id}`}
  const backups = path.join(c.dir, 'backups')
  const redacted = existsSync(backups) && readdirSync(backups).some((n) => n.endsWith('.redacted'))
  return {
    undoUnavailable:
      `ir contain --undo --case ${c.id} would restore nothing (it restores all or nothing): ` +
      blocked.map((o) => `${o.path}: ${o.detail}`).join('; ') +
      (redacted ? `; the scrubbed backups are kept with secrets masked in ${backups}/*.redacted` : ''),
  }
}

function planned(detail: string): Omit<PhaseResult, 'id'> {
  return {status: 'planned', verified: false, detail, exitCode: ExitCode.Ok}
}

function notRun(id: PhaseId, detail: string): PhaseResult {
  return {id, status: 'not-run', verified: false, detail, exitCode: ExitCode.Aborted}
}

function fromSteps(
  r: {steps: Array<{id: string; status: string; detail: string}>; needsConfirmation: boolean},
  verified: boolean,
  exitCode: ExitCode,
): Omit<PhaseResult, 'id'> {
  if (r.steps.every((s) => s.status === 'planned' || s.status === 'noop' || s.status === 'skipped'))
    return {...planned(r.steps.map((s) => `${s.id}: ${s.detail}`).join('; ')), exitCode}
  const bad = r.steps.filter((s) => ['failed', 'manual', 'declined'].includes(s.status))
  const failed = bad.some((s) => s.status === 'failed') || exitCode === ExitCode.Partial
  return {
    status: failed && !r.steps.some((s) => s.status === 'done') ? 'failed' : 'done',
    verified,
    exitCode,
    detail:
      `${r.steps.filter((s) => s.status === 'done').length} step(s) done` +
      (bad.length ? `; ${bad.map((s) => `${s.id} ${s.status}: ${s.detail}`).join('; ')}` : ''),
  }
}

function journalPhase(c: Case, r: PhaseResult): void {
  c.journal.append({
    playbook: 'respond',
    step: r.id,
    status: r.status,
    detail: r.detail,
    data: {verified: r.verified, exitCode: r.exitCode},
  })
}

/** The operator's answer, or 'interrupted' when Ctrl-C closed the prompt. */
async function ask(p: Prompter, question: string): Promise<boolean | 'interrupted'> {
  try {
    return await p.confirm(question, true)
  } catch (err) {
    if (isInterrupt(err)) return 'interrupted'
    throw err
  }
}

function isInterrupt(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')
}

/**
 * The prompter the phases get: once Ctrl-C closed a prompt (or the signal fired), every later
 * question fails at once, so no changing step of the current phase runs unasked.
 */
function interruptible(p: Prompter, signal: AbortSignal | undefined): {prompter: Prompter; interrupted: () => boolean} {
  let closed = false
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed || signal?.aborted) throw Object.assign(new Error('interrupted (Ctrl-C)'), {name: 'ExitPromptError'})
    try {
      return await fn()
    } catch (err) {
      if (isInterrupt(err)) closed = true
      throw err
    }
  }
  return {
    prompter: {
      interactive: p.interactive,
      confirm: (m, d) => guard(() => p.confirm(m, d)),
      select: (m, c, d) => guard(() => p.select(m, c, d)),
      input: (m, o) => guard(() => p.input(m, o)),
    },
    interrupted: () => closed || Boolean(signal?.aborted),
  }
}

/**
 * What a stop destroys, taken first (evidence/volatile.ts, as collect takes them, without the audit):
 * host and clock, the gateway process (command line masked, start time), its listening sockets and
 * connections, health probes, services and the exposure. Written to the case (0600) and hashed into
 * the journal; the collect phase bundles the file byte for byte.
 */
async function recordVolatile(
  c: Case,
  install: Install,
  host: HostEnv,
  req: RespondRequest,
  otherInstalls: string[],
): Promise<RecordedVolatile> {
  let config: JsonObject | undefined
  let configError: string | undefined
  if (install.configExists) {
    try {
      config = loadConfig(install.configPath, {env: host.env}).value
    } catch (err) {
      configError = errorMessage(err)
    }
  }
  const facts = await volatileFacts({
    stateDir: install.stateDir,
    configPath: install.configPath,
    config,
    configError,
    env: host.env,
    home: openclawHome(host),
    profile: install.profile,
    runner: req.runner ?? realRunner,
    scratch: path.join(c.dir, 'collect', 'work'),
    now: req.now ?? (() => new Date()),
    redact: (s) => maskSecrets(s),
    audit: false,
  })
  const {audit: _notRun, ...recorded} = facts
  const text =
    maskSecrets(JSON.stringify({capturedAt: facts.host.clock.utc, ...recorded, otherInstalls}, null, 2)) + '\n'
  const file = path.join(c.dir, PRE_STOP_FILE)
  mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
  writeFileSync(file, text, {mode: 0o600, flag: 'w'})
  const digest = sha256(readFileSync(file))
  if (digest !== sha256(text)) throw new IrError(`${file} does not read back as written.`, ExitCode.Failure)
  c.journal.append({
    playbook: 'respond',
    step: 'volatile',
    action: 'record-volatile',
    status: 'recorded',
    files: [{path: file, sha256: digest, role: 'collected'}],
  })
  return {file, gateway: facts.gateway}
}

interface RecordedVolatile {
  file: string
  gateway: GatewayFacts
}

function strongest(findings: Finding[]): RespondResult['findings'] {
  const order = ['critical', 'high', 'medium', 'low', 'info']
  return [...findings]
    .sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity))
    .filter((f) => f.severity === 'critical' || f.severity === 'high')
    .slice(0, 8)
    .map((f) => ({ruleId: f.ruleId, severity: f.severity, title: f.title, file: f.source.file}))
}
