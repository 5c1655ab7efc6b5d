import path from 'node:path'

/** Directories whose mode must never change, whatever a config or flag says (ir chmods state dirs only). */
const SYSTEM_DIRS = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/lib',
  '/usr/local',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/share',
  '/var',
  '/var/lib',
  '/var/log',
  '/var/tmp',
  '/Users',
  '/Library',
  '/System',
  '/private',
  '/private/tmp',
  '/private/var',
]

/** A system directory, or one of the given homes (they hold far more than an OpenClaw install). */
export function isSystemPath(p: string, homes: string[] = []): boolean {
  const abs = path.resolve(p)
  return SYSTEM_DIRS.includes(abs) || homes.some((h) => h && path.resolve(h) === abs)
}
