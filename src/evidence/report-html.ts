import {SEVERITIES, type Severity} from '../detect/finding-types.js'
import type {Incident, TimelineEntry} from './incident.js'

/**
 * findings/report.html: the same Incident as report.md, for a browser: one self-contained file
 * (inline CSS and SVG, no script, no font, no network), opened from the bundle. Every text is
 * HTML-escaped; the counts carry data attributes so a test can compare them with findings.jsonl.
 */

const COLOR: Record<Severity, string> = {
  critical: '#b00020',
  high: '#e65100',
  medium: '#f9a825',
  low: '#1e88e5',
  info: '#78909c',
}
const LANES: Array<TimelineEntry['source']> = ['session', 'log', 'store', 'audit']

export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

export function renderHtml(i: Incident): string {
  const r = i.input
  const title = `Incident report — case ${r.caseId}`
  const body = [
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">Host <b>${esc(r.host)}</b> · collected ${esc(r.startedAt.toISOString())} → ${esc(r.endedAt.toISOString())} (UTC) · state dir <code>${esc(r.stateDir)}</code> · era <b>${esc(r.era)}</b> · gateway at collection <b>${esc(r.gateway?.state ?? 'unknown')}</b>${r.gateway?.pid ? ` (pid ${esc(r.gateway.pid)})` : ''} · secrets ${r.includeSecrets ? '<b class="warn">INCLUDED</b>' : 'masked'}</p>`,
    counts(i),
    section('Next steps', `<ol>${i.nextSteps.map((s) => `<li>${code(s)}</li>`).join('')}</ol>`),
    section('Timeline (UTC): sessions, logs and the audit ledger', timelineSvg(i.timeline) + timelineTable(i)),
    section('Entry points and what the agent did next', entryPoints(i)),
    section('Blast radius: secrets seen exposed or read, and what to rotate', blastRadius(i)),
    section(`Findings (${i.total}), grouped, most severe first`, groups(i)),
    section('Exposure at collection time', exposure(i)),
    `<p class="foot">Every file of the bundle is hashed in <code>manifest-sha256.txt</code>; every item with its outcome is in <code>case.json</code>; all findings are in <code>findings/findings.jsonl</code>. Check the bundle with <code>ir verify</code>.</p>`,
  ].join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style></head>
<body>
${body}
</body></html>
`
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#1a1a1a;padding:0 16px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta,.foot{color:#555}.warn{color:#b00020}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;padding:1px 3px;border-radius:3px;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{border:1px solid #e0e0e0;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#fafafa}.n{text-align:right}
.counts{display:flex;gap:10px;flex-wrap:wrap;margin:14px 0}
.count{border-radius:6px;padding:8px 14px;color:#fff;min-width:90px}.count b{display:block;font-size:22px}
.sev{display:inline-block;border-radius:3px;color:#fff;padding:0 5px;font-size:11.5px}
.not-owner{color:#b00020;font-weight:600}svg{background:#fcfcfc;border:1px solid #e0e0e0;margin:6px 0}
`

function section(h: string, html: string): string {
  return `<h2>${esc(h)}</h2>\n${html}`
}

/** `backticks` in a generated sentence → <code>. */
function code(s: string): string {
  return esc(s).replace(/`([^`]+)`/g, '<code>$1</code>')
}

function sev(s: Severity | undefined): string {
  return s ? `<span class="sev" style="background:${COLOR[s]}">${s}</span>` : ''
}

function counts(i: Incident): string {
  const tiles = [
    `<div class="count" style="background:#37474f" data-count="total">findings<b>${i.total}</b></div>`,
    ...SEVERITIES.map(
      (s) => `<div class="count" style="background:${COLOR[s]}" data-count="${s}">${s}<b>${i.bySeverity[s]}</b></div>`,
    ),
    `<div class="count" style="background:#5d4037" data-count="secrets">secrets exposed<b>${i.secrets.length}</b></div>`,
    `<div class="count" style="background:#455a64" data-count="entry-points">entry points<b>${i.entryPoints.length}</b></div>`,
  ]
  return `<div class="counts">${tiles.join('')}</div>`
}

/** One row per source, one dot per event, coloured by severity (audit events without a finding in grey). */
export function timelineSvg(entries: TimelineEntry[]): string {
  const width = 1160
  const left = 70
  const laneH = 34
  const top = 14
  const height = top + LANES.length * laneH + 30
  if (entries.length === 0) return ''
  const times = entries.map((e) => Date.parse(e.time))
  const t0 = Math.min(...times)
  const t1 = Math.max(...times)
  const span = Math.max(t1 - t0, 1)
  const x = (t: number) => left + ((t - t0) / span) * (width - left - 20)
  const parts: string[] = []
  LANES.forEach((lane, n) => {
    const y = top + n * laneH + laneH / 2
    parts.push(`<text x="4" y="${y + 4}" font-size="12" fill="#444">${lane}</text>`)
    parts.push(`<line x1="${left}" y1="${y}" x2="${width - 10}" y2="${y}" stroke="#e0e0e0"/>`)
  })
  // findings above audit events: drawn last
  const order = [...entries].sort((a, b) => Number(Boolean(a.severity)) - Number(Boolean(b.severity)))
  for (const e of order) {
    const lane = LANES.indexOf(e.source)
    const y = top + lane * laneH + laneH / 2
    const fill = e.severity ? COLOR[e.severity] : '#b0bec5'
    const rad = e.severity ? 6 : 3.5
    parts.push(
      `<circle cx="${x(Date.parse(e.time)).toFixed(1)}" cy="${y}" r="${rad}" fill="${fill}" fill-opacity="0.85"><title>${esc(`${e.time} ${e.kind}: ${e.what}${e.ruleId ? ` [${e.ruleId}]` : ''}`)}</title></circle>`,
    )
  }
  const axisY = top + LANES.length * laneH + 14
  for (const [t, anchor] of [
    [t0, 'start'],
    [t1, 'end'],
  ] as const)
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${axisY}" font-size="11" fill="#555" text-anchor="${anchor}">${esc(new Date(t).toISOString())}</text>`,
    )
  return `<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline">${parts.join('')}</svg>`
}

function timelineTable(i: Incident): string {
  if (i.timeline.length === 0) return '<p>No timed event: nothing suspicious, and no audit ledger.</p>'
  const rows = i.timeline.map(
    (e) =>
      `<tr><td>${esc(e.time)}</td><td>${esc(e.source)}</td><td>${esc(e.channel)}</td><td>${esc(e.sender)}</td><td>${e.owner === undefined ? '' : e.owner ? 'yes' : '<span class="not-owner">no</span>'}</td><td>${esc(e.kind)}</td><td>${esc(e.what)}</td><td>${sev(e.severity)} ${esc(e.ruleId)}</td><td><code>${esc(e.where)}</code></td></tr>`,
  )
  const cut = i.timelineCut ? `<p>${i.timelineCut} more events in findings/findings.jsonl and derived/audit/.</p>` : ''
  return `<table><tr><th>time (UTC)</th><th>source</th><th>channel</th><th>sender</th><th>owner</th><th>kind</th><th>what</th><th>finding</th><th>where</th></tr>${rows.join('')}</table>${cut}`
}

function entryPoints(i: Incident): string {
  if (i.entryPoints.length === 0) return '<p>No injected instruction from an untrusted source was found.</p>'
  return `<ul>${i.entryPoints
    .map(
      (e) =>
        `<li>${sev(e.severity)} <b>${esc(e.title)}</b> — ${esc(e.time ?? 'time unknown')} ${esc(e.channel)} ${e.sender ? `from ${esc(e.sender)}` : ''} ${e.owner === false ? '<span class="not-owner">(not the owner)</span>' : ''} at <code>${esc(e.where)}</code><br>input: <code>${esc(e.excerpt)}</code>${e.after.length ? `<ul>${e.after.map((a) => `<li>then: ${esc(a)}</li>`).join('')}</ul>` : ''}</li>`,
    )
    .join('')}</ul>`
}

function blastRadius(i: Incident): string {
  if (i.secrets.length === 0) return '<p>No secret was seen exposed in the scanned transcripts, logs and stores.</p>'
  const rows = i.secrets.map(
    (s) =>
      `<tr><td><code>${esc(s.fingerprint)}</code></td><td><code>${esc(s.masked)}</code> ${esc(s.rule)}</td><td>${esc(s.seen.join(', '))}</td><td>${s.where.map((w) => `<code>${esc(w)}</code>`).join('<br>')}</td><td class="n">${s.count}</td><td>${code(s.rotate)}</td></tr>`,
  )
  return `<table><tr><th>fingerprint</th><th>secret</th><th>seen in</th><th>where</th><th>times</th><th>rotate</th></tr>${rows.join('')}</table>`
}

function groups(i: Incident): string {
  if (i.groups.length === 0) return '<p>No finding.</p>'
  const rows = i.groups.map(
    (g) =>
      `<tr data-group-count="${g.count}"><td>${sev(g.severity)}</td><td>${esc(g.title)}</td><td><code>${esc(g.ruleId)}</code></td><td class="n">${g.count}</td><td>${esc(g.first)}</td><td>${esc(g.last)}</td><td>${g.where.map((w) => `<code>${esc(w)}</code>`).join('<br>')}</td></tr>`,
  )
  return `<table><tr><th>severity</th><th>finding</th><th>rule</th><th>count</th><th>first</th><th>last</th><th>where</th></tr>${rows.join('')}</table>`
}

function exposure(i: Incident): string {
  const items = i.input.exposure.filter((e) => e.severity !== 'info')
  if (items.length === 0) return '<p>Nothing exposed found in the config, file modes or service definitions.</p>'
  return `<table><tr><th>severity</th><th>check</th><th>what</th><th>where</th></tr>${items
    .map(
      (e) =>
        `<tr><td>${sev(e.severity)}</td><td><code>${esc(e.checkId)}</code></td><td>${esc(e.title)}</td><td><code>${esc(e.where)}</code></td></tr>`,
    )
    .join('')}</table>`
}
