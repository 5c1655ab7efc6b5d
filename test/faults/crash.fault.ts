import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {caseTexts, ir, journal, leaked, makeInstall, SECRETS, snapshot, type Install, type Run} from './harness.js'

/**
 * kill -9 at named points (IR_FAULT_POINT, src/system/fault-point.ts) of contain, contain --undo,
 * rotate and collect. After each: a rerun completes, the journal chain is valid and ends with the
 * exit code the process returned, --undo restores bytes, mode and owner, no secret is in clear.
 */

const contain = (inst: Install, id: string, env: Record<string, string> = {}) =>
  ir(inst, ['contain', '--yes', '--json', '--state-dir', inst.state, '--case', id], env)
const undo = (inst: Install, id: string, env: Record<string, string> = {}) =>
  ir(inst, ['contain', '--undo', '--yes', '--json', '--case', id], env)

function expectKilled(r: Run): void {
  expect(r.signal, `${r.stdout}\n${r.stderr}`).toBe('SIGKILL')
}

/** The run completed and the journal's last entry is that run's exit code, in a valid chain. */
function expectCompleted(inst: Install, id: string, r: Run, codes: number[] = [0]): void {
  expect(r.signal, r.stderr).toBeUndefined()
  expect(codes, `${r.stdout}\n${r.stderr}`).toContain(r.code)
  const j = journal(inst, id)
  expect(j.problems).toEqual([])
  expect(j.entries.at(-1)).toMatchObject({status: 'exit', data: {exitCode: r.code}})
}

function expectNoLeak(inst: Install, id: string, runs: Run[], secrets = SECRETS, withBackups = false): void {
  const texts = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...caseTexts(inst, id, withBackups)]
  expect(leaked(texts, secrets)).toEqual([])
}

// Points of a contain run: the config write (intent journaled / file renamed, before "done"),
// chmods (intent journaled / mode changed), and journal lines between steps.
const CONTAIN_POINTS = ['write:intent', 'write:written', 'chmod:done#3', 'journal:appended#4']

describe('kill -9 during contain', () => {
  it.concurrent.each(CONTAIN_POINTS)(
    'at %s: a rerun completes, then --undo restores every byte, mode, owner',
    async (point) => {
      // Given an open install
      const inst = makeInstall()
      const before = snapshot(inst.state)
      const id = `IR-crash-${point.replace(/[^a-z0-9]/gi, '-')}`
      // When contain is killed at the point, then re-run with the same case
      const crashed = await contain(inst, id, {IR_FAULT_POINT: point})
      expectKilled(crashed)
      const rerun = await contain(inst, id)
      // Then the rerun completes and the journal says how it ended
      expectCompleted(inst, id, rerun)
      expect(JSON.parse(rerun.stdout)).toMatchObject({verified: true})
      // And --undo brings back exactly what was there
      const undone = await undo(inst, id)
      expectCompleted(inst, id, undone)
      expect(JSON.parse(undone.stdout)).toMatchObject({verified: true})
      expect(snapshot(inst.state)).toEqual(before)
      expectNoLeak(inst, id, [crashed, rerun, undone])
    },
  )

  it.concurrent.each(['write:written'])(
    'at %s (changed, not yet marked done): --undo right away restores exactly, and says so truthfully',
    async (point) => {
      const inst = makeInstall()
      const before = snapshot(inst.state)
      const id = `IR-undo-now-${point.replace(/[^a-z0-9]/gi, '-')}`
      expectKilled(await contain(inst, id, {IR_FAULT_POINT: point}))
      expect(snapshot(inst.state)).not.toEqual(before)
      const undone = await undo(inst, id)
      expectCompleted(inst, id, undone)
      expect(JSON.parse(undone.stdout)).toMatchObject({verified: true})
      expect(snapshot(inst.state)).toEqual(before)
    },
  )
})

describe('kill -9 during contain --undo', () => {
  it('after the first restore: a second --undo finishes the job and verifies', async () => {
    const inst = makeInstall()
    const before = snapshot(inst.state)
    const id = 'IR-crash-undo'
    expectCompleted(inst, id, await contain(inst, id))
    expectKilled(await undo(inst, id, {IR_FAULT_POINT: 'undo:restored#1'}))
    const again = await undo(inst, id)
    expectCompleted(inst, id, again)
    expect(JSON.parse(again.stdout)).toMatchObject({verified: true})
    expect(snapshot(inst.state)).toEqual(before)
  })
})

describe('kill -9 during rotate', () => {
  it.concurrent.each(['write:written', 'journal:appended#3'])(
    'at %s: the config is whole (old or new token, never torn), a rerun completes, no value in clear',
    async (point) => {
      const inst = makeInstall()
      const id = `IR-rotate-${point.replace(/[^a-z0-9]/gi, '-')}`
      const rotate = (out: string, env: Record<string, string> = {}) =>
        ir(inst, ['rotate', '--yes', '--json', '--state-dir', inst.state, '--case', id, '--secrets-out', out], env)
      const crashed = await rotate(path.join(inst.root, 'first.json'), {IR_FAULT_POINT: point})
      expectKilled(crashed)
      // The config parses and holds either the old token or a new one
      const config = readFileSync(inst.config, 'utf8')
      expect(config.includes(SECRETS[0]!) || !config.includes('gw-token')).toBe(true)
      // The reserved --secrets-out file, if left, holds no secret (zeros until the hand-over)
      const first = path.join(inst.root, 'first.json')
      if (existsSync(first)) expect(readFileSync(first, 'utf8').replace(/\0/g, '')).toBe('')
      const out = path.join(inst.root, 'second.json')
      const rerun = await rotate(out)
      expectCompleted(inst, id, rerun)
      const values = Object.values(JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>)
      expect(values.length).toBeGreaterThan(0)
      // Rotated-away values are scrubbed from the case's backups too (even the killed run's)
      expectNoLeak(inst, id, [crashed, rerun], [...SECRETS, ...values], true)
    },
  )
})

describe('kill -9 during collect', () => {
  it.concurrent.each(['journal:appended#3'])(
    'at %s: the source is untouched, the rerun with the same case seals a verified bundle',
    async (point) => {
      const inst = makeInstall()
      const before = snapshot(inst.state)
      const id = `IR-collect-${point.replace(/[^a-z0-9]/gi, '-')}`
      const collect = (env: Record<string, string> = {}) =>
        ir(inst, ['collect', '--yes', '--json', '--state-dir', inst.state, '--case', id, '--no-include-secrets'], env)
      const crashed = await collect({IR_FAULT_POINT: point})
      expectKilled(crashed)
      const rerun = await collect()
      expectCompleted(inst, id, rerun)
      expect(JSON.parse(rerun.stdout)).toMatchObject({verified: true})
      expect(snapshot(inst.state)).toEqual(before)
      expect(leaked([crashed.stdout, crashed.stderr, rerun.stdout, rerun.stderr], SECRETS)).toEqual([])
    },
  )
})
