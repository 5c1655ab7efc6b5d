/**
 * How the playbook engine asks the operator. Domain code never imports a prompt library:
 * the CLI passes inquirer on a TTY, tests pass a scripted prompter, --yes passes the defaults.
 */
export interface Prompter {
  /** false when nobody can answer (no TTY, --yes): the engine then never waits. */
  readonly interactive: boolean
  confirm(message: string, defaultValue: boolean): Promise<boolean>
  select(message: string, choices: string[], defaultValue: string): Promise<string>
  /** secret: hidden input, never echoed. */
  input(message: string, options?: {default?: string; secret?: boolean}): Promise<string>
}

/** --yes: every question takes the playbook's default, which is always the safe choice. */
export const defaultsPrompter: Prompter = {
  interactive: false,
  confirm: async (_m, defaultValue) => defaultValue,
  select: async (_m, _c, defaultValue) => defaultValue,
  input: async (message, options) => {
    if (options?.default !== undefined) return options.default
    throw new Error(`No answer for "${message}" without a TTY; pass it as a flag.`)
  },
}
