import type {ApplyEditOptions} from '../openclaw/config-edit.js'
import {envCli, type TargetCli} from '../openclaw/openclaw-cli.js'
import type {ActionContext} from '../playbook/action-types.js'

declare module '../playbook/action-types.js' {
  interface RunState {
    /**
     * The target's own `openclaw`, located by the use case before any step ran (the running gateway is
     * the best witness, and the stop step removes it); null when none was found.
     */
    targetCli?: TargetCli | null
  }
}

/** The target's own `openclaw` for this run: the one the use case located, else what the environment names. */
export function targetCli(ctx: ActionContext): TargetCli | undefined {
  const located = ctx.state.targetCli
  return located === undefined ? envCli(ctx.env) : (located ?? undefined)
}

/** How an action writes the install's config: through the case (backed up, journaled), checked by `cli`. */
export function configEditOptions(ctx: ActionContext, step: string, cli = targetCli(ctx)): ApplyEditOptions {
  const {stateDir, configPath} = ctx.install
  return {case: ctx.case, runner: ctx.runner, env: ctx.env, stateDir, configPath, step, cli}
}
