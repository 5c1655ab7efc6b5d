import {Flags} from '@oclif/core'

import {changeFlags, IrCommand, lockdownFlags, targetFlags, targetFrom} from '../src/cli/base-command.js'
import {containLines, undoLines} from '../src/cli/contain-text.js'
import {choosePrompter} from '../src/cli/choose-prompter.js'
import {contain, containUndo, type ContainResult, type ContainUndoResult} from '../src/contain.js'

export default class Contain extends IrCommand<ContainResult | ContainUndoResult> {
  static override summary = 'Stop the gateway for good, lock down every inbound surface, tighten permissions.'
  static override description =
    'Runs playbooks/contain.yaml: preserve evidence, stop and disable the gateway (service first, then the verified ' +
    'process), lock down the config (one validated, comment-keeping edit shown as a diff), tighten modes, re-audit. ' +
    'Every change is backed up in the case and undoable with --undo. Nothing changes without a TTY to confirm unless ' +
    '--yes is given.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --state-dir /srv/openclaw/.openclaw --yes --json',
    '<%= config.bin %> <%= command.id %> --keep-running --dm-policy pairing',
    '<%= config.bin %> <%= command.id %> --undo --case IR-20261123-101500-ab12',
  ]
  static override flags = {
    ...targetFlags,
    ...changeFlags,
    ...lockdownFlags,
    since: Flags.string({summary: 'Start of the incident window (ISO time): persistence changed since is listed.'}),
    undo: Flags.boolean({
      summary: 'Restore every file and mode the case changed (needs --case); starts nothing without asking.',
    }),
  }

  public async run(): Promise<ContainResult | ContainUndoResult> {
    const {flags} = await this.parse(Contain)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    if (flags.undo) {
      const undo = (caseId: string) => containUndo({caseId, dryRun: flags['dry-run'], prompter, mayChange})
      return this.undoCase('contain', flags.case, undo, undoLines)
    }
    const result = await contain({
      target: targetFrom(flags),
      caseId: flags.case,
      dmPolicy: flags['dm-policy'],
      keepRunning: flags['keep-running'],
      since: flags.since,
      dryRun: flags['dry-run'],
      prompter,
      mayChange,
    })
    for (const line of containLines(result)) this.log(line)
    this.exitWith(result.exitCode)
    return result
  }
}
