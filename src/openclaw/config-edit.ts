import {readFileSync} from 'node:fs'
import {createTwoFilesPatch} from 'diff'
import {applyEdits, findNodeAtLocation, modify, parse as parseJsonc, parseTree, type ParseError} from 'jsonc-parser'
import JSON5 from 'json5'

import {ExitCode, IrError} from '../errors.js'
import type {FileChanger} from '../system/file-changer.js'
import type {ProcessRunner} from '../system/process-runner.js'
import {fingerprint, maskSecret} from '../system/secret-vocabulary.js'
import {getPath, isObject, loadConfig, parseJson5, type LoadedConfig} from './config.js'
import {findOpenClawCli} from './version.js'

/**
 * Careful config edits: the user's comments and formatting are kept wherever the file is JSONC
 * (OpenClaw's own writer drops them); keys that live in a $include'd file are edited there; the
 * write is atomic, keeps the mode, is backed up in the case first, re-parsed, and validated by
 * `openclaw config validate` when a CLI is found. A failed validation puts the original bytes back.
 */

export interface ConfigEdit {
  path: string[]
  /** undefined with remove: true deletes the key. */
  value?: unknown
  remove?: boolean
  /** Secret values are shown as fingerprints in diffs and the journal. */
  secret?: boolean
}

export interface FileEdit {
  file: string
  before: string
  after: string
  mode: number
  /** Unified diff with secret values masked. */
  diff: string[]
  commentsKept: boolean
}

export interface EditPlan {
  files: FileEdit[]
  edits: ConfigEdit[]
}

/** A string value whose key names a secret: `"botToken": "…"`, `password: '…'`. */
const SECRET_VALUE =
  /((?:["']?)[A-Za-z0-9_]*(?:token|password|secret|apikey|api_key|privatekey)[A-Za-z0-9_]*["']?\s*:\s*)(["'])((?:(?!\2).)+)\2/gi

export function planConfigEdit(loaded: LoadedConfig, edits: ConfigEdit[]): EditPlan {
  const byFile = new Map<string, {text: string; mode: number; edits: Array<ConfigEdit & {rel: string[]}>}>()
  for (const edit of edits) {
    const {file, rel} = fileHolding(loaded, edit.path)
    if (!byFile.has(file)) {
      const text = file === loaded.path ? loaded.text : readFileSync(file, 'utf8')
      byFile.set(file, {text, mode: file === loaded.path ? loaded.mode : 0o600, edits: []})
    }
    byFile.get(file)!.edits.push({...edit, rel})
  }
  const files: FileEdit[] = []
  const secrets = edits.filter((e) => e.secret && typeof e.value === 'string').map((e) => e.value as string)
  for (const [file, {text, mode, edits: fileEdits}] of byFile) {
    const {after, commentsKept} = rewrite(text, file, fileEdits)
    if (after === text) continue
    files.push({file, before: text, after, mode, commentsKept, diff: maskedDiff(file, text, after, secrets)})
  }
  return {files, edits}
}

/** Which file holds a key: the root when it sets it (siblings override includes), else the include that does. */
function fileHolding(loaded: LoadedConfig, keyPath: string[]): {file: string; rel: string[]} {
  const rootRaw = parseJson5(loaded.text, loaded.path)
  if (getPath(rootRaw, keyPath) !== undefined) return {file: loaded.path, rel: keyPath}
  for (const inc of [...loaded.includes].reverse()) {
    if (!startsWith(keyPath, inc.at)) continue
    const raw = parseJson5(readFileSync(inc.file, 'utf8'), inc.file)
    if (getPath(raw, keyPath.slice(inc.at.length)) !== undefined) {
      if (isObject(raw)) return {file: inc.file, rel: keyPath.slice(inc.at.length)}
    }
  }
  return {file: loaded.path, rel: keyPath}
}

function rewrite(
  text: string,
  file: string,
  edits: Array<ConfigEdit & {rel: string[]}>,
): {after: string; commentsKept: boolean} {
  const errors: ParseError[] = []
  parseJsonc(text, errors, {allowTrailingComma: true, disallowComments: false})
  if (errors.length === 0) {
    let out = text
    const indent = /\n([ \t]+)"/.exec(text)?.[1]
    const formattingOptions = {
      insertSpaces: !indent?.startsWith('\t'),
      tabSize: indent && !indent.startsWith('\t') ? indent.length : 2,
      eol: text.includes('\r\n') ? '\r\n' : '\n',
    }
    for (const e of edits)
      out = applyEdits(out, modify(out, jsonPath(out, e.rel), e.remove ? undefined : e.value, {formattingOptions}))
    return {after: out, commentsKept: true}
  }
  // JSON5 beyond JSONC (unquoted keys, single quotes…): values are kept, comments cannot be.
  const value = parseJson5(text, file)
  for (const e of edits) setPath(value, e.rel, e.remove ? undefined : e.value, Boolean(e.remove))
  return {after: JSON5.stringify(value, null, 2) + '\n', commentsKept: !/\/\/|\/\*/.test(text)}
}

/** jsonc-parser wants array indexes as numbers ("0" under an array fails); object keys stay strings. */
function jsonPath(text: string, keys: string[]): Array<string | number> {
  let node = parseTree(text, [], {allowTrailingComma: true})
  return keys.map((k) => {
    const seg = node?.type === 'array' && /^\d+$/.test(k) ? Number(k) : k
    node = node ? findNodeAtLocation(node, [seg]) : undefined
    return seg
  })
}

function setPath(root: unknown, keys: string[], value: unknown, remove: boolean): void {
  let cur = root as Record<string, unknown>
  for (const k of keys.slice(0, -1)) {
    if (!isObject(cur[k]) && !Array.isArray(cur[k])) cur[k] = {}
    cur = cur[k] as Record<string, unknown>
  }
  const last = keys.at(-1)!
  if (remove) delete cur[last]
  else cur[last] = value
}

function startsWith(a: string[], prefix: string[]): boolean {
  return prefix.length <= a.length && prefix.every((k, i) => a[i] === k)
}

export function maskedDiff(file: string, before: string, after: string, secrets: string[] = []): string[] {
  const mask = (s: string) => maskSecrets(s, secrets)
  return createTwoFilesPatch(file, file, mask(before), mask(after), '', '', {context: 2})
    .split('\n')
    .slice(2)
    .filter((l) => l !== '')
}

/** Secret-looking values become «sha256:xxxxxxxx» fingerprints (matchable, not usable). */
export function maskSecrets(text: string, known: string[] = []): string {
  let out = text
  for (const s of known) if (s) out = out.split(s).join(fingerprintMark(s))
  return out.replace(
    SECRET_VALUE,
    (_m, key: string, q: string, v: string) =>
      `${key}${q}${v.startsWith('«') || /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(v) ? v : fingerprintMark(v)}${q}`,
  )
}

export {fingerprint}
const fingerprintMark = (secret: string) => maskSecret(secret)

export interface ApplyEditOptions {
  /** The case: backs up and journals each write before it happens. */
  case: FileChanger
  runner: ProcessRunner
  env: NodeJS.ProcessEnv
  stateDir: string
  configPath: string
  step: string
  /** Validate with `openclaw config validate` when a CLI is found (default true). */
  validateWithCli?: boolean
}

export interface AppliedEdit {
  files: Array<{path: string; sha256Before: string; sha256After: string}>
  validatedBy: 're-parse' | 'openclaw config validate'
}

export async function applyConfigEdit(plan: EditPlan, opts: ApplyEditOptions): Promise<AppliedEdit> {
  const written: Array<{file: FileEdit; sha256Before?: string; sha256After: string}> = []
  // A rollback is one more logged write, so the case's change history stays a chain (undo checks it).
  const restore = () => {
    for (const w of written.reverse()) opts.case.writeFile(w.file.file, w.file.before, `${opts.step} (rolled back)`)
  }
  try {
    for (const f of plan.files) {
      const current = readFileSync(f.file, 'utf8')
      if (current !== f.before) {
        throw new IrError(
          `${f.file} changed since the plan was made.`,
          ExitCode.PreconditionFailed,
          ['Re-run to plan against the current file.'],
          'CONFIG_CHANGED',
        )
      }
      written.push({file: f, ...opts.case.writeFile(f.file, f.after, opts.step)})
    }
    const reread = loadConfig(opts.configPath, {env: opts.env})
    for (const e of plan.edits) {
      const got = getPath(reread.value, e.path)
      if (e.remove ? got !== undefined : JSON.stringify(got) !== JSON.stringify(e.value)) {
        throw new IrError(
          `Re-reading ${opts.configPath}: ${e.path.join('.')} does not hold the new value.`,
          ExitCode.Failure,
          ['The original bytes were put back.'],
          'CONFIG_VERIFY',
        )
      }
    }
    let validatedBy: AppliedEdit['validatedBy'] = 're-parse'
    const cli = opts.validateWithCli === false ? undefined : findOpenClawCli(opts.env)
    if (cli) {
      const env = {...opts.env, OPENCLAW_STATE_DIR: opts.stateDir, OPENCLAW_CONFIG_PATH: opts.configPath, NO_COLOR: '1'}
      const r = await opts.runner.run(cli.command, [...cli.args, 'config', 'validate'], {env, timeoutMs: 60_000})
      if (r.exitCode !== 0) {
        const why = maskSecrets((r.stderr || r.stdout).split('\n').find((l) => l.trim()) ?? `exit ${r.exitCode}`)
        throw new IrError(
          `openclaw config validate rejected the edited config: ${why.trim()}`,
          ExitCode.Failure,
          ['The original bytes were put back; the change was not applied.'],
          'CONFIG_REJECTED',
        )
      }
      validatedBy = 'openclaw config validate'
    }
    return {
      files: written.map((w) => ({path: w.file.file, sha256Before: w.sha256Before ?? '', sha256After: w.sha256After})),
      validatedBy,
    }
  } catch (err) {
    restore()
    throw err
  }
}
