import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {sha256} from '../case/journal.js'
import {loadConfig, type JsonObject} from '../openclaw/config.js'
import {maskSecrets} from '../openclaw/config-edit.js'
import {configHistoryFiles, gatewayLogFiles} from '../openclaw/files.js'
import type {ActionDefinition} from '../playbook/action-types.js'

const Params = z
  .object({
    /** Also keep the gateway's log files (deleted by OpenClaw after 24 h and on restart). */
    logs: z.boolean().default(true),
  })
  .strict()

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
    return {
      noop: files.length === 0,
      summary: files.length
        ? `preserve ${files.length} file(s) in the case`
        : 'nothing to preserve (no config or logs found)',
      lines: files,
      data: files,
    }
  },
  async apply(ctx, _params, plan) {
    const files = plan.data as string[]
    const dest = path.join(ctx.case.dir, 'evidence')
    const copied: Array<{
      path: string
      sha256: string
      role: 'collected'
      copy: string
      copySha256: string
      masked: boolean
    }> = []
    const failed: string[] = []
    const configFiles = new Set(configHistoryFiles(ctx.install.configPath))
    for (const file of files) {
      try {
        const bytes = readFileSync(file)
        const digest = sha256(bytes)
        // Configs hold secrets: the case keeps them masked (fingerprints); exact bytes go to backups/ only when ir
        // changes a file.
        const masked = configFiles.has(file)
        const content = masked ? Buffer.from(maskSecrets(bytes.toString('utf8'))) : bytes
        const target = evidenceTarget(dest, evidenceName(file, ctx.install.stateDir), sha256(content))
        mkdirSync(path.dirname(target), {recursive: true, mode: 0o700})
        const st = statSync(file)
        writeFileSync(target, content, {mode: 0o600})
        chmodSync(target, 0o600)
        utimesSync(target, st.atime, st.mtime)
        copied.push({
          path: file,
          sha256: digest,
          role: 'collected',
          copy: path.relative(ctx.case.dir, target),
          copySha256: sha256(content),
          masked,
        })
      } catch (err) {
        failed.push(`${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
    }
    const notCopied = failed.length ? `; not copied: ${failed.join('; ')}` : ''
    const nMasked = copied.filter((c) => c.masked).length
    return {
      detail: `${copied.length} file(s) copied into ${dest}${nMasked ? ` (${nMasked} config file(s) with secrets masked)` : ''}${notCopied}`,
      files: copied.map(({path: p, sha256: h, role}) => ({path: p, sha256: h, role})),
      data: {copied, failed},
    }
  },
  async verify(ctx, _params, _plan, applied) {
    const {copied, failed} = applied.data as {copied: Array<{copy: string; copySha256: string}>; failed: string[]}
    const bad = copied.filter((c) => sha256(readFileSync(path.join(ctx.case.dir, c.copy))) !== c.copySha256)
    return {
      ok: bad.length === 0 && failed.length === 0,
      detail: bad.length
        ? `${bad.length} copies differ`
        : failed.length
          ? `${failed.length} file(s) could not be read`
          : 'copies match their hashes',
    }
  },
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

function sources(stateDir: string, configPath: string, env: NodeJS.ProcessEnv, logs: boolean): string[] {
  let config: JsonObject | undefined
  try {
    config = loadConfig(configPath, {env}).value
  } catch {
    /* a broken config is still copied byte for byte below */
  }
  const files = new Set(configHistoryFiles(configPath))
  if (logs) for (const f of gatewayLogFiles(stateDir, config)) files.add(f)
  return [...files]
}

/** Path inside evidence/: relative to the state dir when inside it, else under external/. */
export function evidenceName(file: string, stateDir: string): string {
  const rel = path.relative(stateDir, file)
  return rel.startsWith('..') || path.isAbsolute(rel)
    ? path.join('external', file.replace(/^\/+/, ''))
    : path.join('state', rel)
}
