import type {CompiledRule} from '../src/detect/rules.js'

/**
 * The rule packs as a ripgrep patterns file (`rg -f`): what a responder would grep for by hand.
 * Rust's regex has no look-around: those groups are dropped (rg then matches a superset), and
 * JavaScript's \uXXXX / \u{X} escapes become \x{X}, \n (never inside an rg line match) \x{1}.
 * Case-insensitive rules get (?i).
 */
export function rgPatterns(rules: CompiledRule[]): string[] {
  const out: string[] = []
  for (const r of rules) {
    if (r.detector === 'external-boundary') {
      out.push('<<<(?:END_)?EXTERNAL_UNTRUSTED_CONTENT')
      continue
    }
    for (const re of r.patterns) {
      let src = stripLookaround(re.source)
        .replace(/\\u\{([0-9a-fA-F]+)\}/g, '\\x{$1}')
        .replace(/\\u([0-9a-fA-F]{4})/g, '\\x{$1}')
        .replace(/\\\//g, '/')
        // rg is line-oriented: a newline can never be inside a match (JSON escapes them anyway)
        .replace(/\\n/g, '\\x{1}')
      if (re.flags.includes('i')) src = `(?i)${src}`
      out.push(src)
    }
  }
  return out
}

function stripLookaround(src: string): string {
  let out = ''
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '\\') {
      out += src.slice(i, i + 2)
      i++
      continue
    }
    if (
      src.startsWith('(?=', i) ||
      src.startsWith('(?!', i) ||
      src.startsWith('(?<=', i) ||
      src.startsWith('(?<!', i)
    ) {
      let depth = 0
      for (; i < src.length; i++) {
        if (src[i] === '\\') {
          i++
          continue
        }
        if (src[i] === '(') depth++
        else if (src[i] === ')' && --depth === 0) break
      }
      continue
    }
    out += src[i]
  }
  return out
}
