import type {ActionContext, Plan} from '../../playbook/action-types.js'

/** One sub-change of a config edit, asked on its own ("Disable DMs on 3 channels? [Y/n]"). */
export interface AskedChange {
  question: string
  summary: string
}

export interface Answers<T> {
  accepted: T[]
  /** Summaries of the declined sub-changes. */
  declined: string[]
}

/**
 * Each sub-change asked in an interactive run (yes is always the safe answer); an unattended or
 * dry run takes them all. Shared by contain's lockdown and recover's baseline.
 */
export async function askEach<T extends AskedChange>(ctx: ActionContext, changes: T[]): Promise<Answers<T>> {
  const out: Answers<T> = {accepted: [], declined: []}
  for (const c of changes) {
    const yes = ctx.prompter.interactive && !ctx.dryRun ? await ctx.prompter.confirm(c.question, true) : true
    if (yes) out.accepted.push(c)
    else out.declined.push(c.summary)
  }
  return out
}

/** The step's plan when nothing is left to write: what was declined, or that the config already is so. */
export function nothingToWrite(declined: string[], already: string): Plan {
  return {
    noop: true,
    summary: declined.length ? `nothing to write (${declined.length} sub-change(s) declined)` : already,
    lines: declined.map((d) => `declined: ${d}`),
  }
}
