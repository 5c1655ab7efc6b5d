/** Stable exit codes (README and DESIGN.md): text and --json modes return the same one. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  PreconditionFailed: 3,
  Aborted: 4,
  Partial: 5,
  FailOn: 10,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A failure the operator can act on: one line that names the object, plus next steps. */
export class IrError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
    readonly suggestions: string[] = [],
    readonly code: string = 'IR_ERROR',
  ) {
    super(message)
    this.name = 'IrError'
  }
}

/** Message of an unknown thrown value, without stack. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
