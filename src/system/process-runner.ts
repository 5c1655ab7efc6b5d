import {execa} from 'execa'

export interface RunResult {
  exitCode: number | undefined
  stdout: string
  stderr: string
  timedOut: boolean
  /** The command could not be started (not installed…). */
  notFound: boolean
}

export interface RunOptions {
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Fed on stdin (secrets go here, never in argv). */
  input?: string
  cwd?: string
}

/** The seam for every subprocess: argv arrays only (never a shell string), always a timeout. */
export interface ProcessRunner {
  run(file: string, args: string[], options?: RunOptions): Promise<RunResult>
}

export const realRunner: ProcessRunner = {
  async run(file, args, options = {}) {
    const r = await execa(file, args, {
      reject: false,
      timeout: options.timeoutMs ?? 15_000,
      env: options.env,
      extendEnv: options.env === undefined,
      input: options.input,
      cwd: options.cwd,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
    })
    const notFound = (r as {code?: string}).code === 'ENOENT'
    return {
      exitCode: r.exitCode,
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      timedOut: Boolean(r.timedOut),
      notFound,
    }
  },
}
