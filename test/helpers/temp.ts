import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach} from 'vitest'

import type {HostEnv} from '../../src/openclaw/locate.js'
import type {Prompter} from '../../src/playbook/prompter.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

/** A real temp dir, removed after the test. */
export function tempDir(prefix = 'ir-test-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(d)
  return d
}

/** A host whose home is a temp dir and whose environment is only what the test gives. */
export function fakeHost(home: string, env: NodeJS.ProcessEnv = {}): HostEnv {
  return {env: {HOME: home, ...env}, homedir: home, uid: process.getuid?.() ?? 0}
}

/** A prompter that answers from a script and fails on any unexpected question. */
export function scriptedPrompter(answers: Array<boolean | string>): Prompter & {asked: string[]} {
  const asked: string[] = []
  const next = (m: string) => {
    asked.push(m)
    if (!answers.length) throw new Error(`unexpected prompt: ${m}`)
    return answers.shift()!
  }
  return {
    asked,
    interactive: true,
    confirm: async (m) => next(m) as boolean,
    select: async (m) => next(m) as string,
    input: async (m) => next(m) as string,
  }
}
