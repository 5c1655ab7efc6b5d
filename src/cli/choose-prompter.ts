import {confirm, input, password, select} from '@inquirer/prompts'

import {defaultsPrompter, type Prompter} from '../playbook/prompter.js'

/** inquirer on a TTY; prompts go to stderr so stdout stays the command's result. */
export const inquirerPrompter: Prompter = {
  interactive: true,
  confirm: (message, defaultValue) => confirm({message, default: defaultValue}, {output: process.stderr}),
  select: (message, choices, defaultValue) =>
    select({message, choices: choices.map((value) => ({value})), default: defaultValue}, {output: process.stderr}),
  input: (message, options) =>
    options?.secret
      ? password({message, mask: true}, {output: process.stderr})
      : input({message, default: options?.default}, {output: process.stderr}),
}

/** The prompter a command uses, and whether changes may happen at all (no TTY + no --yes = no). */
export function choosePrompter(flags: {yes?: boolean}, json: boolean): {prompter: Prompter; mayChange: boolean} {
  if (flags.yes) return {prompter: defaultsPrompter, mayChange: true}
  if (!json && process.stdin.isTTY && process.stderr.isTTY) return {prompter: inquirerPrompter, mayChange: true}
  return {prompter: defaultsPrompter, mayChange: false}
}
