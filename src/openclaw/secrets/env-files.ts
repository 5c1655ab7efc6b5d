import path from 'node:path'

import type {ServiceKind} from '../services.js'

/**
 * The environment files OpenClaw reads a secret from, parsed and rewritten as text (pure: text in,
 * text out): dotenv, systemd units, launchd plists and Windows gateway.cmd files.
 */

export interface EnvAssignment {
  name: string
  value: string
  line: number
}

/** dotenv lines: `NAME=value`, `export NAME=value`, quoted values, comments. */
export function parseEnvFile(text: string): EnvAssignment[] {
  const out: EnvAssignment[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(raw)
    if (!m) return
    out.push({name: m[1]!, value: unquote(m[2]!), line: i + 1})
  })
  return out
}

function unquote(v: string): string {
  const t = v.trim()
  const q = t[0]
  if ((q === '"' || q === "'" || q === '`') && t.lastIndexOf(q) > 0) return t.slice(1, t.lastIndexOf(q))
  return t.replace(/\s+#.*$/, '')
}

/** Every assignment of `name` gets `value`, keeping `export`, quotes and line endings. */
export function rewriteEnvFile(text: string, name: string, value: string): {text: string; count: number} {
  assertWritableValue(value, /['"\r\n\\]/, 'a .env line')
  let count = 0
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text.split(/\r?\n/).map((line) => {
    const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$/.exec(line)
    if (!m || m[2] !== name) return line
    count++
    const old = m[4]!.trim()
    const q = old[0] === '"' || old[0] === "'" ? old[0] : SAFE_BARE.test(value) ? '' : "'"
    const comment = old[0] === '"' || old[0] === "'" ? '' : (/\s+#.*$/.exec(old)?.[0] ?? '')
    return `${m[1]}${name}${m[3]}${q}${value}${q}${comment}`
  })
  return {text: lines.join(eol), count}
}

/** Characters a value may have to be written unquoted into a .env line. */
const SAFE_BARE = /^[A-Za-z0-9._~+/=:@,-]*$/

/** Values ir generates are URL-safe; a pasted one with syntax characters is refused, never mangled. */
function assertWritableValue(value: string, bad: RegExp, where: string): void {
  if (bad.test(value)) throw new Error(`the value contains characters that cannot be written safely into ${where}`)
}

/** systemd `Environment=` assignments (quoted or not) and `EnvironmentFile=` paths. */
export function parseSystemdEnv(text: string): {entries: EnvAssignment[]; envFiles: string[]} {
  const entries: EnvAssignment[] = []
  const envFiles: string[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    const env = /^\s*Environment\s*=\s*(.*)$/.exec(line)
    if (env) {
      for (const part of env[1]!.match(/"[^"]*"|'[^']*'|\S+/g) ?? []) {
        const kv = part.replace(/^["']|["']$/g, '')
        const eq = kv.indexOf('=')
        if (eq > 0) entries.push({name: kv.slice(0, eq), value: kv.slice(eq + 1), line: i + 1})
      }
    }
    const file = /^\s*EnvironmentFile\s*=\s*-?(.+?)\s*$/.exec(line)
    if (file && path.isAbsolute(file[1]!)) envFiles.push(file[1]!)
  })
  return {entries, envFiles}
}

export function rewriteSystemdEnv(text: string, name: string, value: string): {text: string; count: number} {
  assertWritableValue(value, /[\s"'%$\\]/, 'a systemd Environment= line')
  let count = 0
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text.split(/\r?\n/).map((line) => {
    const env = /^(\s*Environment\s*=\s*)(.*)$/.exec(line)
    if (!env) return line
    const rest = env[2]!.replace(
      /("|')?([A-Za-z_][A-Za-z0-9_]*)=([^"'\s]*)(\1)/g,
      (all, q: string | undefined, k: string, _v: string) => {
        if (k !== name) return all
        count++
        return `${q ?? ''}${k}=${value}${q ?? ''}`
      },
    )
    return env[1] + rest
  })
  return {text: lines.join(eol), count}
}

export function parsePlistEnv(text: string): EnvAssignment[] {
  const m = /<key>EnvironmentVariables<\/key>\s*<dict>([\s\S]*?)<\/dict>/.exec(text)
  if (!m) return []
  const before = text.slice(0, m.index).split('\n').length
  const out: EnvAssignment[] = []
  for (const e of m[1]!.matchAll(/<key>([^<]+)<\/key>\s*<string>([^<]*)<\/string>/g)) {
    out.push({name: e[1]!, value: xmlUnescape(e[2]!), line: before + m[1]!.slice(0, e.index).split('\n').length})
  }
  return out
}

export function rewritePlistEnv(text: string, name: string, value: string): {text: string; count: number} {
  assertWritableValue(value, /[<>&\r\n]/, 'a plist string')
  let count = 0
  const out = text.replace(
    /(<key>EnvironmentVariables<\/key>\s*<dict>)([\s\S]*?)(<\/dict>)/,
    (_all, a: string, body: string, c: string) =>
      a +
      body.replace(
        /(<key>([^<]+)<\/key>\s*<string>)([^<]*)(<\/string>)/g,
        (all, open: string, k: string, _v: string, close: string) => {
          if (k !== name) return all
          count++
          return `${open}${value}${close}`
        },
      ) +
      c,
  )
  return {text: out, count}
}

export function parseCmdEnv(text: string): EnvAssignment[] {
  const out: EnvAssignment[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^\s*set\s+"?([A-Za-z_][A-Za-z0-9_]*)=([^"\r\n]*)"?\s*$/i.exec(line)
    if (m) out.push({name: m[1]!, value: m[2]!, line: i + 1})
  })
  return out
}

export function rewriteCmdEnv(text: string, name: string, value: string): {text: string; count: number} {
  assertWritableValue(value, /["%^&|<>\r\n]/, 'a gateway.cmd set line')
  let count = 0
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text.split(/\r?\n/).map((line) =>
    line.replace(
      /^(\s*set\s+"?)([A-Za-z_][A-Za-z0-9_]*)=([^"\r\n]*)("?\s*)$/i,
      (all, a: string, k: string, _v: string, z: string) => {
        if (k !== name) return all
        count++
        return `${a}${k}=${value}${z}`
      },
    ),
  )
  return {text: lines.join(eol), count}
}

export function rewriteServiceEnv(
  kind: ServiceKind,
  text: string,
  name: string,
  value: string,
): {text: string; count: number} {
  return kind === 'systemd'
    ? rewriteSystemdEnv(text, name, value)
    : kind === 'launchd'
      ? rewritePlistEnv(text, name, value)
      : rewriteCmdEnv(text, name, value)
}

function xmlUnescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}
