import {statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {getPath, type JsonObject} from './config.js'
import {safeReaddir} from '../system/safe-fs.js'

/** Files OpenClaw writes that responders must keep: config history and gateway logs. */

/** The config and its .bak / .bak.N / .last-good / .rejected.* siblings. */
export function configHistoryFiles(configPath: string): string[] {
  const dir = path.dirname(configPath)
  const base = path.basename(configPath)
  const siblings = safeReaddir(dir).filter(
    (n) =>
      n.startsWith(`${base}.`) && /^\.(bak(\.\d+)?|last-good|rejected\..+|clobbered\..+)$/.test(n.slice(base.length)),
  )
  return [configPath, ...siblings.sort().map((n) => path.join(dir, n))].filter(isFile)
}

/** Gateway file logs: logging.file, /tmp/openclaw/openclaw[-<profile>]-*.log, the uid fallback dir, <state>/logs. */
export function gatewayLogFiles(
  stateDir: string,
  config: JsonObject | undefined,
  opts: {uid?: number; tmpDir?: string} = {},
): string[] {
  const uid = opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0)
  const files = new Set<string>()
  const configured = config ? getPath(config, ['logging', 'file']) : undefined
  if (typeof configured === 'string' && configured) {
    files.add(path.resolve(configured))
    // Rolling names next to a configured file.
    const dir = path.dirname(path.resolve(configured))
    const stem = path.basename(configured).replace(/\.log$/, '')
    for (const n of safeReaddir(dir)) if (n.startsWith(stem) && n.endsWith('.log')) files.add(path.join(dir, n))
  }
  for (const dir of ['/tmp/openclaw', path.join(opts.tmpDir ?? os.tmpdir(), `openclaw-${uid}`), '/tmp/clawdbot']) {
    for (const n of safeReaddir(dir))
      if (/^(openclaw|clawdbot)(-[a-z0-9-]+)?-\d{4}-\d{2}-\d{2}\.log$/.test(n)) files.add(path.join(dir, n))
  }
  for (const n of ['gateway.log', 'gateway.err.log', 'config-audit.jsonl', 'commands.log', 'gateway-restart.log']) {
    files.add(path.join(stateDir, 'logs', n))
  }
  return [...files].filter(isFile).sort()
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}
