/**
 * manifest-sha256.txt: GNU coreutils' untagged format, `<sha256>␠␠<path>`, one line per bundled
 * file except itself, paths relative to the bundle root — `sha256sum -c manifest-sha256.txt` passes
 * inside the extracted root (and the lines are also valid BagIt manifest lines).
 */

export const MANIFEST = 'manifest-sha256.txt'

export function manifestText(entries: Array<{bundlePath: string; sha256: string}>): string {
  const seen = new Set<string>()
  const lines: string[] = []
  for (const e of [...entries].sort((a, b) =>
    a.bundlePath < b.bundlePath ? -1 : a.bundlePath > b.bundlePath ? 1 : 0,
  )) {
    if (seen.has(e.bundlePath)) throw new Error(`duplicate bundle path ${e.bundlePath}`)
    if (/[\n\\]/.test(e.bundlePath)) throw new Error(`bundle path needs escaping: ${JSON.stringify(e.bundlePath)}`)
    seen.add(e.bundlePath)
    lines.push(`${e.sha256}  ${e.bundlePath}`)
  }
  return lines.join('\n') + '\n'
}

export interface ParsedManifest {
  entries: Map<string, string>
  problems: Array<{line: number; problem: string}>
}

export function parseManifest(text: string): ParsedManifest {
  const entries = new Map<string, string>()
  const problems: ParsedManifest['problems'] = []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((line, i) => {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line)
    if (!m) {
      problems.push({line: i + 1, problem: 'not a "<sha256>  <path>" line'})
      return
    }
    const p = m[2]!
    if (entries.has(p)) problems.push({line: i + 1, problem: `${p} is listed twice`})
    entries.set(p, m[1]!)
  })
  return {entries, problems}
}
