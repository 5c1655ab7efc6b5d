import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {inventoryTable} from '../openclaw/secrets/inventory-table.js'
import type {SecretInventory} from '../openclaw/secrets/inventory.js'
import type {ActionDefinition} from '../playbook/action-types.js'
import {currentInventory, rotateRunOf} from './shared/rotate-run.js'

const Params = z.object({}).strict()

/**
 * Step 1 of rotate: every in-scope secret, the form it takes (plain, ${VAR}, SecretRef), each place
 * it is stored, and residue of the current value: a table of fingerprints, never values. Saved in
 * the case as secrets-inventory.json and journaled with the fingerprints.
 */
export const rotateInventory: ActionDefinition<z.infer<typeof Params>> = {
  name: 'rotate-inventory',
  description:
    'Inventory the gateway, remote and hooks secrets: where each lives (config, ${VAR}, SecretRef ' +
    'env/file/store/exec, .env, service units) and residue, as fingerprints.',
  params: Params,
  mutates: false,
  async plan(ctx) {
    const {inventory} = await currentInventory(ctx)
    return {
      noop: false,
      summary: summaryOf(inventory),
      lines: [...inventoryTable(inventory), ...inventory.notes],
      data: inventory,
    }
  },
  async apply(ctx, _params, plan) {
    const inventory = plan.data as SecretInventory
    rotateRunOf(ctx).inventory = inventory
    const file = path.join(ctx.case.dir, 'secrets-inventory.json')
    writeFileSync(file, JSON.stringify(inventory, null, 2) + '\n', {mode: 0o600})
    const fingerprints = Object.fromEntries(
      inventory.secrets.filter((s) => s.fingerprint).map((s) => [s.key, s.fingerprint!]),
    )
    const files = [
      ...new Set(
        inventory.secrets.flatMap((s) =>
          s.locations.filter((l) => l.kind !== 'process-env' && l.kind !== 'exec').map((l) => l.path),
        ),
      ),
    ].map((p) => ({path: p, role: 'read' as const}))
    return {detail: `${summaryOf(inventory)}; saved secrets-inventory.json`, data: inventory, fingerprints, files}
  },
}

function summaryOf(inv: SecretInventory): string {
  if (!inv.secrets.length) return `nothing to rotate${inv.notes.length ? `: ${inv.notes[0]}` : ''}`
  const manual = inv.secrets.filter((s) => s.locations.some((l) => l.active && !l.writable)).length
  return (
    `${inv.secrets.length} secret(s) in scope (${inv.secrets.map((s) => `${s.key} ${s.form}`).join(', ')})` +
    `${manual ? `, ${manual} need a manual step` : ''}${inv.residue.length ? `; old values also in ${inv.residue.length} residue file(s)` : ''}`
  )
}
