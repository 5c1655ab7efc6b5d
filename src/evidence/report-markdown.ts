import {CATEGORIES, SEVERITIES} from '../detect/finding-types.js'
import type {Incident} from './incident.js'

/**
 * findings/report.md: what a responder reads first, from the same Incident as report.html: the
 * counts, next steps, one UTC timeline, the entry points, the blast radius, findings grouped most
 * severe first; then the exposure (as `ir status` reports it) and OpenClaw's own audit, what was
 * collected, and what was not and why. Excerpts are the engine's (secrets masked); the whole text
 * is passed through the bundle's redactor before it is written.
 */

const MAX_NOT_COLLECTED = 300

export function renderMarkdown(incident: Incident): string {
  const r = incident.input
  const out: string[] = []
  const cell = (s: unknown) =>
    String(s ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\s+/g, ' ')
      .trim()
  out.push(`# Incident evidence report — case ${r.caseId}`, '')
  out.push(`- Host: \`${r.host}\`; collected ${r.startedAt.toISOString()} → ${r.endedAt.toISOString()} (UTC)`)
  out.push(`- Install: state dir \`${r.stateDir}\`, config \`${r.configPath}\`; storage era **${r.era}**`)
  out.push(
    `- OpenClaw: installed ${r.versions.installed ?? 'unknown'}, config last written by ${r.versions.config ?? 'unknown'}, state DB ${r.versions.stateDb ?? 'unknown'}, running ${r.versions.running ?? '—'}`,
  )
  if (r.gateway) {
    out.push(
      `- Gateway at collection: **${r.gateway.state}**${r.gateway.pid ? ` (pid ${r.gateway.pid}${r.gateway.startedAt ? `, started ${r.gateway.startedAt}` : ''})` : ''}, port ${r.gateway.port} (${r.gateway.portSource}), /healthz ${r.gateway.healthz ? 'ok' : 'no answer'}`,
    )
    if (r.gateway.state === 'up')
      out.push(
        '  - It was running: files were copied as they were when opened; SQLite stores were copied with their -wal/-shm and backed up from that copy. Items marked "changed during copy" in case.json were being written.',
      )
  }
  out.push(
    `- Secrets: ${r.includeSecrets ? '**included** (--include-secrets): this bundle holds credentials in clear — handle it as a secret' : 'masked. Secret values appear as `«sha256:xxxxxxxxxxxx»`, sometimes after up to 4 leading characters that name the kind (`ghp_…«sha256:xxxxxxxxxxxx»`); the hash matches the findings. Credential stores and raw SQLite files are listed with their SHA-256 but not included.'}`,
  )
  if (r.since) out.push(`- Time window: files modified since ${r.since.toISOString()} (--since)`)
  out.push('')

  out.push('## Findings summary', '')
  if (r.findings.length === 0) out.push('No finding.', '')
  else {
    const cats = CATEGORIES.filter((c) => r.findings.some((f) => f.category === c))
    out.push(`| category | ${SEVERITIES.join(' | ')} | total |`, `|---|${SEVERITIES.map(() => '---:').join('|')}|---:|`)
    for (const c of cats) {
      const row = SEVERITIES.map((s) => r.findings.filter((f) => f.category === c && f.severity === s).length)
      out.push(`| ${c} | ${row.map((n) => (n ? String(n) : '')).join(' | ')} | ${row.reduce((a, b) => a + b, 0)} |`)
    }
    const totals = SEVERITIES.map((s) => r.findings.filter((f) => f.severity === s).length)
    out.push(`| **all** | ${totals.join(' | ')} | ${r.findings.length} |`, '')
  }

  out.push(...incidentSections(incident, cell))

  out.push('## Exposure at collection time', '')
  if (r.exposure.filter((e) => e.severity !== 'info').length === 0)
    out.push('Nothing exposed found in the config, file modes or service definitions.', '')
  else {
    out.push('| severity | check | what | where |', '|---|---|---|---|')
    for (const e of r.exposure.filter((x) => x.severity !== 'info'))
      out.push(`| ${e.severity} | ${cell(e.checkId)} | ${cell(e.title)} | \`${cell(e.where)}\` |`)
    out.push('')
  }
  out.push("## OpenClaw's own audit (`openclaw security audit --deep --json`)", '')
  if (!r.audit?.ran) out.push(`Not run: ${r.audit?.reason ?? 'unknown'}.`, '')
  else {
    const j = r.audit.json as
      | {summary?: Record<string, number>; findings?: Array<{checkId?: string; severity?: string; title?: string}>}
      | undefined
    out.push(
      `Ran on a scratch mirror of the config (the CLI writes into the state dir when run on it): exit ${r.audit.exitCode ?? '?'}${r.audit.timedOut ? ' (timed out)' : ''}, ${r.audit.durationMs ?? '?'} ms. Full output: \`evidence/volatile/openclaw-security-audit.json\`.`,
      '',
    )
    if (j?.summary)
      out.push(
        `Summary: ${Object.entries(j.summary)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        '',
      )
    const top = (j?.findings ?? []).filter((f) => f.severity && f.severity !== 'info')
    if (top.length) {
      out.push('| severity | check | title |', '|---|---|---|')
      for (const f of top.slice(0, 50)) out.push(`| ${cell(f.severity)} | ${cell(f.checkId)} | ${cell(f.title)} |`)
      out.push('')
    }
  }

  out.push('## What was collected', '')
  const collected = r.records.filter((x) => x.outcome === 'collected')
  const byKind = new Map<string, {n: number; bytes: number; redactions: number}>()
  for (const x of collected) {
    const k = `${x.kind} (${x.method ?? 'copy'})`
    const v = byKind.get(k) ?? {n: 0, bytes: 0, redactions: 0}
    v.n++
    v.bytes += x.bundleSize ?? x.size ?? 0
    v.redactions += x.redactions ?? 0
    byKind.set(k, v)
  }
  out.push('| kind (method) | items | bytes | secrets masked |', '|---|---:|---:|---:|')
  for (const [k, v] of [...byKind].sort()) out.push(`| ${k} | ${v.n} | ${v.bytes} | ${v.redactions || ''} |`)
  out.push(
    '',
    'Every item, with its SHA-256, mode, times and outcome, is in `case.json`; `manifest-sha256.txt` hashes every bundled file (`sha256sum -c manifest-sha256.txt` inside the bundle root, or `ir verify <archive>`).',
    '',
  )

  out.push('## What was not collected, and why', '')
  const not = r.records.filter((x) => x.outcome !== 'collected')
  if (not.length === 0) out.push('Everything found was collected.', '')
  else {
    const counts = ['skipped', 'missing', 'failed']
      .map((o) => `${not.filter((x) => x.outcome === o).length} ${o}`)
      .join(', ')
    out.push(`${counts}.`, '', '| outcome | item | why |', '|---|---|---|')
    for (const x of not.slice(0, MAX_NOT_COLLECTED))
      out.push(
        `| ${x.outcome} | \`${cell(x.path)}\` | ${cell(x.error ?? x.reason)}${x.linkTarget ? ` → \`${cell(x.linkTarget)}\`` : ''} |`,
      )
    if (not.length > MAX_NOT_COLLECTED) out.push('', `(${not.length - MAX_NOT_COLLECTED} more in case.json)`)
    out.push('')
  }
  const ns = r.notScanned ?? []
  if (ns.length) {
    out.push('## Collected but not (fully) scanned', '', '| item | why |', '|---|---|')
    for (const x of ns.slice(0, 50)) out.push(`| \`${cell(x.path)}\` | ${cell(x.reason)} |`)
    if (ns.length > 50) out.push('', `(${ns.length - 50} more in case.json \`scan.notScanned\`)`)
    out.push('')
  }
  return out.join('\n')
}

function incidentSections(i: Incident, cell: (s: unknown) => string): string[] {
  const out: string[] = ['## Next steps', '']
  i.nextSteps.forEach((s, n) => out.push(`${n + 1}. ${s}`))
  out.push('', '## Timeline (UTC): sessions, logs and the audit ledger', '')
  if (i.timeline.length === 0) out.push('No timed event: nothing suspicious, and no audit ledger.', '')
  else {
    out.push('| time (UTC) | source | channel | sender | owner | kind | what | finding | where |')
    out.push('|---|---|---|---|---|---|---|---|---|')
    for (const e of i.timeline)
      out.push(
        `| ${e.time} | ${e.source} | ${cell(e.channel)} | ${cell(e.sender)} | ${e.owner === undefined ? '' : e.owner ? 'yes' : '**no**'} | ${cell(e.kind)} | ${cell(e.what)} | ${e.severity ? `${e.severity} ${cell(e.ruleId)}` : ''} | \`${cell(e.where)}\` |`,
      )
    if (i.timelineCut) out.push('', `(${i.timelineCut} more events in findings/findings.jsonl and derived/audit/)`)
    out.push('')
  }
  out.push('## Entry points (untrusted input at the start of a chain) and what the agent did next', '')
  if (i.entryPoints.length === 0) out.push('No injected instruction from an untrusted source was found.', '')
  for (const e of i.entryPoints) {
    const from = [e.channel, e.sender && `from ${e.sender}`, e.owner === false ? '(not the owner)' : ''].filter(Boolean)
    out.push(
      `- **${e.severity}** ${cell(e.title)} — ${e.time ?? 'time unknown'} ${from.join(' ')} at \`${cell(e.where)}\``,
    )
    out.push(`  - input: ${cell(e.excerpt)}`)
    for (const a of e.after) out.push(`  - then: ${cell(a)}`)
  }
  out.push('', '## Blast radius: secrets seen exposed or read, and what to rotate', '')
  if (i.secrets.length === 0) out.push('No secret was seen exposed in the scanned transcripts, logs and stores.', '')
  else {
    out.push('| fingerprint | secret | seen in | where | times | rotate |', '|---|---|---|---|---:|---|')
    for (const s of i.secrets)
      out.push(
        `| ${s.fingerprint} | ${cell(s.masked)} (${cell(s.rule)}) | ${s.seen.join(', ')} | ${s.where.map((w) => `\`${cell(w)}\``).join(', ')} | ${s.count} | ${cell(s.rotate)} |`,
      )
    out.push('')
  }
  out.push(`## Findings (${i.total}), grouped, most severe first`, '')
  if (i.groups.length) {
    out.push('| severity | finding | rule | count | first | last | where |', '|---|---|---|---:|---|---|---|')
    for (const g of i.groups)
      out.push(
        `| ${g.severity} | ${cell(g.title)} | ${cell(g.ruleId)} | ${g.count} | ${g.first ?? ''} | ${g.last ?? ''} | ${g.where.map((w) => `\`${cell(w)}\``).join(', ')} |`,
      )
    out.push('')
  }
  return out
}
