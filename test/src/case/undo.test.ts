import {chmodSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {backupFile, openCase, recordChange, undoChanges} from '../../../src/case/case-store.js'
import {sha256} from '../../../src/case/journal.js'
import {tempDir} from '../../helpers/temp.js'

function change(dir: string, content: string) {
  const c = openCase('IR-undo', {home: path.join(dir, 'ir')})
  const file = path.join(dir, 'openclaw.json')
  writeFileSync(file, '{"original": true}\n')
  chmodSync(file, 0o644)
  const b = backupFile(c, file)
  writeFileSync(file, content)
  chmodSync(file, 0o600)
  recordChange(c, {
    path: file,
    kind: 'content',
    modeBefore: b.mode,
    modeAfter: 0o644,
    sha256Before: b.sha256,
    sha256After: sha256(content),
    backup: b.backup,
  })
  recordChange(c, {path: file, kind: 'mode', modeBefore: 0o644, modeAfter: 0o600})
  return {c, file}
}

describe('undo', () => {
  it('restores the exact bytes and mode when the file still holds what ir wrote', () => {
    // Given a file ir changed (content, then mode)
    const dir = tempDir()
    const {c, file} = change(dir, '{"locked": true}\n')
    // When the case is undone
    const out = undoChanges(c)
    // Then the original bytes and mode are back
    expect(readFileSync(file, 'utf8')).toBe('{"original": true}\n')
    expect(statSync(file).mode & 0o777).toBe(0o644)
    expect(out.map((o) => `${o.kind}:${o.status}`).sort()).toEqual(['content:restored', 'mode:restored'])
    // And a second undo finds nothing left to do
    expect(undoChanges(c).map((o) => o.status)).toEqual(['already', 'already'])
  })

  it('refuses to overwrite a file changed since ir wrote it', () => {
    const dir = tempDir()
    const {c, file} = change(dir, '{"locked": true}\n')
    writeFileSync(file, '{"edited by someone": true}\n')
    const out = undoChanges(c)
    expect(out.find((o) => o.kind === 'content')).toMatchObject({status: 'conflict'})
    expect(readFileSync(file, 'utf8')).toBe('{"edited by someone": true}\n')
  })
})

describe('undo across several runs of one case', () => {
  it("refuses when the file was edited by hand between two of ir's writes", () => {
    // Given ir changed A→B, someone edited B→C, and ir changed C→D in the same case
    const dir = tempDir()
    const c = openCase('IR-undo-2', {home: path.join(dir, 'ir')})
    const file = path.join(dir, 'openclaw.json')
    const write = (text: string) => {
      const b = backupFile(c, file)
      writeFileSync(file, text)
      recordChange(c, {
        path: file,
        kind: 'content',
        modeBefore: b.mode,
        modeAfter: b.mode,
        sha256Before: b.sha256,
        sha256After: sha256(text),
        backup: b.backup,
        step: 'lockdown',
      })
    }
    writeFileSync(file, 'A')
    write('B')
    writeFileSync(file, 'C (hand edit)')
    write('D')
    // When the case is undone
    const [out] = undoChanges(c)
    // Then nothing is restored: the hand edit would be lost
    expect(out).toMatchObject({status: 'conflict'})
    expect(out!.detail).toMatch(/edited outside ir between two runs/)
    expect(readFileSync(file, 'utf8')).toBe('D')
  })
})
