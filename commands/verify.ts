import {Args, Flags} from '@oclif/core'

import {IrCommand} from '../src/cli/base-command.js'
import {ExitCode} from '../src/errors.js'
import {verify, type VerifyResult} from '../src/verify.js'

export default class Verify extends IrCommand<VerifyResult> {
  static override summary = 'Check an evidence bundle: archive hash, every manifest entry, extra files, journal chain.'
  static override description =
    'Reads the archive (tar.gz, zip, an age-encrypted .tar.gz.age with --identity, or an extracted bundle folder) ' +
    'without extracting it: the sibling <archive>.sha256, every file against manifest-sha256.txt, files not in the ' +
    'manifest, case.json, and the hash chain of journal.jsonl. Exit 0 when intact, 3 otherwise, with each problem ' +
    'listed.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> ' +
      '~/.openclaw-ir/cases/IR-20261123-101500-ab12/IR-20261123-101500-ab12-host-20261123T101900Z.tar.gz',
    '<%= config.bin %> <%= command.id %> case.tar.gz.age --identity ~/.config/age/key.txt',
    '<%= config.bin %> <%= command.id %> case.tar.gz.age --identity ~/.ssh/id_ed25519',
    '<%= config.bin %> <%= command.id %> ./extracted/IR-20261123-101500-ab12-host-20261123T101900Z --json',
  ]
  static override flags = {
    identity: Flags.string({
      summary:
        'age identity file (AGE-SECRET-KEY-1…) or SSH private key of a recipient: decrypts an encrypted bundle ' +
        '(.age) as it is read.',
    }),
  }
  static override args = {
    bundle: Args.string({required: true, description: 'The bundle archive (or its extracted folder).'}),
  }

  public async run(): Promise<VerifyResult> {
    const {args, flags} = await this.parse(Verify)
    const result = await verify({bundle: args.bundle, identity: flags.identity})
    if (result.ok && result.contentsChecked === false)
      this.log(`ok  ciphertext matches its .sha256: ${result.bundle} (contents not checked: pass --identity)`)
    else if (result.ok) this.log(`ok  ${result.checked} file(s) checked: ${result.bundle}`)
    else {
      this.log(
        `NOT INTACT  ${result.problems.length} problem(s) in ${result.bundle} (${result.checked} file(s) checked)`,
      )
      for (const p of result.problems) this.log(`  ${p.path}: ${p.problem}`)
    }
    this.exitWith(result.ok ? ExitCode.Ok : ExitCode.PreconditionFailed)
    return result
  }
}
