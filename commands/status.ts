import {ExitCode} from '../src/errors.js'
import {IrCommand, targetFlags, targetFrom} from '../src/cli/base-command.js'
import {noInstallLine, statusLines} from '../src/cli/status-text.js'
import {status, type StatusResult} from '../src/status.js'

export default class Status extends IrCommand<StatusResult> {
  static override summary = 'Read-only triage: installs, storage era, version, gateway up/down, exposure.'
  static override description =
    'Finds every OpenClaw install of this user, whether its gateway runs (pid, port, service), and what it exposes, ' +
    'with a severity per item. Changes nothing and never starts OpenClaw.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --state-dir /srv/openclaw/.openclaw --json',
  ]
  static override flags = {...targetFlags}

  public async run(): Promise<StatusResult> {
    const {flags} = await this.parse(Status)
    const result = await status(targetFrom(flags))
    for (const line of statusLines(result)) this.log(line)
    const none = noInstallLine(result)
    if (none) {
      this.logToStderr(none)
      this.exitWith(ExitCode.PreconditionFailed)
    }
    if (result.exposureUnknown) {
      this.logToStderr('A config cannot be read: its exposure is unknown. Fix it (see above), then re-run.')
      this.exitWith(ExitCode.PreconditionFailed)
    }
    return result
  }
}
