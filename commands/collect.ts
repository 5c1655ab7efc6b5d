import {IrCommand} from '../src/cli/base-command.js'
import {choosePrompter} from '../src/cli/choose-prompter.js'
import {collectFlags, collectRequestFrom} from '../src/cli/collect-flags.js'
import {collectLines} from '../src/cli/collect-text.js'
import {interruptible, stderrProgress} from '../src/cli/interrupt-and-progress.js'
import {collect, type CollectResult} from '../src/collect.js'

export default class Collect extends IrCommand<CollectResult> {
  static override summary =
    'Collect a read-only, hashed, scanned and verifiable evidence bundle of an OpenClaw install.'
  static override description =
    'Runs playbooks/collect.yaml: volatile facts first, then every source (config and history, logs, JSONL ' +
    'transcripts, SQLite stores raw + consistent backup + exported transcripts, pairing and device stores, ' +
    'workspaces, services) copied once, read-only, hashed, scanned and with secrets masked; a report; a tar.gz ' +
    '(0600) with manifest-sha256.txt, case.json and the journal, plus a sibling .sha256. Changes nothing in the ' +
    'install. Ctrl-C stops cleanly; re-run with the same --case to resume.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --yes',
    '<%= config.bin %> <%= command.id %> --state-dir /srv/openclaw/.openclaw --out /mnt/evidence --since 2026-11-20 ' +
      '--json',
    '<%= config.bin %> <%= command.id %> --case IR-20261123-101500-ab12 --format zip --rules ./my-rules/',
    '<%= config.bin %> <%= command.id %> --yes --encrypt-to "$(cat ~/.ssh/id_ed25519.pub)"',
  ]
  static override flags = collectFlags

  public async run(): Promise<CollectResult> {
    const {flags} = await this.parse(Collect)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    const progress = stderrProgress()
    const result = await interruptible('Interrupting after the current file', (signal) =>
      collect({...collectRequestFrom(flags), prompter, mayChange, signal, onProgress: progress.onProgress}),
    )
    progress.clear()
    for (const line of collectLines(result)) this.log(line)
    this.exitWith(result.exitCode)
    return result
  }
}
