import {Command, Errors, Flags} from '@oclif/core'

import {closeCases} from '../case/case-store.js'
import {ExitCode, IrError} from '../errors.js'
import type {Target} from '../openclaw/locate.js'

export interface JsonError {
  error: {code: string; message: string; exitCode: number; suggestions: string[]}
}

/** Flags that pick the OpenClaw install, resolved exactly as OpenClaw resolves them. */
export const targetFlags = {
  'state-dir': Flags.string({summary: 'OpenClaw state dir (default: $OPENCLAW_STATE_DIR, ~/.openclaw, legacy dirs).'}),
  config: Flags.string({summary: "OpenClaw config file (default: $OPENCLAW_CONFIG_PATH, else the state dir's)."}),
  profile: Flags.string({summary: 'OpenClaw profile: state dir ~/.openclaw-<profile>.'}),
}

/** Flags of every command that changes something. */
export const changeFlags = {
  'dry-run': Flags.boolean({summary: 'Print the plan; change nothing.'}),
  yes: Flags.boolean({char: 'y', summary: 'No prompts: take the playbook defaults (the safe choices).'}),
  case: Flags.string({summary: 'Join this case (or name a new one); default: a new IR-<UTC>-<rand> id.'}),
}

/** The flags of contain's lockdown, shared by the commands that run it (contain, respond). */
export const lockdownFlags = {
  'dm-policy': Flags.string({
    summary: 'DM policy for every channel and account.',
    options: ['disabled', 'pairing', 'allowlist'],
    default: 'disabled',
  }),
  'keep-running': Flags.boolean({summary: 'Do not stop the gateway; verify it hot-applied the lockdown instead.'}),
}

export function targetFrom(flags: {'state-dir'?: string; config?: string; profile?: string}): Target {
  return {stateDir: flags['state-dir'], configPath: flags.config, profile: flags.profile}
}

/**
 * Owns --json, the error envelope and exit codes. oclif 4 alone exits 1 in --json mode whatever
 * the error said, and dumps its whole config object as the error JSON.
 */
export abstract class IrCommand<T> extends Command {
  static override enableJsonFlag = true
  abstract override run(): Promise<T>

  private exitCode: ExitCode = ExitCode.Ok

  /** Domain code returns an exit code with its result (partial, --fail-on…); honour it after printing. */
  protected exitWith(code: ExitCode): void {
    this.exitCode = code
    if (code !== ExitCode.Ok) process.exitCode = code
  }

  /** `--undo --case ID`, the way back of a command that changed an install (contain, recover). */
  protected async undoCase<R extends {exitCode: ExitCode}>(
    command: string,
    caseId: string | undefined,
    undo: (caseId: string) => Promise<R>,
    lines: (r: R) => string[],
  ): Promise<R> {
    if (!caseId)
      throw new IrError(
        '--undo needs the case to undo: --case ID.',
        ExitCode.Usage,
        [`Case ids are printed by \`ir ${command}\` (e.g. IR-20261123-101500-ab12).`],
        'USAGE',
      )
    const undone = await undo(caseId)
    for (const line of lines(undone)) this.log(line)
    this.exitWith(undone.exitCode)
    return undone
  }

  /** Every case this run opened ends with the exit code the process returns (and the verdict shown). */
  protected override async _run<R>(): Promise<R> {
    let result: R | undefined
    try {
      result = await super._run<R>()
      return result
    } finally {
      const verified = (result as {verified?: unknown} | undefined)?.verified
      closeCases({exitCode: this.exitCode, verified: typeof verified === 'boolean' ? verified : undefined})
    }
  }

  protected override toErrorJson(err: unknown): JsonError {
    const e = toIrError(err)
    return {error: {code: e.code, message: e.message, exitCode: e.exitCode, suggestions: e.suggestions}}
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const e = toIrError(err)
    this.exitCode = e.exitCode
    process.exitCode = e.exitCode
    // A flag error ends parsing early; oclif would then also warn "did not parse its arguments".
    Object.assign(this, {parsed: true})
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(err))
      return
    }
    const cli = new Errors.CLIError(e.message, {exit: e.exitCode, suggestions: e.suggestions})
    return super.catch(Object.assign(cli, {code: e.code}))
  }
}

export function toIrError(err: unknown): IrError {
  if (err instanceof IrError) return err
  if (err instanceof Errors.CLIError) {
    const exit = (err.oclif?.exit ?? ExitCode.Failure) as ExitCode
    const code = typeof err.code === 'string' ? err.code : exit === ExitCode.Usage ? 'USAGE' : 'FAILED'
    const [first = err.message, ...rest] = err.message.split('\n')
    const suggestions = err.suggestions ?? (exit === ExitCode.Usage ? ['See --help.'] : [])
    return new IrError(first, exit, rest.length && !suggestions.length ? rest : suggestions, code)
  }
  if (err instanceof Error && /^(Missing|Unexpected|Expected|Nonexistent flag)/.test(err.message)) {
    return new IrError(err.message.split('\n')[0] ?? err.message, ExitCode.Usage, ['See --help.'], 'USAGE')
  }
  return new IrError(err instanceof Error ? err.message : String(err), ExitCode.Failure, [], 'INTERNAL')
}
