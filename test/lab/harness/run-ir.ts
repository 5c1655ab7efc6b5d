import {mkdtempSync} from 'node:fs'
import path from 'node:path'

import {execa} from 'execa'

import {repoRoot} from './paths.js'
import type {LabStateDir} from './gateway.js'

export interface IrRun {
  exitCode: number | undefined
  stdout: string
  stderr: string
  /** stdout parsed as JSON when it is JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read any field of the result
  json?: any
}

/**
 * Runs `ir` for real (bin/dev.js under this Node 20) against a lab state dir: the lab's isolated
 * environment, a private IR_HOME, and the lab's OpenClaw CLI for `config validate`/`security audit`.
 */
export async function runIr(
  lab: LabStateDir,
  args: string[],
  options: {irHome?: string; timeout?: number; env?: Record<string, string>} = {},
): Promise<IrRun> {
  // Inside the lab dir, so the lab's cleanup removes it.
  const irHome = options.irHome ?? mkdtempSync(path.join(lab.dir, 'ir-home-'))
  const r = await execa(process.execPath, [path.join(repoRoot, 'bin', 'dev.js'), ...args], {
    reject: false,
    timeout: options.timeout ?? 120_000,
    extendEnv: false,
    env: {
      ...lab.env,
      PATH: process.env.PATH ?? '',
      IR_HOME: irHome,
      IR_OPENCLAW_BIN: lab.lab.openclawMjs,
      IR_OPENCLAW_NODE: lab.lab.node24,
      ...options.env,
    },
  })
  let json: unknown
  try {
    json = JSON.parse(String(r.stdout))
  } catch {
    /* text mode */
  }
  return {exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), json}
}
