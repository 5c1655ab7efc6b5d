import {spawn} from 'node:child_process'
import {appendFileSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {verifyChain, withLock} from '../../../src/case/journal.js'
import {openCase} from '../../../src/case/case-store.js'
import {tempDir} from '../../helpers/temp.js'

describe('case journal', () => {
  it('chains every line to the previous one', () => {
    // Given a new case
    const c = openCase('IR-test-1', {home: tempDir()})
    // When three steps are journaled
    for (const s of ['a', 'b', 'c']) c.journal.append({step: s, status: 'done'})
    // Then the chain verifies, and editing any byte breaks it at that line's successor
    const text = readFileSync(c.journal.file, 'utf8')
    expect(verifyChain(text)).toEqual([])
    const tampered = text.replace('"step":"b"', '"step":"B"')
    expect(verifyChain(tampered)).toEqual([
      {line: 3, problem: 'hash chain broken: prev does not match the previous line'},
    ])
    expect(statSync(c.dir).mode & 0o777).toBe(0o700)
    expect(statSync(c.journal.file).mode & 0o777).toBe(0o600)
  })

  it('moves a torn last line aside so the next run continues a valid chain', () => {
    // Given a journal whose last write was cut off by a crash
    const c = openCase('IR-test-2', {home: tempDir()})
    c.journal.append({step: 'a', status: 'done'})
    appendFileSync(c.journal.file, '{"ts":"2026-11-23T00:00:00Z","step":"b","sta')
    // When the next run appends
    c.journal.append({step: 'c', status: 'done'})
    // Then the chain is intact and the fragment is kept next to the journal
    expect(verifyChain(readFileSync(c.journal.file, 'utf8'))).toEqual([])
    expect(c.journal.entries().map((e) => e.step)).toEqual(['a', 'c'])
    expect(readdirSync(c.dir).some((n) => n.startsWith('journal.jsonl.torn-'))).toBe(true)
  })

  it('does not interleave appends from concurrent processes (lock)', async () => {
    // Given two ir processes appending to one case journal at the same time
    const home = tempDir()
    const c = openCase('IR-test-3', {home})
    const script = `import {Journal} from '${path.resolve('src/case/journal.ts')}';
      const j = new Journal(process.argv[1], 'IR-test-3');
      for (let i = 0; i < 60; i++) j.append({step: 'p' + process.pid + '-' + i, status: 'done', detail: 'x'.repeat(2000)});`
    const run = () =>
      new Promise<number>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, c.journal.file], {
          stdio: 'inherit',
        })
        p.on('exit', (code) => resolve(code ?? 1))
      })
    // When both finish
    expect(await Promise.all([run(), run()])).toEqual([0, 0])
    // Then all 120 entries are whole lines in one valid chain
    expect(c.journal.entries()).toHaveLength(120)
    expect(verifyChain(readFileSync(c.journal.file, 'utf8'))).toEqual([])
  })

  it('takes over a lock left by a dead process, and refuses a live one after the timeout', () => {
    const dir = tempDir()
    const lock = path.join(dir, 'j.lock')
    writeFileSync(lock, '999999999')
    expect(withLock(lock, () => 'ran')).toBe('ran')
    writeFileSync(lock, String(process.pid))
    expect(() => withLock(lock, () => 'ran', 100)).toThrow(/locked by another ir run/)
  })

  it('rejects a case id that could escape the case store', () => {
    expect(() => openCase('../etc', {home: tempDir()})).toThrow(/Case id "..\/etc" is not valid/)
  })
})
