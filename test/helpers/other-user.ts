import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

/** A throwaway system user (root only): the owner of an install that is not root's. */
export interface OtherUser {
  name: string
  uid: number
  gid: number
  remove(): void
}

export const isRoot = process.getuid?.() === 0

/** Why tests that need another user are skipped here; undefined when they can run. */
export const otherUserSkipReason = isRoot ? undefined : 'needs root (useradd, chown to another user)'

export function createOtherUser(): OtherUser {
  const name = `irt${randomBytes(4).toString('hex')}`
  execFileSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name])
  const id = (flag: string) => Number(execFileSync('id', [flag, name], {encoding: 'utf8'}).trim())
  return {
    name,
    uid: id('-u'),
    gid: id('-g'),
    remove: () => execFileSync('userdel', [name], {stdio: 'ignore'}),
  }
}
