import {screen} from '@inquirer/testing/vitest' // before anything that imports @inquirer/prompts
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {captureOutput} from '@oclif/test'
import {afterEach, describe, expect, it} from 'vitest'
import {z} from 'zod'

import PlaybookRun from '../../commands/playbook/run.js'
import {ACTIONS} from '../../src/actions/registry.js'
import {tempDir} from '../helpers/temp.js'

const ttys = {stdin: process.stdin.isTTY, stderr: process.stderr.isTTY}
afterEach(() => {
  process.stdin.isTTY = ttys.stdin
  process.stderr.isTTY = ttys.stderr
  process.exitCode = undefined
})

describe('ir playbook run on a TTY', () => {
  it('asks through inquirer before a changing step and honours "no"', async () => {
    // Given a playbook with one changing step (a marker file in a temp dir)
    const dir = tempDir()
    writeFileSync(path.join(dir, 'openclaw.json'), '{}\n') // ir acts only on a dir that shows an OpenClaw install
    const marker = path.join(dir, 'changed')
    ACTIONS['test-touch'] = {
      name: 'test-touch',
      description: 'test',
      mutates: true,
      params: z.object({}).strict(),
      plan: async () => ({
        noop: false,
        summary: 'touch the marker',
        lines: ['+ marker'],
        question: 'Touch the marker file?',
      }),
      apply: async () => {
        writeFileSync(marker, 'x')
        return {detail: 'touched'}
      },
    }
    const pb = path.join(dir, 'pb.yaml')
    writeFileSync(pb, 'id: t\ntitle: t\nsteps:\n  - {id: touch, title: Touch, action: test-touch}\n')
    process.stdin.isTTY = true
    process.stderr.isTTY = true
    // When it runs interactively and the operator answers "n"
    const run = captureOutput(() => PlaybookRun.run([pb, '--state-dir', dir], import.meta.url))
    await screen.next()
    expect(screen.getScreen()).toContain('Touch the marker file? (Y/n)')
    screen.type('n')
    screen.keypress('enter')
    const {stdout, error} = await run
    // Then nothing changed and the step says declined
    expect(error).toBeUndefined()
    expect(stdout).toMatch(/declined\s+touch\s+declined: touch the marker/)
    expect(await import('node:fs').then((fs) => fs.existsSync(marker))).toBe(false)
  })
})
