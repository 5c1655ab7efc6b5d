import type {ApplyEditOptions} from '../openclaw/config-edit.js'
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

/** How an action writes the install's config: through the case (backed up, journaled), checked by `cli`. */
export function configEditOptions(ctx: ActionContext, step: string, cli = targetCli(ctx)): ApplyEditOptions {
  const {stateDir, configPath} = ctx.install
  return {case: ctx.case, runner: ctx.runner, env: ctx.env, stateDir, configPath, step, cli}
}
