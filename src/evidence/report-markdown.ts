import {CATEGORIES, SEVERITIES, type Finding} from '../detect/types.js'
import type {ExposureItem} from '../openclaw/exposure.js'
import type {ItemRecord} from './collect-types.js'
import type {AuditOutcome, GatewayFacts} from './volatile.js'

/**
 * findings/report.md: what an analyst reads first. Summary by severity and category, a timeline
 * of suspicious events per session, the exposure summary (as `ir status` reports it) and
 * OpenClaw's own audit, what was collected, and what was not and why. Excerpts are the engine's
 * (secrets masked); the whole text is passed through the bundle's redactor before it is written.
 */

export interface ReportInput {
  caseId: string
  host: string
  startedAt: Date
  endedAt: Date
  stateDir: string
  configPath: string
  era: string
  versions: {installed?: string; config?: string; running?: string; stateDb?: string}
  gateway?: GatewayFacts
  exposure: ExposureItem[]
  audit?: AuditOutcome
  findings: Finding[]
  records: ItemRecord[]
  includeSecrets: boolean
  since?: Date
  /** Collected, but not (fully) scanned: empty files, non-JSON lines, truncated last lines, rejected rules. */
  notScanned?: Array<{path: string; reason: string}>
}

const MAX_TIMELINE = 400
const MAX_NOT_COLLECTED = 300

export function renderReport(r: ReportInput): string {
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
    `- Secrets: ${r.includeSecrets ? '**included** (--include-secrets): this bundle holds credentials in clear — handle it as a secret' : 'masked. Secret values appear as `prefix…[sha256:xxxxxxxx]` (configs: `«sha256:xxxxxxxxxxxx»`); the hash prefix matches the findings. Credential stores and raw SQLite files are listed with their SHA-256 but not included.'}`,
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

  out.push('## Timeline of suspicious events, by session', '')
  if (r.findings.length === 0) out.push('Nothing suspicious was found in the scanned transcripts, logs and stores.', '')
  const groups = new Map<string, Finding[]>()
  for (const f of r.findings) {
    const key = f.source.sessionId
      ? `${f.source.agentId ?? '?'} / ${f.source.sessionKey ?? f.source.sessionId}`
      : f.source.file
    const list = groups.get(key) ?? []
    list.push(f)
    groups.set(key, list)
  }
  let shown = 0
  for (const [key, list] of [...groups].sort((a, b) => rank(a[1]) - rank(b[1]))) {
    if (shown >= MAX_TIMELINE) break
    out.push(`### ${cell(key)}`, '')
    const first = list[0]!
    out.push(
      `Source: \`${first.source.file}\`${first.source.sessionId ? ` (session ${first.source.sessionId})` : ''}`,
      '',
    )
    out.push('| when | where | severity | rule | who | excerpt |', '|---|---|---|---|---|---|')
    for (const f of [...list].sort(byTime)) {
      if (shown++ >= MAX_TIMELINE) break
      const where =
        f.source.line !== undefined ? `line ${f.source.line}` : f.source.seq !== undefined ? `seq ${f.source.seq}` : ''
      const who = [f.role, f.toolName].filter(Boolean).join(' ')
      out.push(
        `| ${cell(f.timestamp ?? '')} | ${where} | ${f.severity} | ${cell(f.ruleId)} | ${cell(who)} | ${cell(f.excerpt).slice(0, 240)} |`,
      )
    }
    out.push('')
  }
  if (shown >= MAX_TIMELINE)
    out.push(`(timeline cut at ${MAX_TIMELINE} events: findings/findings.jsonl has all ${r.findings.length})`, '')

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

function rank(list: Finding[]): number {
  return Math.min(...list.map((f) => SEVERITIES.indexOf(f.severity)))
}

function byTime(a: Finding, b: Finding): number {
  const ta = a.timestamp ?? ''
  const tb = b.timestamp ?? ''
  if (ta !== tb) return ta < tb ? -1 : 1
  return (a.source.line ?? a.source.seq ?? 0) - (b.source.line ?? b.source.seq ?? 0)
}
