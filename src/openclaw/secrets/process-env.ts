import {readFileSync, readlinkSync} from 'node:fs'

/** A running process's environment and working directory, from /proc (Linux; undefined elsewhere). */

export function processEnviron(pid: number): Record<string, string> | undefined {
  try {
    const env: Record<string, string> = {}
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = kv.indexOf('=')
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1)
    }
    return env
  } catch {
    return undefined
  }
}

export function processCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return undefined
  }
}
