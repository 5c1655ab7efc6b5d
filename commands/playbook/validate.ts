import {Args} from '@oclif/core'

import {IrCommand} from '../../src/cli/base-command.js'
import {ExitCode, IrError, errorMessage} from '../../src/errors.js'
import {PlaybookError, formatProblem, resolvePlaybook, type PlaybookProblem} from '../../src/playbook/loader.js'
import {loadPlaybookRef} from '../../src/playbooks.js'

interface ValidateResult {
  files: Array<{file: string; ok: boolean; problems: PlaybookProblem[]}>
}

export default class PlaybookValidate extends IrCommand<ValidateResult> {
  static override summary = 'Check playbooks: YAML, schema, known actions and their parameters.'
  static override strict = false
  static override args = {files: Args.string({required: true, description: 'Playbook files or shipped ids.'})}
  static override examples = [
    '<%= config.bin %> <%= command.id %> playbooks/*.yaml',
    '<%= config.bin %> <%= command.id %> ./custom.yaml --json',
  ]

  public async run(): Promise<ValidateResult> {
    const {argv} = await this.parse(PlaybookValidate)
    const files: ValidateResult['files'] = []
    for (const ref of argv as string[]) {
      const file = resolvePlaybook(ref)
      try {
        loadPlaybookRef(file)
        files.push({file, ok: true, problems: []})
        this.log(`ok       ${file}`)
      } catch (err) {
        const problems =
          err instanceof PlaybookError ? err.problems : [{file, field: 'file', message: errorMessage(err)}]
        files.push({file, ok: false, problems})
        for (const p of problems) this.log(`invalid  ${formatProblem(p)}`)
      }
    }
    const bad = files.filter((f) => !f.ok)
    if (bad.length && !this.jsonEnabled()) {
      throw new IrError(
        `${bad.length} of ${files.length} playbook(s) invalid.`,
        ExitCode.Usage,
        ['Fix the fields named above.'],
        'PLAYBOOK_INVALID',
      )
    }
    if (bad.length) this.exitWith(ExitCode.Usage)
    return {files}
  }
}
