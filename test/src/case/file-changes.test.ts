import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {openCase, readChanges, recordChange, undoChanges} from '../../../src/case/case-store.js'
import {backupFile} from '../../../src/case/file-changes.js'
import {sha256} from '../../../src/system/hash.js'
import {createOtherUser, otherUserSkipReason, type OtherUser} from '../../helpers/other-user.js'
import {tempDir} from '../../helpers/temp.js'

function setup(name = 'IR-wal') {
  const dir = tempDir()
  const c = openCase(name, {home: path.join(dir, 'ir')})
  const file = path.join(dir, 'openclaw.json')
  writeFileSync(file, '{"original": true}\n', {mode: 0o644})
  return {dir, c, file}
}

/** What a run killed between its intent line and the done line leaves behind. */
function intentOnly(c: ReturnType<typeof setup>['c'], file: string, after: string) {
  const b = backupFile(c, file)
  recordChange(c, {
    id: 'crashed',
    path: file,
    kind: 'content',
    modeBefore: b.mode,
    modeAfter: b.mode,
    sha256Before: b.sha256,
    sha256After: sha256(after),
    backup: b.backup,
    step: 'lockdown',
  })
}

describe('write-ahead change log', () => {
  it('journals the intent, with its backup, before the write, and marks it done after', () => {
    // Given a case and a config
    const {c, file} = setup()
    // When ir writes the config through the case
    c.writeFile(file, '{"locked": true}\n', 'lockdown')
    // Then one change is recorded, done, with a backup holding the original bytes
    const [change] = readChanges(c)
    expect(change).toMatchObject({path: file, kind: 'content', done: true, step: 'lockdown', modeBefore: 0o644})
    expect(readFileSync(change!.backup!, 'utf8')).toBe('{"original": true}\n')
    expect(readFileSync(path.join(c.dir, 'changes.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2)
  })

  it('restores after a crash between the write and its done line', () => {
    // Given a run killed right after the rename (intent on disk, no done line)
    const {c, file} = setup()
    intentOnly(c, file, '{"locked": true}\n')
    writeFileSync(file, '{"locked": true}\n')
    // When the case is undone
    const [out] = undoChanges(c)
    // Then the original bytes are back, and that is what undo says
    expect(out).toMatchObject({status: 'restored'})
    expect(readFileSync(file, 'utf8')).toBe('{"original": true}\n')
    expect(statSync(file).mode & 0o777).toBe(0o644)
  })

  it('says "already" (not "restored") after a crash before the write', () => {
    // Given a run killed after its intent line, before the rename
    const {c, file} = setup()
    intentOnly(c, file, '{"locked": true}\n')
    // When the case is undone
    const [out] = undoChanges(c)
    // Then nothing needed restoring, and undo does not claim it restored anything
    expect(out).toMatchObject({status: 'already'})
    expect(readFileSync(file, 'utf8')).toBe('{"original": true}\n')
  })

  it('a rerun after a crash before the write keeps the chain: undo still restores', () => {
    const {c, file} = setup()
    intentOnly(c, file, '{"locked": true}\n')
    c.writeFile(file, '{"locked": true}\n', 'lockdown')
    expect(undoChanges(c).map((o) => o.status)).toEqual(['restored'])
    expect(readFileSync(file, 'utf8')).toBe('{"original": true}\n')
  })

  it('says precisely what it cannot restore: a missing backup is a conflict, never "restored"', () => {
    const {c, file} = setup()
    c.writeFile(file, '{"locked": true}\n', 'rotate')
    rmSync(readChanges(c)[0]!.backup!)
    const [out] = undoChanges(c)
    expect(out).toMatchObject({status: 'conflict'})
    expect(out!.detail).toMatch(/backup is missing/)
    expect(readFileSync(file, 'utf8')).toBe('{"locked": true}\n')
  })

  it('undoes a chmod killed after the chmod but before its done line', () => {
    const {c, file} = setup()
    recordChange(c, {id: 'x', path: file, kind: 'mode', modeBefore: 0o644, modeAfter: 0o600, step: 'permissions'})
    chmodSync(file, 0o600)
    expect(undoChanges(c).map((o) => o.status)).toEqual(['restored'])
    expect(statSync(file).mode & 0o777).toBe(0o644)
  })

  it('removes a file ir created, and says so', () => {
    const {c, dir} = setup()
    const env = path.join(dir, '.env')
    c.writeFile(env, 'TOKEN=x\n', 'rotate')
    expect(undoChanges(c)).toEqual([
      expect.objectContaining({status: 'restored', detail: 'remove the file ir created'}),
    ])
    expect(() => statSync(env)).toThrow()
  })
})

describe('a symlinked openclaw.json', () => {
  it('is edited through the link; undo restores the target and the link stays', () => {
    // Given openclaw.json -> real.json
    const {dir, c} = setup()
    const real = path.join(dir, 'real.json')
    writeFileSync(real, '{"original": true}\n', {mode: 0o600})
    const link = path.join(dir, 'link', 'openclaw.json')
    mkdirSync(path.dirname(link))
    symlinkSync(real, link)
    // When ir edits it, then undoes the case
    c.writeFile(link, '{"locked": true}\n', 'lockdown')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readFileSync(real, 'utf8')).toBe('{"locked": true}\n')
    expect(undoChanges(c).map((o) => o.status)).toEqual(['restored'])
    // Then the link is still there and the target holds the original bytes
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readFileSync(real, 'utf8')).toBe('{"original": true}\n')
  })

  it('is left alone by undo when the link was replaced by a regular file meanwhile', () => {
    const {dir, c} = setup()
    const real = path.join(dir, 'real.json')
    writeFileSync(real, '{"original": true}\n')
    const link = path.join(dir, 'openclaw.link.json')
    symlinkSync(real, link)
    c.writeFile(link, '{"locked": true}\n', 'lockdown')
    rmSync(link)
    writeFileSync(link, '{"locked": true}\n')
    const [out] = undoChanges(c)
    expect(out).toMatchObject({status: 'conflict'})
    expect(out!.detail).toMatch(/was a symlink to .*real\.json; now it is not a symlink/)
  })
})

describe.skipIf(otherUserSkipReason)('undo as root on an install owned by another user', () => {
  let user: OtherUser
  beforeAll(() => {
    user = createOtherUser()
  })
  afterAll(() => user.remove())

  it('keeps the owner on write, and restores the owner with the bytes', () => {
    // Given a config owned by the gateway's user
    const {c, file} = setup('IR-owner')
    chownSync(file, user.uid, user.gid)
    // When root edits it through the case, then something makes it root's, then the case is undone
    c.writeFile(file, '{"locked": true}\n', 'lockdown')
    expect([statSync(file).uid, statSync(file).gid]).toEqual([user.uid, user.gid])
    chownSync(file, 0, 0)
    const [out] = undoChanges(c)
    // Then bytes, mode and owner are the original ones
    expect(out).toMatchObject({status: 'restored'})
    expect(out!.detail).toContain(`owner ${user.uid}:${user.gid}`)
    const st = statSync(file)
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([user.uid, user.gid, 0o644])
    expect(readFileSync(file, 'utf8')).toBe('{"original": true}\n')
  })
})
