import path from 'node:path'

import {Flags} from '@oclif/core'

import {checklistLines, type ChecklistItem} from '../src/actions/rotate-checklist.js'
import {rotationVerdict} from '../src/actions/rotate-prove.js'
import {parseScopes, releaseSecretsOut, reserveSecretsOut, SecretVault} from '../src/actions/rotate-vault.js'
import {changeFlags, IrCommand, targetFlags, targetFrom} from '../src/cli/base-command.js'
import {outcomeLines} from '../src/cli/playbook-text.js'
import {choosePrompter} from '../src/cli/prompter.js'
import {ExitCode, IrError} from '../src/errors.js'
import {inventoryTable, type SecretInventory} from '../src/openclaw/secrets.js'
import type {RunOutcome} from '../src/playbook/engine.js'
import {runPlaybookOn} from '../src/playbook/run.js'

export type RotateResult = RunOutcome

export default class Rotate extends IrCommand<RotateResult> {
  static override summary =
    'Replace the gateway, remote and hooks secrets wherever they live, and prove the old ones are dead.'
  static override description =
    'Runs playbooks/rotate.yaml: inventory (fingerprints, never values), new 258-bit values written where OpenClaw reads them (config, secret store, file provider, .env, service units), proof on the running gateway (old 401, new 404), hand-over, and a checklist of what ir cannot rotate. New values go only to --secrets-out (a new 0600 file) or are shown once on request.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --yes --secrets-out ./rotated.json --json',
    '<%= config.bin %> <%= command.id %> --only hooks --state-dir /srv/openclaw/.openclaw --yes --secrets-out ./hooks.json',
  ]
  static override flags = {
    ...targetFlags,
    ...changeFlags,
    only: Flags.string({summary: 'Rotate only these (comma list): gateway, remote, hooks.'}),
    'secrets-out': Flags.string({
      summary: 'New file (0600) for {"<key path>": "<new value>"}; an existing file is refused.',
    }),
    'allow-unverified': Flags.boolean({
      summary: 'Exit 0 even when the running gateway could not confirm the rotation.',
    }),
  }

  public async run(): Promise<RotateResult> {
    const {flags} = await this.parse(Rotate)
    const only = flags.only === undefined ? undefined : parseScopes(flags.only)
    const {prompter, mayChange} = choosePrompter(flags, this.jsonEnabled())
    const dryRun = flags['dry-run']
    const out = flags['secrets-out']
      ? reserveSecretsOut(path.resolve(flags['secrets-out']), mayChange && !dryRun)
      : undefined
    const vault = new SecretVault()
    let outcome: RunOutcome
    try {
      outcome = await runPlaybookOn({
        playbook: 'rotate',
        target: targetFrom(flags),
        caseId: flags.case,
        dryRun,
        prompter,
        mayChange,
        vars: {only, secretsOut: out, allowUnverified: flags['allow-unverified'], secretVault: vault},
      })
    } finally {
      releaseSecretsOut(out)
    }
    const verdict = rotationVerdict(outcome, {allowUnverified: flags['allow-unverified'], dryRun})
    const inventory = outcome.steps.find((s) => s.action === 'rotate-inventory' && s.status === 'done')?.data as
      SecretInventory | undefined
    const items = (
      outcome.steps.find((s) => s.action === 'rotate-checklist')?.data as {items?: ChecklistItem[]} | undefined
    )?.items
    const [head, ...rest] = outcomeLines(outcome, true)
    const notes = inventory
      ? [...inventory.notes, ...inventory.secrets.flatMap((s) => s.notes.map((n) => `${s.key}: ${n}`))]
      : []
    for (const line of [
      head!,
      ...(inventory ? inventoryTable(inventory).map((l) => `  ${l}`) : []),
      ...notes.map((n) => `  note: ${n}`),
      ...rest,
    ])
      this.log(line)
    if (items?.length)
      for (const line of [
        'What ir cannot rotate itself (also in the case, rotation-checklist.md):',
        ...checklistLines(items).map((l) => `  ${l}`),
      ])
        this.log(line)
    for (const m of verdict.messages) this.log(m)
    if (vault.showRequested) {
      // Interactive only (never under --json): once, to the terminal.
      for (const [key, value] of Object.entries(vault.handover())) this.logToStderr(`${key} = ${value}`)
    }
    if (verdict.nothingToRotate) {
      throw new IrError(
        `Nothing to rotate: ${verdict.messages.join(' ')}`,
        ExitCode.PreconditionFailed,
        [
          'Run `ir contain` to require token auth on the gateway, then `ir rotate`.',
          `The case ${outcome.case} records the inventory.`,
        ],
        'NOTHING_TO_ROTATE',
      )
    }
    this.exitWith(verdict.exitCode)
    return {...outcome, verified: verdict.verified, exitCode: verdict.exitCode}
  }
}
