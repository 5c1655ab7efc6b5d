import {IrCommand} from '../src/cli/base-command.js'
import {choosePrompter} from '../src/cli/choose-prompter.js'
import {interruptible, stderrProgress} from '../src/cli/interrupt-and-progress.js'
import {respondFlags, respondRequest} from '../src/cli/respond-flags.js'
import {openingLines, phaseLine, respondLines} from '../src/cli/respond-text.js'
import {respond, type RespondResult} from '../src/respond.js'

export default class Respond extends IrCommand<Omit<RespondResult, 'exitCode'>> {
  static override summary = 'One guided incident run, one case: volatile evidence, contain, rotate, collect, re-audit.'
  static override description =
    "Runs the incident in OpenClaw's order: volatile evidence while the gateway runs, contain, rotate, the full " +
    "evidence bundle, and a re-audit by the target's own OpenClaw. Opens with what was found and the plan; each " +
    'phase is asked on a TTY; --yes runs unattended with the safe defaults. Ctrl-C leaves the case resumable with ' +
    '--case (done phases are skipped).'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --yes --secrets-out ./new-secrets.json --out /mnt/evidence --json',
    '<%= config.bin %> <%= command.id %> --case IR-20261123-101500-ab12',
  ]
  static override flags = respondFlags

  public async run(): Promise<Omit<RespondResult, 'exitCode'>> {
    const {flags} = await this.parse(Respond)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    const progress = stderrProgress()
    const {exitCode, ...result} = await interruptible(
      'Interrupting after the current step; resume with --case',
      (signal) =>
        respond({
          ...respondRequest(flags),
          prompter,
          mayChange,
          signal,
          onOpening: (o) => this.jsonEnabled() || openingLines(o).forEach((l) => this.log(l)),
          onPhase: (_id, i, title) => process.stderr.write(phaseLine(i, title)),
          onProgress: progress.onProgress,
        }),
    )
    progress.clear()
    for (const line of respondLines({...result, exitCode})) this.log(line)
    this.exitWith(exitCode)
    return result
  }
}
