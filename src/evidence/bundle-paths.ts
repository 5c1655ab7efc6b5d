import path from 'node:path'

/**
 * Names inside the bundle. One manifest must satisfy `sha256sum -c` (which escapes names with a
 * backslash or newline) and stay readable, so every byte outside printable ASCII, and `\` and
 * `%`, is percent-encoded; the original source path is kept in case.json.
 */
export function safeName(p: string): string {
  let out = ''
  for (const byte of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(byte)
    out +=
      byte < 0x20 || byte > 0x7e || c === '\\' || c === '%' ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : c
  }
  return out
}

/** evidence/state/<path relative to the state dir>, or evidence/external/<absolute path>. */
export function evidencePath(file: string, stateDir: string): string {
  const rel = path.relative(stateDir, file)
  const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
  return inside
    ? posix(path.join('evidence', 'state', safeName(rel)))
    : posix(path.join('evidence', 'external', safeName(file.replace(/^\/+/, ''))))
}

/** Path relative to the state dir (POSIX separators), undefined when outside it. */
export function stateRel(file: string, stateDir: string): string | undefined {
  const rel = path.relative(stateDir, file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? posix(rel) : undefined
}

export function posix(p: string): string {
  return p.split(path.sep).join('/')
}

/** `<case>-<host>-<UTC yyyymmddThhmmssZ>`: the archive's root folder and base name. */
export function bundleName(caseId: string, host: string, at: Date): string {
  const t = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const h = host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host'
  return `${caseId}-${h}-${t}`
}
