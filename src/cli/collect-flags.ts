import {Flags, type Interfaces} from '@oclif/core'

import type {CollectRequest} from '../collect.js'
import {changeFlags, targetFlags, targetFrom} from './base-command.js'

/** The flags of `ir collect`, and what of the request they give (the command adds prompter, signal, progress). */

export const collectFlags = {
  ...targetFlags,
  ...changeFlags,
  out: Flags.string({summary: 'Directory for the archive and its .sha256 (default: the case directory).'}),
  since: Flags.string({summary: 'Only files modified since this ISO time; large logs are trimmed by line time.'}),
  rules: Flags.string({summary: 'Extra detection rule pack (file or directory); repeatable.', multiple: true}),
  format: Flags.string({summary: 'Archive format.', options: ['tar.gz', 'zip'], default: 'tar.gz'}),
  'encrypt-to': Flags.string({
    summary:
      'Encrypt the bundle as it is written to this age (age1…) or SSH (ssh-ed25519, ssh-rsa) public key; repeatable.',
    multiple: true,
  }),
  'include-secrets': Flags.boolean({
    summary:
      'Include secret contents (credential stores, raw SQLite, unmasked config); asked when omitted (default no).',
    allowNo: true,
  }),
}

export type CollectFlags = Interfaces.InferredFlags<typeof collectFlags>

export function collectRequestFrom(
  flags: CollectFlags,
): Omit<CollectRequest, 'prompter' | 'mayChange' | 'signal' | 'onProgress'> {
  return {
    target: targetFrom(flags),
    caseId: flags.case,
    out: flags.out,
    since: flags.since,
    rules: flags.rules,
    format: flags.format as 'tar.gz' | 'zip',
    encryptTo: flags['encrypt-to'],
    includeSecrets: flags['include-secrets'],
    dryRun: flags['dry-run'],
  }
}
