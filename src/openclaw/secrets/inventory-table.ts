import type {SecretInventory} from './inventory.js'

/** The inventory as table rows (fingerprints, never values). */
export function inventoryTable(inv: SecretInventory): string[] {
  const rows: string[][] = [['secret', 'form', 'fingerprint', 'location', 'where', '']]
  for (const s of inv.secrets) {
    s.locations.forEach((l, i) =>
      rows.push([
        i === 0 ? s.key : '',
        i === 0 ? s.form + (s.ref ? ` (${s.ref.source}:${s.ref.provider})` : '') : '',
        l.fingerprint ? `«sha256:${l.fingerprint}»` : '-',
        l.path,
        l.where,
        [l.active ? 'active' : 'copy', l.writable ? '' : 'manual'].filter(Boolean).join(', '),
      ]),
    )
  }
  for (const r of inv.residue) rows.push(['residue', '', '', r.path, `${r.what}: holds ${r.keys.join(', ')}`, ''])
  const widths = rows[0]!.map((_, c) => Math.min(60, Math.max(...rows.map((r) => r[c]!.length))))
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  )
}
