import {readFileSync} from 'node:fs'
import {createTwoFilesPatch} from 'diff'
import {applyEdits, findNodeAtLocation, modify, parse as parseJsonc, parseTree, type ParseError} from 'jsonc-parser'
import JSON5 from 'json5'

import {ExitCode, IrError} from '../errors.js'
import type {FileChanger} from '../system/file-changer.js'
import type {ProcessRunner} from '../system/process-runner.js'
import {fingerprint, maskSecret, SECRET_KEY_NAME} from '../system/secret-vocabulary.js'
import {getPath, isObject, loadConfig, parseJson5, type LoadedConfig} from './config.js'
import {validateConfigWithCli} from './openclaw-cli.js'
import type {OpenClawCli} from './version.js'

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

const WORD_RUN = /[A-Za-z0-9_]+/g
const ENV_REF_VALUE = /^\$\{[A-Z_][A-Z0-9_]*\}$/

export function planConfigEdit(loaded: LoadedConfig, edits: ConfigEdit[]): EditPlan {
  const byFile = new Map<string, {text: string; mode: number; edits: Array<ConfigEdit & {rel: string[]}>}>()
  const raw = rawFiles(loaded)
  for (const edit of edits) {
    const {file, rel} = fileHolding(loaded, edit.path, raw)
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
function fileHolding(
  loaded: LoadedConfig,
  keyPath: string[],
  rawOf: (file: string) => unknown,
): {file: string; rel: string[]} {
  if (getPath(rawOf(loaded.path), keyPath) !== undefined) return {file: loaded.path, rel: keyPath}
  for (const inc of [...loaded.includes].reverse()) {
    if (!startsWith(keyPath, inc.at)) continue
    const raw = rawOf(inc.file)
    if (getPath(raw, keyPath.slice(inc.at.length)) !== undefined) {
      if (isObject(raw)) return {file: inc.file, rel: keyPath.slice(inc.at.length)}
    }
  }
  return {file: loaded.path, rel: keyPath}
}

/** Each file's own value (before $include merging), parsed once per plan. */
function rawFiles(loaded: LoadedConfig): (file: string) => unknown {
  const cache = new Map<string, unknown>()
  return (file) => {
    if (!cache.has(file))
      cache.set(file, parseJson5(file === loaded.path ? loaded.text : readFileSync(file, 'utf8'), file))
    return cache.get(file)
  }
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
  if (!keys.some((k) => /^\d+$/.test(k))) return keys
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

/** What an operator is shown of one diff: long lines cut, long diffs cut (the case keeps the backup). */
const DIFF_LINE_CHARS = 240
const DIFF_LINES = 400

export function maskedDiff(file: string, before: string, after: string, secrets: string[] = []): string[] {
  const mask = (s: string) => maskSecrets(s, secrets)
  const lines = createTwoFilesPatch(file, file, mask(before), mask(after), '', '', {context: 2})
    .split('\n')
    .slice(2)
    .filter((l) => l !== '')
  const cut = lines
    .slice(0, DIFF_LINES)
    .map((l) =>
      l.length > DIFF_LINE_CHARS ? `${l.slice(0, DIFF_LINE_CHARS)}… (${l.length - DIFF_LINE_CHARS} more chars)` : l,
    )
  if (lines.length > DIFF_LINES) cut.push(`… (${lines.length - DIFF_LINES} more diff lines)`)
  return cut
}

/**
 * Secret-looking values become «sha256:xxxxxxxx» fingerprints (matchable, not usable): every known
 * secret, and every one-line quoted value after a key that names a secret (`"botToken": "…"`,
 * `password: '…'`). One pass over the text, linear on any input (no backtracking regex).
 */
export function maskSecrets(text: string, known: string[] = []): string {
  let src = text
  for (const s of known) if (s) src = src.split(s).join(fingerprintMark(s))
  const parts: string[] = []
  const marks = new Map<string, string>()
  let copied = 0
  // Per quote char: no closing quote from this offset to the end of its line (so later tries there fail at once).
  const unclosedFrom: Record<string, number> = {'"': -1, "'": -1}
  const unclosedTo: Record<string, number> = {'"': -1, "'": -1}
  WORD_RUN.lastIndex = 0
  for (let m = WORD_RUN.exec(src); m; m = WORD_RUN.exec(src)) {
    if (!SECRET_KEY_NAME.test(m[0])) continue
    const value = quotedValueAfterKey(src, WORD_RUN.lastIndex, unclosedFrom, unclosedTo)
    if (!value) continue
    const v = src.slice(value.start, value.end)
    if (!v.startsWith('«') && !ENV_REF_VALUE.test(v)) {
      if (!marks.has(v)) marks.set(v, fingerprintMark(v))
      parts.push(src.slice(copied, value.start), marks.get(v)!)
    } else parts.push(src.slice(copied, value.end))
    copied = value.end
    WORD_RUN.lastIndex = value.end + 1
  }
  parts.push(src.slice(copied))
  return parts.join('')
}

/** After a key at `at`: an optional quote, `\s*:\s*`, a quote, a non-empty value on one line, the same quote. */
function quotedValueAfterKey(
  src: string,
  at: number,
  unclosedFrom: Record<string, number>,
  unclosedTo: Record<string, number>,
): {start: number; end: number} | undefined {
  let i = at
  if (src[i] === '"' || src[i] === "'") i++
  while (i < src.length && isSpace(src.charCodeAt(i))) i++
  if (src[i] !== ':') return undefined
  i++
  while (i < src.length && isSpace(src.charCodeAt(i))) i++
  const q = src[i]
  if (q !== '"' && q !== "'") return undefined
  const start = i + 1
  if (start >= unclosedFrom[q]! && start <= unclosedTo[q]!) return undefined
  for (let j = start; j < src.length; j++) {
    const c = src[j]
    if (c === q) return j > start ? {start, end: j} : undefined
    if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') {
      unclosedFrom[q] = start
      unclosedTo[q] = j
      return undefined
    }
  }
  unclosedFrom[q] = start
  unclosedTo[q] = src.length
  return undefined
}

/** What `\s` matches, for the common cases (space, tabs, line breaks, NBSP, BOM). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029
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
  /** The target's own CLI: it validates the result. Absent: only re-parsed (never "verified"). */
  cli?: OpenClawCli
}

export interface AppliedEdit {
  files: Array<{path: string; sha256Before: string; sha256After: string}>
  validatedBy: 're-parse' | 'openclaw config validate'
  /** Why OpenClaw's CLI gave no verdict (the edit stands, validated by re-parse only: not verified). */
  unconfirmed?: string
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
    let unconfirmed: string | undefined
    if (opts.cli) {
      const secrets = plan.edits.filter((e) => e.secret && typeof e.value === 'string').map((e) => e.value as string)
      const v = await validateConfigWithCli(opts.cli, {...opts, redact: (s) => maskSecrets(s, secrets)})
      // No verdict is not a rejection: the edit re-parsed, and the step says OpenClaw did not confirm it.
      if (!v.answered) unconfirmed = v.issues.join(' / ')
      else if (!v.ok) {
        throw new IrError(
          `openclaw config validate rejected the edited config: ${v.issues.join(' / ')} (openclaw ${opts.cli.version ?? '?'})`,
          ExitCode.Failure,
          ['The original bytes were put back; the change was not applied.'],
          'CONFIG_REJECTED',
        )
      } else validatedBy = 'openclaw config validate'
    }
    return {
      files: written.map((w) => ({path: w.file.file, sha256Before: w.sha256Before ?? '', sha256After: w.sha256After})),
      validatedBy,
      ...(unconfirmed ? {unconfirmed} : {}),
    }
  } catch (err) {
    restore()
    throw err
  }
}
