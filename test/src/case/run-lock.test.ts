import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {acquireRunLock, releaseRunLocks} from '../../../src/case/run-lock.js'
import {tempDir} from '../../helpers/temp.js'

afterEach(() => {
  releaseRunLocks()
  delete process.env.IR_LOCK_WAIT_MS
})

describe('run lock', () => {
  it('names the live holder after a short wait (exit 3)', async () => {
    // Given another live process holding the case
    const dir = tempDir()
    const holder = spawn('sleep', ['30'])
    writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({pid: holder.pid}))
    process.env.IR_LOCK_WAIT_MS = '100'
    try {
      // Then a second run stops, naming it
      expect(() => acquireRunLock(dir, 'IR-busy')).toThrow(
        expect.objectContaining({
          exitCode: 3,
          code: 'CASE_LOCKED',
          message: `Case IR-busy is in use by another ir run (pid ${holder.pid}).`,
        }),
      )
    } finally {
      holder.kill('SIGKILL')
    }
  })

  it('takes over the lock of a dead pid, and releases its own', () => {
    const dir = tempDir()
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({pid: 2 ** 22 + 1}))
    acquireRunLock(dir, 'IR-stale')
    expect(JSON.parse(readFileSync(path.join(dir, 'run.lock'), 'utf8'))).toMatchObject({pid: process.pid})
    releaseRunLocks()
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false)
  })
})
