import {envCli, type TargetCli} from '../openclaw/openclaw-cli.js'
import type {ActionContext} from '../playbook/action-types.js'

/**
 * The target's own `openclaw` for this run: the one `ir contain` located before the gateway stopped
 * (run variable `openclawCli`, null when none was found), else what the environment names.
 */
export function targetCli(ctx: ActionContext): TargetCli | undefined {
  const located = ctx.vars.openclawCli as TargetCli | null | undefined
  return located === undefined ? envCli(ctx.env) : (located ?? undefined)
}
