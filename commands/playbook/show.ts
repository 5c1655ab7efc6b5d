import {Args} from '@oclif/core'

import {IrCommand} from '../../src/cli/base-command.js'
import {loadPlaybookRef} from '../../src/playbooks.js'
import type {Playbook} from '../../src/playbook/playbook-schema.js'

export default class PlaybookShow extends IrCommand<Playbook> {
  static override summary = 'Show the steps of a playbook.'
  static override args = {
    playbook: Args.string({
      required: true,
      description: 'Shipped playbook id (contain, rotate, collect) or a YAML file.',
    }),
  }
  static override examples = [
    '<%= config.bin %> <%= command.id %> contain',
    '<%= config.bin %> <%= command.id %> ./my-playbook.yaml --json',
  ]

  public async run(): Promise<Playbook> {
    const {args} = await this.parse(PlaybookShow)
    const pb = loadPlaybookRef(args.playbook)
    this.log(`${pb.id}: ${pb.title}`)
    if (pb.description) this.log(pb.description.trim())
    pb.steps.forEach((s, i) => {
      const when = s.when ? ` when ${s.when}` : ''
      const onError = s.onError === 'continue' ? ', continue on error' : ''
      this.log(`${String(i + 1).padStart(2)}. ${s.id} (${s.action})${when}${onError}`)
      this.log(`    ${s.title}`)
    })
    return pb
  }
}
