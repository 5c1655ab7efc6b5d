import {Flags, type Interfaces} from '@oclif/core'

import type {RespondRequest} from '../respond.js'
import {changeFlags, targetFlags, targetFrom} from './base-command.js'

/** `ir respond` takes the flags of the commands it runs (contain, rotate, collect). */
export const respondFlags = {
  ...targetFlags,
  ...changeFlags,
  out: Flags.string({summary: 'Directory for the evidence bundle (default: the case directory).'}),
  'secrets-out': Flags.string({summary: 'New file (0600) for the new secret values; an existing file is refused.'}),
  'encrypt-to': Flags.string({
    summary: 'Encrypt the bundle to this recipient as it is written (as `ir collect --encrypt-to`); repeatable.',
    multiple: true,
  }),
  'dm-policy': Flags.string({
    summary: 'DM policy contain sets on every channel.',
    options: ['disabled', 'pairing', 'allowlist'],
    default: 'disabled',
  }),
  'keep-running': Flags.boolean({summary: 'Contain without stopping the gateway (it must apply the lockdown).'}),
  since: Flags.string({summary: 'Collect only files modified since this ISO time.'}),
}

type RespondFlags = Interfaces.InferredFlags<typeof respondFlags>

/** The flags as the use case's request (the effects are the command's). */
export function respondRequest(
  flags: RespondFlags,
): Pick<
  RespondRequest,
  'target' | 'caseId' | 'out' | 'secretsOut' | 'encryptTo' | 'dmPolicy' | 'keepRunning' | 'since' | 'dryRun'
> {
  return {
    target: targetFrom(flags),
    caseId: flags.case,
    out: flags.out,
    secretsOut: flags['secrets-out'],
    encryptTo: flags['encrypt-to'],
    dmPolicy: flags['dm-policy'],
    keepRunning: flags['keep-running'],
    since: flags.since,
    dryRun: flags['dry-run'],
  }
}
