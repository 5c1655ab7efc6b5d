import {Flags} from '@oclif/core'

import {changeFlags, IrCommand, targetFlags, targetFrom} from '../src/cli/base-command.js'
import {choosePrompter} from '../src/cli/choose-prompter.js'
import {rotateLines} from '../src/cli/rotate-text.js'
import {nothingToRotateError, rotate, type RotateResult} from '../src/rotate.js'

export default class Rotate extends IrCommand<RotateResult> {
  static override summary =
    'Replace the gateway, remote and hooks secrets wherever they live, and prove the old ones are dead.'
  static override description =
    'Runs playbooks/rotate.yaml: inventory (fingerprints, never values), new 258-bit values written where OpenClaw ' +
    'reads them (config, secret store, file provider, .env, service units), proof on the running gateway (old 401, ' +
    'new 404), hand-over, and a checklist of what ir cannot rotate. New values go only to --secrets-out (a new 0600 ' +
    'file) or are shown once on request.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --yes --secrets-out ./rotated.json --json',
    '<%= config.bin %> <%= command.id %> --only hooks --state-dir /srv/openclaw/.openclaw --yes --secrets-out ./h.json',
  ]
  static override flags = {
    ...targetFlags,
    ...changeFlags,
    only: Flags.string({summary: 'Rotate only these (comma list): gateway, remote, hooks.'}),
    'secrets-out': Flags.string({
      summary: 'New file (0600) for {"<key path>": "<new value>"}; an existing file is refused.',
    }),
    'allow-unverified': Flags.boolean({
      summary: 'Exit 0 even when the running gateway could not confirm the rotation.',
    }),
  }

  public async run(): Promise<RotateResult> {
    const {flags} = await this.parse(Rotate)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    const result = await rotate({
      target: targetFrom(flags),
      caseId: flags.case,
      dryRun: flags['dry-run'],
      prompter,
      mayChange,
      only: flags.only,
      secretsOut: flags['secrets-out'],
      allowUnverified: flags['allow-unverified'],
    })
    for (const line of rotateLines(result)) this.log(line)
    // Interactive only (never under --json): once, to the terminal.
    for (const [key, value] of Object.entries(result.showOnce ?? {})) this.logToStderr(`${key} = ${value}`)
    if (result.nothingToRotate) throw nothingToRotateError(result)
    this.exitWith(result.exitCode)
    const {showOnce: _shown, ...shown} = result
    return shown
  }
}
