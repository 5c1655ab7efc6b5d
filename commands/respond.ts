import {Flags} from '@oclif/core'

import {changeFlags, IrCommand, targetFlags, targetFrom} from '../src/cli/base-command.js'
import {choosePrompter} from '../src/cli/choose-prompter.js'
import {openingLines, respondLines} from '../src/cli/respond-text.js'
import {interruptible, stderrProgress} from '../src/cli/interrupt-and-progress.js'
import {respond, type RespondResult} from '../src/respond.js'

export default class Respond extends IrCommand<Omit<RespondResult, 'exitCode'>> {
  static override summary = 'One guided incident run: volatile evidence, contain, rotate, collect, re-audit — one case.'
  static override description =
    "Runs the incident in OpenClaw's order: volatile evidence while the gateway runs, contain, rotate, the full evidence bundle, and a re-audit by the target's own OpenClaw. Opens with what was found and the plan; each phase is asked on a TTY; --yes runs unattended with the safe defaults. Ctrl-C leaves the case resumable with --case (done phases are skipped)."
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --yes --secrets-out ./new-secrets.json --out /mnt/evidence --json',
    '<%= config.bin %> <%= command.id %> --case IR-20261123-101500-ab12',
  ]
  static override flags = {
    ...targetFlags,
    ...changeFlags,
    out: Flags.string({summary: 'Directory for the evidence bundle (default: the case directory).'}),
    'secrets-out': Flags.string({summary: 'New file (0600) for the new secret values; an existing file is refused.'}),
    'dm-policy': Flags.string({
      summary: 'DM policy contain sets on every channel.',
      options: ['disabled', 'pairing', 'allowlist'],
      default: 'disabled',
    }),
    'keep-running': Flags.boolean({summary: 'Contain without stopping the gateway (it must apply the lockdown).'}),
    since: Flags.string({summary: 'Collect only files modified since this ISO time.'}),
  }

  public async run(): Promise<Omit<RespondResult, 'exitCode'>> {
    const {flags} = await this.parse(Respond)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    const progress = stderrProgress()
    const {exitCode, ...result} = await interruptible(
      'Interrupting after the current step; resume with --case',
      (signal) =>
        respond({
          target: targetFrom(flags),
          caseId: flags.case,
          out: flags.out,
          secretsOut: flags['secrets-out'],
          dmPolicy: flags['dm-policy'],
          keepRunning: flags['keep-running'],
          since: flags.since,
          dryRun: flags['dry-run'],
          prompter,
          mayChange,
          signal,
          onOpening: (o) => this.jsonEnabled() || openingLines(o).forEach((l) => this.log(l)),
          onPhase: (_id, i, title) => process.stderr.write(`[${i + 1}/5] ${title}…\n`),
          onProgress: progress.onProgress,
        }),
    )
    progress.clear()
    for (const line of respondLines({...result, exitCode})) this.log(line)
    this.exitWith(exitCode)
    return result
  }
}
