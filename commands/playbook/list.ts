import {IrCommand} from '../../src/cli/base-command.js'
import {listShippedPlaybooks} from '../../src/playbooks.js'

export default class PlaybookList extends IrCommand<{playbooks: Array<{id: string; file: string; title: string}>}> {
  static override summary = 'List the shipped playbooks.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  public async run(): Promise<{playbooks: Array<{id: string; file: string; title: string}>}> {
    await this.parse(PlaybookList)
    const playbooks = listShippedPlaybooks()
    for (const p of playbooks) this.log(`${p.id.padEnd(10)} ${p.title}`)
    return {playbooks}
  }
}
