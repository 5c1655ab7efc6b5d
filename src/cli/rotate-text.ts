import {checklistLines} from '../actions/rotate-checklist.js'
import {inventoryTable} from '../openclaw/secrets/inventory-table.js'
import type {RotateResult} from '../rotate.js'
import {outcomeLines} from './playbook-text.js'

/** What `ir rotate` shows: the steps, the inventory (fingerprints only), the checklist, the verdict. */
export function rotateLines(r: RotateResult): string[] {
  const [head, ...rest] = outcomeLines(r, true)
  const inv = r.run.inventory
  const notes = inv ? [...inv.notes, ...inv.secrets.flatMap((s) => s.notes.map((n) => `${s.key}: ${n}`))] : []
  const lines = [head!, ...(inv ? inventoryTable(inv).map((l) => `  ${l}`) : []), ...notes.map((n) => `  note: ${n}`)]
  lines.push(...rest)
  if (r.run.checklist?.length) {
    lines.push('What ir cannot rotate itself (also in the case, rotation-checklist.md):')
    lines.push(...checklistLines(r.run.checklist).map((l) => `  ${l}`))
  }
  return [...lines, ...r.messages]
}
