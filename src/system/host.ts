import os from 'node:os'
import path from 'node:path'

/** The host facts path resolution depends on: a seam so tests never read the real home. */
export interface HostEnv {
  env: NodeJS.ProcessEnv
  homedir: string
  uid: number
}

export const realHost = (): HostEnv => ({
  env: process.env,
  homedir: os.homedir(),
  uid: typeof process.getuid === 'function' ? process.getuid() : 0,
})

/** OpenClaw's home: OPENCLAW_HOME (tilde-expanded) > HOME > USERPROFILE > os.homedir(). */
export function openclawHome(host: HostEnv): string {
  const {env} = host
  const explicit = env.OPENCLAW_HOME?.trim()
  if (explicit) return expandTilde(explicit, env.HOME || host.homedir)
  return env.HOME || env.USERPROFILE || host.homedir
}

export function expandTilde(p: string, home: string): string {
  if (p === '~') return home
  if (p.startsWith('~/')) return path.join(home, p.slice(2))
  return p
}
