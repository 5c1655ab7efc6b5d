import {Args} from '@oclif/core'

import {changeFlags, IrCommand, targetFlags, targetFrom} from '../../src/cli/base-command.js'
import {outcomeLines} from '../../src/cli/playbook-text.js'
import {choosePrompter} from '../../src/cli/choose-prompter.js'
import type {RunOutcome} from '../../src/playbook/engine.js'
import {runShippedPlaybook} from '../../src/playbooks.js'

export default class PlaybookRun extends IrCommand<RunOutcome> {
  static override summary = 'Run a playbook (shipped id or YAML file) on an OpenClaw install.'
  static override args = {playbook: Args.string({required: true, description: 'Shipped playbook id or a YAML file.'})}
  static override flags = {...targetFlags, ...changeFlags}
  static override examples = [
    '<%= config.bin %> <%= command.id %> contain --dry-run',
    '<%= config.bin %> <%= command.id %> ./custom.yaml --state-dir /srv/oc --yes --json',
  ]

  public async run(): Promise<RunOutcome> {
    const {args, flags} = await this.parse(PlaybookRun)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    const outcome = await runShippedPlaybook({
      playbook: args.playbook,
      target: targetFrom(flags),
      caseId: flags.case,
      dryRun: flags['dry-run'],
      prompter,
      mayChange,
    })
    for (const line of outcomeLines(outcome, true)) this.log(line)
    this.exitWith(outcome.exitCode)
    return outcome
  }
}
