import {readFileSync, readdirSync} from 'node:fs'

/** Entries of a dir, sorted; [] when it is missing or unreadable (discovery probes many paths that need not exist). */
export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}

/** A file's text, or undefined when it is missing or unreadable. */
export function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
