import {CHAIN_RULE_ID} from './correlate.js'
import type {CompiledRule} from './rules.js'
import {SEVERITIES, SEVERITY_RANK} from './finding-types.js'
import type {Finding, FindingSource, ScanResult, Severity} from './finding-types.js'

/** Renderers for `ir scan --format`: plain strings, the command prints them. Excerpts are already masked. */

export const FORMATS = ['text', 'jsonl', 'sarif', 'md'] as const
export type ReportFormat = (typeof FORMATS)[number]

export interface ReportOptions {
  rules?: CompiledRule[]
  version?: string
}

export function render(format: ReportFormat, result: ScanResult, opts: ReportOptions = {}): string {
  switch (format) {
    case 'jsonl':
      return toJsonl(result)
    case 'sarif':
      return JSON.stringify(toSarif(result, opts), null, 2)
    case 'md':
      return toMarkdown(result)
    default:
      return toText(result)
  }
}

export function toJsonl(result: ScanResult): string {
  return result.findings.map((f) => JSON.stringify(f)).join('\n')
}

/** Where a finding is, in one short string: `file:line` or `store session seq`. */
export function where(f: Finding): string {
  return whereSource(f.source)
}

function whereSource(s: FindingSource): string {
  if (s.store) {
    const at = s.table && s.table !== 'transcript_events' ? `${s.table} row ${s.seq ?? '?'}` : `seq ${s.seq ?? '?'}`
    return `${s.store} ${s.sessionKey ?? s.sessionId ?? ''} ${at}`.replace(/\s+/g, ' ')
  }
  return s.line !== undefined ? `${s.file}:${s.line}` : s.file
}

interface Group {
  key: string
  label: string
  findings: Finding[]
  worst: number
}

/** Findings grouped by session (file or store+session), most severe group first. */
export function groupBySession(findings: Finding[]): Group[] {
  const groups = new Map<string, Group>()
  for (const f of findings) {
    const s = f.source
    const key = s.store ? `${s.store}\u0000${s.sessionId ?? s.table ?? ''}` : s.file
    const label = s.store
      ? `${s.store} — ${s.sessionKey ? `${s.sessionKey} (${s.sessionId ?? '?'})` : s.sessionId ? `session ${s.sessionId}` : (s.table ?? '')}`
      : `${s.file}${s.sessionId ? ` — session ${s.sessionId}` : ''}`
    let g = groups.get(key)
    if (!g) {
      g = {key, label: s.agentId ? `${label} [agent ${s.agentId}]` : label, findings: [], worst: 0}
      groups.set(key, g)
    }
    g.findings.push(f)
    g.worst = Math.max(g.worst, SEVERITY_RANK[f.severity])
  }
  const order = (f: Finding) => f.source.line ?? f.source.seq ?? 0
  for (const g of groups.values()) {
    g.findings.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || order(a) - order(b))
  }
  return [...groups.values()].sort((a, b) => b.worst - a.worst || a.label.localeCompare(b.label))
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const c = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>
  for (const f of findings) c[f.severity]++
  return c
}

export function summaryLine(result: ScanResult): string {
  const {files, events, bytes, skipped, suppressed} = result.scanned
  const c = countBySeverity(result.findings)
  const bySev = SEVERITIES.filter((s) => c[s] > 0)
    .map((s) => `${c[s]} ${s}`)
    .join(', ')
  return (
    `Scanned ${files} file(s), ${events.toLocaleString('en-US')} event(s), ${formatBytes(bytes)}: ` +
    `${result.findings.length} finding(s)${bySev ? ` (${bySev})` : ''}` +
    `${suppressed ? `, ${suppressed} in baseline` : ''}${skipped.length ? `; ${skipped.length} skipped` : ''}.`
  )
}

export function toText(result: ScanResult): string {
  const out: string[] = []
  for (const g of groupBySession(result.findings)) {
    out.push(g.label)
    for (const f of g.findings) {
      const at =
        f.source.line !== undefined
          ? `line ${f.source.line}`
          : f.source.seq !== undefined
            ? `${f.source.table === 'task_runs' ? 'row' : 'seq'} ${f.source.seq}`
            : ''
      const what = [f.kind, f.toolName].filter(Boolean).join(' ')
      out.push(`  ${f.severity.toUpperCase().padEnd(8)} ${at.padEnd(10)} ${what.padEnd(16)} ${f.ruleId}  ${f.title}`)
      out.push(`           ${f.excerpt}`)
      if (f.context) out.push(`           (${f.context})`)
      if (f.also) out.push(`           (also in ${f.also.map(whereSource).join('; ')})`)
    }
    out.push('')
  }
  if (result.scanned.skipped.length > 0) {
    out.push('Skipped or partly scanned:')
    for (const s of result.scanned.skipped) out.push(`  ${s.path}: ${s.reason}`)
    out.push('')
  }
  out.push(summaryLine(result))
  return out.join('\n')
}

export function toMarkdown(result: ScanResult): string {
  const c = countBySeverity(result.findings)
  const out = [
    '# ir scan report',
    '',
    summaryLine(result),
    '',
    '| severity | findings |',
    '|---|---|',
    ...SEVERITIES.map((s) => `| ${s} | ${c[s]} |`),
    '',
  ]
  for (const g of groupBySession(result.findings)) {
    out.push(`## ${mdText(g.label)}`, '')
    for (const f of g.findings) {
      out.push(
        `- **${f.severity}** \`${f.ruleId}\` — ${mdText(f.title)} (${mdText(where(f))}${f.toolName ? `, tool \`${f.toolName}\`` : ''})`,
      )
      out.push(`  - excerpt: ${codeSpan(f.excerpt)}`)
      if (f.context) out.push(`  - context: ${mdText(f.context)}`)
      if (f.also) out.push(`  - also in: ${f.also.map((a) => mdText(whereSource(a))).join('; ')}`)
      out.push(`  - fingerprint: \`${f.fingerprint}\``)
    }
    out.push('')
  }
  if (result.scanned.skipped.length > 0) {
    out.push('## Skipped', '')
    for (const s of result.scanned.skipped) out.push(`- ${codeSpan(s.path)}: ${mdText(s.reason)}`)
    out.push('')
  }
  return out.join('\n')
}

function mdText(s: string): string {
  return s.replace(/([\\`*_[\]<>|])/g, '\\$1')
}

function codeSpan(s: string): string {
  const ticks = '`'.repeat(Math.max(1, ...[...s.matchAll(/`+/g)].map((m) => m[0].length + 1)))
  return `${ticks} ${s} ${ticks}`
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
}
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
}

/** SARIF 2.1.0: one run, rules from the packs that fired, partialFingerprints = our fingerprint. */
export function toSarif(result: ScanResult, opts: ReportOptions = {}): object {
  const byId = new Map((opts.rules ?? []).map((r) => [r.id, r]))
  const ids = [...new Set(result.findings.map((f) => f.ruleId))].sort()
  const rules = ids.map((id) => {
    const r = byId.get(id)
    const sample = result.findings.find((f) => f.ruleId === id)!
    const title =
      r?.title ??
      (id === CHAIN_RULE_ID ? 'Untrusted input, then credential access, then an outbound call' : sample.title)
    return {
      id,
      name: id.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase()),
      shortDescription: {text: title},
      ...(r?.description ? {fullDescription: {text: r.description}} : {}),
      defaultConfiguration: {level: LEVEL[r?.severity ?? sample.severity]},
      properties: {
        category: r?.category ?? sample.category,
        'security-severity': SECURITY_SEVERITY[r?.severity ?? sample.severity],
        tags: ['security', r?.category ?? sample.category, ...(r?.tags ?? [])],
        ...(r?.attribution ? {source: r.attribution} : {}),
      },
    }
  })
  const results = result.findings.map((f) => {
    const s = f.source
    const region = s.line !== undefined ? {region: {startLine: s.line}} : {}
    return {
      ruleId: f.ruleId,
      ruleIndex: ids.indexOf(f.ruleId),
      level: LEVEL[f.severity],
      message: {text: `${f.title}: ${f.excerpt}${f.context ? ` (${f.context})` : ''}`},
      locations: [
        {
          physicalLocation: {artifactLocation: {uri: toUri(s.store ?? s.file)}, ...region},
          ...(s.sessionId || s.sessionKey
            ? {
                logicalLocations: [
                  {
                    name: s.sessionKey ?? s.sessionId,
                    kind: 'module',
                    fullyQualifiedName: [s.sessionKey, s.sessionId, s.seq !== undefined ? `seq ${s.seq}` : undefined]
                      .filter(Boolean)
                      .join(' '),
                  },
                ],
              }
            : {}),
        },
      ],
      ...(f.also
        ? {
            relatedLocations: f.also.map((a, i) => ({
              id: i + 1,
              physicalLocation: {
                artifactLocation: {uri: toUri(a.store ?? a.file)},
                ...(a.line !== undefined ? {region: {startLine: a.line}} : {}),
              },
              message: {text: `same event: ${whereSource(a)}`},
            })),
          }
        : {}),
      partialFingerprints: {'irFingerprint/v1': f.fingerprint},
      properties: {
        severity: f.severity,
        category: f.category,
        kind: f.kind,
        toolName: f.toolName,
        seq: s.seq,
        table: s.table,
        ...(f.secret ? {secret: f.secret} : {}),
        ...(f.chain ? {chain: f.chain} : {}),
      },
    }
  })
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'ir',
            fullName: 'ir scan (OpenClaw incident response)',
            version: opts.version ?? '0.0.0',
            rules,
          },
        },
        results,
        properties: {
          scanned: {files: result.scanned.files, events: result.scanned.events, bytes: result.scanned.bytes},
          skipped: result.scanned.skipped,
        },
      },
    ],
  }
}

function toUri(p: string): string {
  return p.split(/[\\/]/).map(encodeURIComponent).join('/')
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}
