import {screen} from '@inquirer/testing/vitest' // before anything that imports @inquirer/prompts
import {chmodSync, readFileSync} from 'node:fs'

import {captureOutput} from '@oclif/test'
import {afterEach, describe, expect, it} from 'vitest'

import Respond from '../../commands/respond.js'
import {writeConfig} from '../fixtures/state-dirs.js'
import {tempDir} from '../helpers/temp.js'

const ttys = {stdin: process.stdin.isTTY, stderr: process.stderr.isTTY}
afterEach(() => {
  process.stdin.isTTY = ttys.stdin
  process.stderr.isTTY = ttys.stderr
  process.exitCode = undefined
})

const OPEN = `{
  "gateway": {"mode": "local", "port": 9, "bind": "lan", "auth": {"mode": "none"}},
  "channels": {"telegram": {"dmPolicy": "open", "allowFrom": ["*"]}},
}
`

function openState(): {state: string; config: string} {
  const state = tempDir('ir-respond-tty-')
  chmodSync(state, 0o700)
  return {state, config: writeConfig(state, OPEN)}
}

function onTty(): void {
  process.stdin.isTTY = true
  process.stderr.isTTY = true
}

async function answer(expected: RegExp, key: 'y' | 'n' | 'ctrl-c'): Promise<void> {
  await screen.next()
  expect(screen.getScreen()).toMatch(expected)
  if (key === 'ctrl-c') screen.keypress({name: 'c', ctrl: true})
  else {
    screen.type(key)
    screen.keypress('enter')
  }
}

describe('ir respond on a TTY', () => {
  it('opens with the install, the gateway, the exposure and the plan, then honours a declined phase', async () => {
    // Given an open install
    const {state, config} = openState()
    onTty()
    // When the operator starts, lets the volatile phase run and declines every later phase
    const run = captureOutput(() => Respond.run(['--state-dir', state], import.meta.url))
    await answer(/Start the incident run \(case IR-[\d-]+[0-9a-f]{4}\)\? \(Y\/n\)/, 'y')
    await answer(/Phase 1\/5 — volatile evidence while the gateway still runs: nothing: records/, 'y')
    await answer(/Phase 2\/5 — contain: .*stops and disables the gateway/, 'n')
    await answer(/Phase 3\/5 — rotate/, 'n')
    await answer(/Phase 4\/5 — collect/, 'n')
    await answer(/Phase 5\/5 — re-audit/, 'n')
    const {stdout, error} = await run
    // Then the opening came first and named what was found and the plan
    expect(error).toBeUndefined()
    const lines = stdout.split('\n')
    expect(lines[0]).toMatch(/^ir respond — case IR-/)
    expect(stdout).toContain(`install  ${state}`)
    expect(stdout).toContain('gateway  down (port 9)')
    expect(stdout).toMatch(/exposure \d+ critical/)
    expect(stdout).toMatch(/ {2}2\. contain: stop the gateway, lock down every inbound surface\n {5}changes: stops/)
    // And the declined phase changed nothing; the run says what is true
    expect(stdout).toMatch(/done +volatile +re-read ok/)
    expect(stdout).toMatch(/declined +contain +declined by the operator/)
    expect(readFileSync(config, 'utf8')).toBe(OPEN)
    expect(stdout).toContain('verified: NO')
    expect(process.exitCode).toBe(4)
  })

  it('Ctrl-C inside a phase leaves the case resumable: --case skips what was done and runs the rest', async () => {
    // Given an open install and a run interrupted at contain's first own question
    const {state, config} = openState()
    onTty()
    const first = captureOutput(() => Respond.run(['--state-dir', state], import.meta.url))
    await answer(/Start the incident run/, 'y')
    await answer(/Phase 1\/5/, 'y')
    await answer(/Phase 2\/5 — contain/, 'y')
    await answer(/DMs|\(Y\/n\)/, 'ctrl-c')
    const {stdout} = await first
    const caseId = /Resume with: ir respond --case (\S+)/.exec(stdout)?.[1]
    expect(caseId).toBeDefined()
    expect(stdout).toMatch(/not-run +contain +interrupted \(Ctrl-C\)/)
    expect(readFileSync(config, 'utf8')).toBe(OPEN)
    expect(process.exitCode).toBe(4)
    process.exitCode = undefined
    // When resumed unattended with the same case
    process.stdin.isTTY = false
    process.stderr.isTTY = false
    const second = await captureOutput(() =>
      Respond.run(['--state-dir', state, '--case', caseId!, '--yes'], import.meta.url),
    )
    // Then the opening says it resumes, volatile is not taken again, and contain ran
    expect(second.stdout).toContain('(resuming: phases marked done are skipped)')
    expect(second.stdout).toMatch(
      /1\. volatile evidence while the gateway still runs {3}\[done in this case: skipped\]/,
    )
    expect(second.stdout).toMatch(/done +volatile +re-read ok +\(earlier run\)/)
    expect(second.stdout).toMatch(/done +contain/)
    expect(readFileSync(config, 'utf8')).not.toBe(OPEN)
  })
})
