import {openCase} from '../case/case-store.js'
import {checkInstallTarget, existingInstall} from '../openclaw/install-check.js'
import {type HostEnv, realHost, type Target} from '../openclaw/locate.js'
import {realRunner, type ProcessRunner} from '../system/process-runner.js'
import {runPlaybook, type RunOutcome} from './engine.js'
import {loadPlaybook, resolvePlaybook} from './loader.js'
import type {Prompter} from './prompter.js'
import type {ActionRegistry, RunState} from './action-types.js'

/** How a run may act, and its effects: what every use case that runs playbooks takes from its command. */
export interface RunEffects {
  dryRun: boolean
  prompter: Prompter
  mayChange: boolean
  runner?: ProcessRunner
  host?: HostEnv
  irHome?: string
  now?: () => Date
}

export interface PlaybookRunRequest extends RunEffects {
  playbook: string
  target: Target
  caseId?: string
  vars?: Record<string, unknown>
  /** Live objects the caller shares with the steps (e.g. the rotate run's vault); default empty. */
  state?: RunState
  actions: ActionRegistry
}

/** Everything a command needs to run a playbook on one install: target, case, effects. */
export async function runPlaybookOn(req: PlaybookRunRequest): Promise<RunOutcome> {
  const host = req.host ?? realHost()
  const pb = loadPlaybook(resolvePlaybook(req.playbook), req.actions)
  const install = existingInstall(req.target, host)
  checkInstallTarget(install, host)
  const c = openCase(req.caseId, {home: req.irHome, now: req.now})
  return runPlaybook(
    pb,
    {
      install,
      case: c,
      prompter: req.prompter,
      runner: req.runner ?? realRunner,
      env: host.env,
      now: req.now ?? (() => new Date()),
      vars: {...req.vars},
      state: req.state ?? {},
      dryRun: req.dryRun,
      results: new Map(),
    },
    {mayChange: req.mayChange, actions: req.actions},
  )
}
