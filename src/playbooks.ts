import {ACTIONS} from './actions/registry.js'
import {listPlaybooks, loadPlaybook, resolvePlaybook} from './playbook/loader.js'
import type {RunOutcome} from './playbook/engine.js'
import {runPlaybookOn, type PlaybookRunRequest} from './playbook/run.js'
import type {Playbook} from './playbook/playbook-schema.js'

/**
 * `ir playbook list|show|validate|run`, and the one place that hands the shipped action registry
 * to the loader and the engine (which import no action themselves).
 */

export type ShippedRunRequest = Omit<PlaybookRunRequest, 'actions'>

export function runShippedPlaybook(req: ShippedRunRequest): Promise<RunOutcome> {
  return runPlaybookOn({...req, actions: ACTIONS})
}

/** A shipped playbook id or a YAML file, loaded and checked against the shipped actions. */
export function loadPlaybookRef(ref: string): Playbook {
  return loadPlaybook(resolvePlaybook(ref), ACTIONS)
}

export function listShippedPlaybooks(): ReturnType<typeof listPlaybooks> {
  return listPlaybooks(ACTIONS)
}
