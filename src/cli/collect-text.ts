import type {CollectResult} from '../collect.js'
import type {Progress} from '../evidence/collect-types.js'

/** What `ir collect` shows: the steps, the bundle, what was not collected and why; and its progress line. */

export function collectLines(r: CollectResult): string[] {
  const out = [`case ${r.case}  playbook collect${r.dryRun ? '  (dry run: nothing copied)' : ''}`]
  for (const s of r.steps) {
    out.push(`${s.status.padEnd(9)} ${s.id.padEnd(10)} ${s.detail}`)
    if (r.dryRun && s.plan) for (const l of s.plan.lines) out.push(`            ${l}`)
  }
  if (r.dryRun) return out
  const sev = ['critical', 'high', 'medium', 'low', 'info']
    .map((k) => [k, r.findings.filter((f) => f.severity === k).length] as const)
    .filter(([, n]) => n)
  out.push(
    '',
    `bundle   ${r.bundle}`,
    `sha256   ${r.bundleSha256}  (also in ${r.bundle}.sha256${r.encrypted ? '; over the ciphertext' : ''})`,
    ...(r.encrypted
      ? [`manifest ${r.manifestSha256}  (SHA-256 of manifest-sha256.txt inside: keep it with the record)`]
      : []),
    `files    ${r.files}; findings ${r.findings.length}${sev.length ? ` (${sev.map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}; not collected ${r.skipped.length} (why: case.json and findings/report.md)`,
    ...notCollectedLines(r),
    r.verified
      ? 'verified  every file hashed again as archived matches the manifest; the archive matches its .sha256; the journal chain is intact'
      : 'NOT VERIFIED: run `ir verify` on the bundle',
  )
  return out
}

/** One status line for a TTY: phase, files, bytes, rate, ETA. */
export function formatProgress(p: Progress): string {
  const gib = (n: number) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : `${(n / (1 << 20)).toFixed(1)} MiB`)
  const secs = p.elapsedMs / 1000
  const rate = secs > 0 ? p.bytesDone / secs : 0
  const eta = rate > 0 && p.bytesTotal > p.bytesDone ? Math.round((p.bytesTotal - p.bytesDone) / rate) : undefined
  const etaText = eta === undefined ? '' : `  ETA ${Math.floor(eta / 60)}:${String(eta % 60).padStart(2, '0')}`
  const files = p.filesTotal ? `${p.filesDone}/${p.filesTotal} files  ` : ''
  const bytes = p.bytesTotal ? `${gib(p.bytesDone)}/${gib(p.bytesTotal)}` : p.bytesDone ? gib(p.bytesDone) : ''
  const cur = p.current ? `  ${p.current.length > 40 ? `…${p.current.slice(-39)}` : p.current}` : ''
  return `${p.phase.padEnd(8)} ${files}${bytes}${rate ? `  ${gib(rate)}/s` : ''}${etaText}${p.phase === 'acquire' ? cur : ''}`
}

/** What was not collected, with why (the first 20; case.json has them all). */
function notCollectedLines(r: CollectResult): string[] {
  const lines = r.skipped.slice(0, 20).map((s) => `  not collected  ${s.path}: ${s.reason}`)
  if (r.skipped.length > 20) lines.push(`  … ${r.skipped.length - 20} more in case.json`)
  return lines
}
