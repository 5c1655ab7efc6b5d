import {Args, Flags} from '@oclif/core'

import {IrCommand, targetFlags, targetFrom} from '../src/cli/base-command.js'
import {FORMATS, SEVERITIES, failOnMet, render} from '../src/detect/api.js'
import type {ReportFormat, ScanResult, Severity} from '../src/detect/api.js'
import {summaryLine} from '../src/detect/report.js'
import {ExitCode} from '../src/errors.js'
import {scan} from '../src/scan.js'

export default class Scan extends IrCommand<ScanResult> {
  static override summary =
    'Find prompt injection, leaked secrets, dangerous tool calls and exfiltration in OpenClaw transcripts and logs.'
  static override description =
    'Scans JSONL transcripts (and their .reset/.deleted/.bak/.zst archives), per-agent SQLite stores, ' +
    'state/openclaw.sqlite and gateway/config-audit logs, or a whole state dir (the resolved one when no PATH is ' +
    'given). Read-only; secrets are masked in every output. --format defaults to text on a terminal and jsonl ' +
    'otherwise.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> ~/.openclaw --format sarif > ir.sarif',
    '<%= config.bin %> <%= command.id %> /evidence/state --fail-on high --baseline known.txt --json',
  ]
  static override strict = false
  static override args = {
    path: Args.string({description: 'Files or directories to scan (default: the OpenClaw state dir).'}),
  }
  static override flags = {
    ...targetFlags,
    rules: Flags.string({multiple: true, summary: 'Extra rule pack (YAML file or directory); repeatable.'}),
    format: Flags.string({options: [...FORMATS], summary: 'Output format (default: text on a TTY, else jsonl).'}),
    'fail-on': Flags.string({options: [...SEVERITIES], summary: 'Exit 10 when a finding is at least this severe.'}),
    baseline: Flags.string({summary: 'File of fingerprints (or findings JSONL) to leave out.'}),
  }

  public async run(): Promise<ScanResult> {
    const {argv, flags} = await this.parse(Scan)
    const req = {paths: argv as string[], target: targetFrom(flags), rules: flags.rules, baseline: flags.baseline}
    const {result, rules} = await scan(req)
    if (!this.jsonEnabled()) {
      const format = (flags.format ?? (process.stdout.isTTY ? 'text' : 'jsonl')) as ReportFormat
      const out = render(format, result, {rules, version: this.config.version})
      if (out) this.log(out)
      if (format !== 'text' && format !== 'md') this.logToStderr(summaryLine(result))
    }
    if (failOnMet(result.findings, flags['fail-on'] as Severity | undefined)) this.exitWith(ExitCode.FailOn)
    return result
  }
}
