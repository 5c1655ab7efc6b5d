import {chmodSync, mkdtempSync, rmdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa, type Options} from 'execa'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface UserRun {
  exitCode: number | undefined
  stdout: string
  stderr: string
}

/**
 * Run `ir` (bin/dev.js) as another user. That user must reach the checkout: when it cannot (a clone
 * inside a 0700 folder), the checkout is bind-mounted at a traversable temp path in a private mount
 * namespace, for this run only. Returns a reason instead when neither works (not root, no unshare).
 */
export async function runIrAsUser(
  uid: number,
  gid: number,
  args: string[],
  options: Options & {env: NodeJS.ProcessEnv},
): Promise<UserRun | {unavailable: string}> {
  const as = [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups']
  const reachable = async (root: string, wrap: string[] = []) =>
    (
      await execa(
        wrap[0] ?? 'setpriv',
        [
          ...wrap.slice(1),
          ...(wrap.length ? ['setpriv'] : []),
          ...as,
          process.execPath,
          '-e',
          `require('fs').accessSync(${JSON.stringify(path.join(root, 'bin', 'dev.js'))}, 4); require.resolve('@oclif/core', {paths: [${JSON.stringify(root)}]})`,
        ],
        {reject: false},
      )
    ).exitCode === 0
  const run = async (file: string, argv: string[]) => {
    const r = await execa(file, argv, {...options, reject: false})
    return {exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr)}
  }
  if (await reachable(repo)) return run('setpriv', [...as, process.execPath, path.join(repo, 'bin', 'dev.js'), ...args])
  const stage = mkdtempSync(path.join(os.tmpdir(), 'ir-stage-'))
  chmodSync(stage, 0o755)
  try {
    // $0 = checkout, $1 = stage; the mount lives and dies with this namespace.
    const inNs = [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" "$1" && shift && exec "$@"',
      repo,
      stage,
    ]
    if (!(await reachable(stage, inNs)))
      return {
        unavailable: `user ${uid} cannot reach the checkout ${repo}, and no bind mount could stage it (needs root and unshare)`,
      }
    return await run(inNs[0]!, [
      ...inNs.slice(1),
      'setpriv',
      ...as,
      process.execPath,
      path.join(stage, 'bin', 'dev.js'),
      ...args,
    ])
  } finally {
    rmdirSync(stage) // never recursive: were the mount still there, that would be the checkout
  }
}
