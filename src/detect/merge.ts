import {SEVERITY_RANK} from './finding-types.js'
import type {Finding, FindingSource} from './finding-types.js'

/**
 * One finding per event, wherever it was stored: OpenClaw keeps the same message in more than one
 * place (a transcript row and its `task_runs` prompt, a JSONL transcript and its imported or
 * exported copy). Findings of one rule on the same text, in different files or tables, whose
 * sessions do not contradict each other, become one — the most severe — with the other places in
 * `also`. Two events of one store are never merged. The internal digest is dropped from all.
 */
export function mergeCopies(findings: Finding[]): Finding[] {
  const groups = new Map<string, Finding[]>()
  const out: Finding[] = []
  for (const f of findings) {
    const d = f.digest
    delete f.digest
    if (d === undefined) {
      out.push(f)
      continue
    }
    const g = groups.get(d)
    if (g) g.push(f)
    else groups.set(d, [f])
  }
  for (const g of groups.values()) {
    if (g.length === 1) {
      out.push(g[0]!)
      continue
    }
    // most severe first; ties by place, so the kept finding (and its fingerprint) is stable
    g.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || placeOf(a).localeCompare(placeOf(b)))
    const kept: Finding[] = []
    for (const f of g) {
      const into = kept.find((k) => sameEvent(k, f))
      if (!into) kept.push(f)
      else (into.also ??= []).push(f.source)
    }
    out.push(...kept)
  }
  return out
}

function placeOf(f: Finding): string {
  const s = f.source
  return `${s.store ?? s.file}\u0000${s.table ?? ''}\u0000${String(s.line ?? s.seq ?? '').padStart(12, '0')}`
}

const container = (s: FindingSource) => `${s.store ?? s.file}\u0000${s.table ?? ''}`

function sameEvent(a: Finding, b: Finding): boolean {
  const places = [a.source, ...(a.also ?? [])]
  if (places.some((s) => container(s) === container(b.source))) return false
  const x = a.source
  const y = b.source
  const clash = (p?: string, q?: string) => p !== undefined && q !== undefined && p !== q
  return !clash(x.agentId, y.agentId) && !clash(x.sessionId, y.sessionId) && !clash(x.sessionKey, y.sessionKey)
}
