import type {JsonObject} from '../openclaw/config.js'
import {sortFindings} from '../detect/scanner.js'
import type {Finding} from '../detect/finding-types.js'
import type {StagedFile} from './acquire.js'
import type {ItemRecord} from './collect-types.js'
import {buildIncident, readAuditExports, type ReportInput, rotationScopes} from './incident.js'
import {renderHtml} from './report-html.js'
import {renderMarkdown} from './report-markdown.js'

/**
 * The findings part of a bundle: findings.jsonl (one line per finding, duplicates merged, most
 * severe first) and the incident report (report.md, report.html) built from them and the audit
 * ledger; all of it through the redactor unless secrets are included.
 */

export interface FindingsFilesInput {
  report: Omit<ReportInput, 'findings'>
  findings: Finding[]
  /** Staged audit-ledger exports (derived/audit/…). */
  auditFiles: string[]
  config?: JsonObject
  /** Masks known secret values and rule-recognized secrets; none with --include-secrets. */
  redact?: (text: string) => string
  writeGenerated: (bundlePath: string, text: string) => Promise<StagedFile>
}

export async function writeFindingsFiles(i: FindingsFilesInput): Promise<{findings: Finding[]; records: ItemRecord[]}> {
  const seen = new Set<string>()
  const unique: Finding[] = []
  for (const f of sortFindings(i.findings)) {
    if (seen.has(f.fingerprint)) continue
    seen.add(f.fingerprint)
    unique.push(i.redact ? (JSON.parse(i.redact(JSON.stringify(f))) as Finding) : f)
  }
  const records: ItemRecord[] = []
  const jsonl = unique.map((f) => JSON.stringify(f)).join('\n') + (unique.length ? '\n' : '')
  const a = await i.writeGenerated('findings/findings.jsonl', jsonl)
  records.push(generated('findings', 'findings/findings.jsonl', a))
  const incident = buildIncident(
    {...i.report, findings: unique},
    await readAuditExports(i.auditFiles),
    rotationScopes(i.config),
  )
  // one Incident, two renderings; both through the redactor (no known value in clear)
  for (const [name, text] of [
    ['findings/report.md', renderMarkdown(incident)],
    ['findings/report.html', renderHtml(incident)],
  ] as const) {
    const b = await i.writeGenerated(name, i.redact ? i.redact(text) : text)
    records.push(generated(name.endsWith('.html') ? 'report (HTML)' : 'report', name, b))
  }
  return {findings: unique, records}
}

function generated(what: string, bundlePath: string, s: StagedFile): ItemRecord {
  return {
    path: what,
    kind: 'report',
    outcome: 'collected',
    method: 'generated',
    bundlePath,
    sha256: s.sha256,
    size: s.size,
  }
}

/** One entry per path and reason. */
export function dedupeSkipped<T extends {path: string; reason: string}>(items: T[]): T[] {
  const seen = new Set<string>()
  return items.filter((i) => {
    const k = `${i.path}\0${i.reason}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
