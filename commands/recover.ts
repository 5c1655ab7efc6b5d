import {Flags} from '@oclif/core'

import {changeFlags, IrCommand, targetFlags, targetFrom} from '../src/cli/base-command.js'
import {undoLines} from '../src/cli/contain-text.js'
import {choosePrompter} from '../src/cli/choose-prompter.js'
import {recoverLines} from '../src/cli/recover-text.js'
import {recover, recoverUndo, type RecoverResult, type RecoverUndoResult} from '../src/recover.js'

export default class Recover extends IrCommand<RecoverResult | RecoverUndoResult> {
  static override summary =
    "After the incident: back to OpenClaw's secure baseline, validated, audited, started, probed."
  static override description =
    'Runs playbooks/recover.yaml: loopback bind, strong token auth, DMs by pairing, groups by allowlist and mention, ' +
    'one DM session per peer, mDNS minimal, modes 700/600, dangerous levers kept off, agents that serve others ' +
    "sandboxed — each change a diff, asked, validated by the target's own OpenClaw; then its security audit (no " +
    'critical left), the gateway started through its service and probed (a wrong token rejected). Undo with --undo ' +
    '--case.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --case IR-20261123-101500-ab12 --yes --json',
    '<%= config.bin %> <%= command.id %> --undo --case IR-20261123-101500-ab12',
  ]
  static override flags = {
    ...targetFlags,
    ...changeFlags,
    'dm-policy': Flags.string({
      summary: 'DM policy of the baseline.',
      options: ['pairing', 'allowlist'],
      default: 'pairing',
    }),
    undo: Flags.boolean({summary: 'Restore every file and mode the case changed (needs --case).'}),
  }

  public async run(): Promise<RecoverResult | RecoverUndoResult> {
    const {flags} = await this.parse(Recover)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    if (flags.undo) {
      const undo = (caseId: string) => recoverUndo({caseId, dryRun: flags['dry-run'], prompter, mayChange})
      return this.undoCase('recover', flags.case, undo, undoLines)
    }
    const result = await recover({
      target: targetFrom(flags),
      caseId: flags.case,
      dmPolicy: flags['dm-policy'],
      dryRun: flags['dry-run'],
      prompter,
      mayChange,
    })
    for (const line of recoverLines(result)) this.log(line)
    this.exitWith(result.exitCode)
    return result
  }
}
