import {chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {alignOwners, atomicWrite} from '../../../src/system/atomic-write.js'
import {createOtherUser, otherUserSkipReason, type OtherUser} from '../../helpers/other-user.js'
import {tempDir} from '../../helpers/temp.js'

describe('atomicWrite', () => {
  it('writes through a symlink: the target gets the bytes, the link stays a link', () => {
    // Given openclaw.json as a symlink to a file elsewhere
    const dir = tempDir()
    const target = path.join(dir, 'real.json')
    writeFileSync(target, '{"a": 1}\n', {mode: 0o640})
    const link = path.join(dir, 'openclaw.json')
    symlinkSync(target, link)
    // When ir writes the config
    atomicWrite(link, '{"a": 2}\n')
    // Then the link is still a link, and its target holds the new bytes with its mode
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readFileSync(target, 'utf8')).toBe('{"a": 2}\n')
    expect(statSync(target).mode & 0o777).toBe(0o640)
    expect(readdirSync(dir).sort()).toEqual(['openclaw.json', 'real.json'])
  })

  it('refuses a dangling symlink instead of replacing it with a regular file', () => {
    const dir = tempDir()
    const link = path.join(dir, 'openclaw.json')
    symlinkSync(path.join(dir, 'gone.json'), link)
    expect(() => atomicWrite(link, '{}')).toThrow(/could not be written \(ENOENT\)/)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
  })

  it('names a directory where a file was expected, in one line', () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'openclaw.json'))
    expect(() => atomicWrite(path.join(dir, 'openclaw.json'), '{}')).toThrow(
      /openclaw.json is a directory, not a file\.$/,
    )
  })
})

describe.skipIf(otherUserSkipReason)('atomicWrite as root on an install owned by another user', () => {
  let user: OtherUser
  beforeAll(() => {
    user = createOtherUser()
  })
  afterAll(() => user.remove())

  it("keeps the file's owner, group and mode", () => {
    // Given a config owned by the gateway's user, 0640
    const dir = tempDir()
    chownSync(dir, user.uid, user.gid)
    const file = path.join(dir, 'openclaw.json')
    writeFileSync(file, '{}\n', {mode: 0o640})
    chownSync(file, user.uid, user.gid)
    // When root rewrites it
    atomicWrite(file, '{"locked": true}\n')
    // Then the gateway's user still owns it, with the same mode
    const st = statSync(file)
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([user.uid, user.gid, 0o640])
    expect(readFileSync(file, 'utf8')).toBe('{"locked": true}\n')
  })

  it("gives SQLite's side files root left beside a user's database the database's owner", () => {
    // Given the gateway user's state DB and a -wal that root's write created
    const dir = tempDir()
    const db = path.join(dir, 'openclaw.sqlite')
    writeFileSync(db, 'db')
    chownSync(db, user.uid, user.gid)
    writeFileSync(`${db}-wal`, 'wal')
    // When ir aligns the owners after its write
    alignOwners(db, [`${db}-wal`, `${db}-shm`])
    // Then the gateway's user owns the -wal (the missing -shm is no error)
    expect([statSync(`${db}-wal`).uid, statSync(`${db}-wal`).gid]).toEqual([user.uid, user.gid])
  })

  it("gives a new file its directory's owner", () => {
    const dir = tempDir()
    chownSync(dir, user.uid, user.gid)
    const file = path.join(dir, '.env')
    atomicWrite(file, 'X=1\n')
    const st = statSync(file)
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([user.uid, user.gid, 0o600])
  })
})
