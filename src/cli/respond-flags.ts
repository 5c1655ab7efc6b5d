import {Flags, type Interfaces} from '@oclif/core'

import type {RespondRequest} from '../respond.js'
import {changeFlags, lockdownFlags, targetFlags, targetFrom} from './base-command.js'
import {collectFlags} from './collect-flags.js'

/** `ir respond` takes the flags of the commands it runs (contain, rotate, collect), defined once with them. */
export const respondFlags = {
  ...targetFlags,
  ...changeFlags,
  ...lockdownFlags,
  out: collectFlags.out,
  since: collectFlags.since,
  'encrypt-to': collectFlags['encrypt-to'],
  'secrets-out': Flags.string({summary: 'New file (0600) for the new secret values; an existing file is refused.'}),
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
