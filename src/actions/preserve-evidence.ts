import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {sha256} from '../case/journal.js'
import {loadConfig, type JsonObject} from '../openclaw/config.js'
import {configHistoryFiles, gatewayLogFiles} from '../openclaw/files.js'
import type {ActionDefinition} from '../playbook/types.js'

const Params = z.object({
  /** Also keep the gateway's log files (deleted by OpenClaw after 24 h and on restart). */
  logs: z.boolean().default(true),
}).strict()

/**
 * Copy what containment would destroy or change into the case, hashed and journaled, before
 * anything is touched: config + history, config-audit.jsonl, gateway logs.
 */
export const preserveEvidence: ActionDefinition<z.infer<typeof Params>> = {
  name: 'preserve-evidence',
  description: 'Copy the config, its backups, config-audit.jsonl and gateway logs into the case (hashed).',
  params: Params,
  mutates: false,
  async plan(ctx, params) {
    const files = sources(ctx.install.stateDir, ctx.install.configPath, ctx.env, params.logs)
    return {noop: files.length === 0, summary: files.length ? `preserve ${files.length} file(s) in the case` : 'nothing to preserve (no config or logs found)', lines: files, data: files}
  },
  async apply(ctx, _params, plan) {
    const files = plan.data as string[]
    const dest = path.join(ctx.case.dir, 'evidence')
    const copied: Array<{path: string; sha256: string; role: 'collected'; copy: string}> = []
    const failed: string[] = []
    for (const file of files) {
      try {
        const digest = sha256(readFileSync(file))
        const target = evidenceTarget(dest, evidenceName(file, ctx.install.stateDir), digest)
        mkdirSync(path.dirname(target), {recursive: true, mode: 0o700})
        const st = statSync(file)
        copyFileSync(file, target)
        chmodSync(target, 0o600)
        utimesSync(target, st.atime, st.mtime)
        copied.push({path: file, sha256: sha256(readFileSync(target)), role: 'collected', copy: path.relative(ctx.case.dir, target)})
      } catch (err) {
        failed.push(`${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
    }
    const notCopied = failed.length ? `; not copied: ${failed.join('; ')}` : ''
    return {detail: `${copied.length} file(s) copied into ${dest}${notCopied}`, files: copied, data: {copied, failed}}
  },
  async verify(ctx, _params, _plan, applied) {
    const {copied, failed} = applied.data as {copied: Array<{path: string; sha256: string; copy: string}>; failed: string[]}
    const bad = copied.filter((c) => sha256(readFileSync(path.join(ctx.case.dir, c.copy))) !== c.sha256)
    return {ok: bad.length === 0 && failed.length === 0, detail: bad.length ? `${bad.length} copies differ` : failed.length ? `${failed.length} file(s) could not be read` : 'copies match their hashes'}
  },
}

function sources(stateDir: string, configPath: string, env: NodeJS.ProcessEnv, logs: boolean): string[] {
  let config: JsonObject | undefined
  try {
    config = loadConfig(configPath, {env}).value
  } catch { /* a broken config is still copied byte for byte below */ }
  const files = new Set(configHistoryFiles(configPath))
  if (logs) for (const f of gatewayLogFiles(stateDir, config)) files.add(f)
  return [...files]
}

/**
 * A rerun in the same case must not overwrite what an earlier run preserved (the config before
 * lockdown is the evidence): a file whose bytes changed since gets a hash-suffixed sibling.
 */
function evidenceTarget(dest: string, name: string, digest: string): string {
  const first = path.join(dest, name)
  if (!existsSync(first) || sha256(readFileSync(first)) === digest) return first
  return `${first}.${digest.slice(0, 12)}`
}

/** Path inside evidence/: relative to the state dir when inside it, else under external/. */
export function evidenceName(file: string, stateDir: string): string {
  const rel = path.relative(stateDir, file)
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.join('external', file.replace(/^\/+/, '')) : path.join('state', rel)
}
