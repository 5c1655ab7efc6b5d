import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'

import {parseDocument} from 'yaml'
import type {z} from 'zod'

import {ExitCode, IrError, errorMessage} from '../errors.js'
import {packageAsset} from '../system/package-assets.js'
import {PlaybookSchema, type Playbook} from './playbook-schema.js'
import type {ActionRegistry} from './action-types.js'

export interface PlaybookProblem {
  file: string
  step?: string
  field: string
  message: string
}

export class PlaybookError extends IrError {
  constructor(readonly problems: PlaybookProblem[]) {
    super(
      problems.map(formatProblem).join('; '),
      ExitCode.Usage,
      ['Fix the playbook, then check it with `ir playbook validate FILE`.'],
      'PLAYBOOK_INVALID',
    )
  }
}

export function formatProblem(p: PlaybookProblem): string {
  return `${p.file}${p.step ? ` step "${p.step}"` : ''}: ${p.field}: ${p.message}`
}

/** The shipped playbooks: <package root>/playbooks (same place from src/ and dist/src/). */
export function playbooksDir(): string {
  return packageAsset('playbooks')
}

export function listPlaybooks(actions: ActionRegistry): Array<{id: string; file: string; title: string}> {
  const dir = playbooksDir()
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const pb = loadPlaybook(path.join(dir, f), actions)
      return {id: pb.id, file: path.join(dir, f), title: pb.title}
    })
}

/** A shipped playbook id ("contain") or a path to a YAML file. */
export function resolvePlaybook(ref: string): string {
  if (/\.ya?ml$/.test(ref) || ref.includes('/')) return path.resolve(ref)
  return path.join(playbooksDir(), `${ref}.yaml`)
}

/** Load and validate: YAML syntax, schema, every action known, every `with` checked by the action's own schema. */
export function loadPlaybook(file: string, actions: ActionRegistry): Playbook {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new IrError(
      `Playbook ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}).`,
      ExitCode.Usage,
      ['`ir playbook list` shows the shipped playbooks.'],
      'PLAYBOOK_MISSING',
    )
  }
  const doc = parseDocument(text, {prettyErrors: false})
  if (doc.errors.length) {
    throw new PlaybookError(
      doc.errors.map((e) => ({
        file,
        field: 'yaml',
        message: `${e.message.split('\n')[0]} (line ${e.linePos?.[0]?.line ?? '?'})`,
      })),
    )
  }
  const raw = doc.toJS() as unknown
  const parsed = PlaybookSchema.safeParse(raw)
  if (!parsed.success) throw new PlaybookError(zodProblems(file, raw, parsed.error))
  const problems: PlaybookProblem[] = []
  const seen = new Set<string>()
  for (const step of parsed.data.steps) {
    if (seen.has(step.id)) problems.push({file, step: step.id, field: 'id', message: 'duplicate step id'})
    seen.add(step.id)
    const action = actions[step.action]
    if (!action) {
      problems.push({
        file,
        step: step.id,
        field: 'action',
        message: `unknown action "${step.action}" (known: ${Object.keys(actions).sort().join(', ')})`,
      })
      continue
    }
    const p = action.params.safeParse(step.with ?? {})
    if (!p.success) {
      for (const issue of p.error.issues) {
        const keys =
          issue.code === 'unrecognized_keys' ? (issue as {keys: string[]}).keys.join(', ') : issue.path.join('.')
        problems.push({
          file,
          step: step.id,
          field: `with${keys ? `.${keys}` : ''}`,
          message: issue.code === 'unrecognized_keys' ? 'unknown parameter' : issue.message,
        })
      }
    }
  }
  if (problems.length) throw new PlaybookError(problems)
  return parsed.data
}

function zodProblems(file: string, raw: unknown, error: z.ZodError): PlaybookProblem[] {
  return error.issues.map((issue) => {
    const [first, index, ...rest] = issue.path
    let step: string | undefined
    let field = issue.path.join('.') || '(top level)'
    if (first === 'steps' && typeof index === 'number') {
      const s = (raw as {steps?: Array<{id?: unknown}>}).steps?.[index]
      step = typeof s?.id === 'string' ? s.id : `#${index + 1}`
      field = rest.join('.') || '(step)'
    }
    if (issue.code === 'unrecognized_keys')
      return {file, step, field: (issue as {keys: string[]}).keys.join(', '), message: 'unknown field'}
    return {file, step, field, message: issue.message}
  })
}
