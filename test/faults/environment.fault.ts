import {execFileSync} from 'node:child_process'
import {chownSync, existsSync, mkdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createOtherUser, otherUserSkipReason, type OtherUser} from '../helpers/other-user.js'
import {runIrAsUser} from '../helpers/run-as-user.js'
import {caseDir, fill, ir, journal, jsonError, makeInstall, SECRETS, snapshot, walk} from './harness.js'

/**
 * What a real incident brings besides crashes: full and read-only filesystems, two runs on one
 * case, an install owned by someone else. After each: the source is as it must be, errors are one
 * line with the right exit code, and --undo restores bytes, mode and owner.
 */

const root = process.getuid?.() === 0
const needsRoot = root ? undefined : 'needs root (mount a small tmpfs / read-only fs)'

/** A tmpfs of `size` at dir (root only), unmounted after the file. */
const mounts: string[] = []
function tmpfs(dir: string, options: string): string {
  mkdirSync(dir, {recursive: true})
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir])
  mounts.push(dir)
  return dir
}
afterAll(() => {
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m])
})

const oneLine = (s: string) => s.split('\n').filter(Boolean).length === 1

describe.skipIf(needsRoot)('a full disk (ENOSPC, small tmpfs)', () => {
  it('IR_HOME full: contain stops with one line, and the install is unchanged', async () => {
    const inst = makeInstall()
    inst.irHome = tmpfs(path.join(inst.root, 'irhome'), 'size=256k')
    fill(inst.irHome)
    const before = snapshot(inst.state)
    const r = await ir(inst, ['contain', '--yes', '--json', '--state-dir', inst.state, '--case', 'IR-full'])
    expect(r.signal).toBeUndefined()
    expect(r.code).not.toBe(0)
    const e = jsonError(r)
    expect(e?.message, r.stdout).toMatch(/disk is full|full disk/)
    expect(oneLine(e!.message)).toBe(true)
    expect(snapshot(inst.state)).toEqual(before)
  })

  it('state dir full: the config write fails cleanly (old bytes kept), --undo restores the modes it did change', async () => {
    const inst = makeInstall(undefined)
    const full = tmpfs(path.join(inst.root, 'fullstate'), 'size=512k,mode=0755')
    const moved = {...makeInstall(undefined, full), irHome: inst.irHome}
    fill(moved.root)
    const before = snapshot(moved.state)
    const r = await ir(moved, ['contain', '--yes', '--json', '--state-dir', moved.state, '--case', 'IR-fullstate'])
    expect(r.code, r.stdout).toBe(5)
    const out = JSON.parse(r.stdout) as {steps: Array<{id: string; status: string; detail: string}>}
    expect(out.steps.find((s) => s.id === 'lockdown')).toMatchObject({status: 'failed'})
    expect(out.steps.find((s) => s.id === 'lockdown')!.detail).toMatch(/disk is full/)
    expect(snapshot(moved.state)['openclaw.json']).toBe(before['openclaw.json']?.replace(/ 644 /, ' 600 '))
    const undone = await ir(moved, ['contain', '--undo', '--yes', '--json', '--case', 'IR-fullstate'])
    expect(undone.code, undone.stdout).toBe(0)
    expect(snapshot(moved.state)).toEqual(before)
  })

  it('rotate --secrets-out on a full disk: refused before anything rotates (exit 3)', async () => {
    const inst = makeInstall()
    const out = tmpfs(path.join(inst.root, 'out'), 'size=64k')
    fill(out)
    const before = snapshot(inst.state)
    const r = await ir(inst, [
      'rotate',
      '--yes',
      '--json',
      '--state-dir',
      inst.state,
      '--secrets-out',
      path.join(out, 'new.json'),
    ])
    expect(jsonError(r), r.stdout).toMatchObject({code: 'SECRETS_OUT_NO_SPACE', exitCode: 3})
    expect(jsonError(r)!.message).toMatch(/nothing was rotated/)
    expect(r.code).toBe(3)
    expect(snapshot(inst.state)).toEqual(before)
    expect(existsSync(path.join(out, 'new.json'))).toBe(false)
  })
})

describe.skipIf(needsRoot)('read-only filesystems', () => {
  it('IR_HOME read-only: one line naming it, exit 3, nothing changed', async () => {
    const inst = makeInstall()
    inst.irHome = path.join(tmpfs(path.join(inst.root, 'ro'), 'ro,size=64k'), 'irhome')
    const before = snapshot(inst.state)
    const r = await ir(inst, ['contain', '--yes', '--json', '--state-dir', inst.state])
    expect(jsonError(r), r.stdout).toMatchObject({code: 'IR_HOME_UNWRITABLE', exitCode: 3})
    expect(jsonError(r)!.message).toBe(`The case directory ${inst.irHome} is on a read-only filesystem.`)
    expect(r.code).toBe(3)
    expect(snapshot(inst.state)).toEqual(before)
  })

  it('state dir read-only: every change fails cleanly, the source is unchanged, exit 5', async () => {
    const inst = makeInstall()
    const ro = path.join(inst.root, 'ro-state')
    mkdirSync(ro)
    execFileSync('mount', ['--bind', '-o', 'ro', inst.state, ro])
    mounts.push(ro)
    execFileSync('mount', ['-o', 'remount,bind,ro', ro])
    const before = snapshot(inst.state)
    const r = await ir(inst, ['contain', '--yes', '--json', '--state-dir', ro, '--case', 'IR-ro'])
    expect(r.code, r.stdout).toBe(5)
    const out = JSON.parse(r.stdout) as {steps: Array<{id: string; status: string; detail: string}>}
    expect(out.steps.find((s) => s.id === 'lockdown')!.detail).toMatch(/read-only filesystem/)
    expect(snapshot(inst.state)).toEqual(before)
    expect(journal(inst, 'IR-ro').problems).toEqual([])
  })
})

describe('two runs on one case', () => {
  it('the second waits briefly, then exits 3 naming the holder; the journal holds one whole run', async () => {
    const inst = makeInstall()
    const id = 'IR-twice'
    const collect = () =>
      ir(inst, ['collect', '--yes', '--json', '--state-dir', inst.state, '--case', id, '--no-include-secrets'], {
        IR_LOCK_WAIT_MS: '200',
      })
    const [a, b] = await Promise.all([collect(), collect()])
    const codes = [a.code, b.code].sort()
    expect(codes, `${a.stdout}\n${b.stdout}`).toEqual([0, 3])
    const loser = a.code === 3 ? a : b
    expect(jsonError(loser)).toMatchObject({code: 'CASE_LOCKED'})
    expect(jsonError(loser)!.message).toMatch(/^Case IR-twice is in use by another ir run \(pid \d+\)\.$/)
    const j = journal(inst, id)
    expect(j.problems).toEqual([])
    expect(j.entries.filter((e) => e.status === 'exit')).toEqual([
      expect.objectContaining({data: {exitCode: 0, verified: true}}),
    ])
    expect((JSON.parse((a.code === 0 ? a : b).stdout) as {verified: boolean}).verified).toBe(true)
  })

  it('a lock left by a killed run (dead pid) is taken over', async () => {
    const inst = makeInstall()
    const dir = caseDir(inst, 'IR-stale')
    mkdirSync(dir, {recursive: true, mode: 0o700})
    writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({pid: 2 ** 22 + 1, host: 'x'}))
    const r = await ir(inst, ['contain', '--dry-run', '--json', '--state-dir', inst.state, '--case', 'IR-stale'])
    expect(r.code, r.stdout).toBe(0)
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false)
  })
})

describe('target sanity', () => {
  it.each([['/'], ['/usr'], ['/tmp']])(
    'contain --dry-run --state-dir %s is refused (exit 3, one line)',
    async (dir) => {
      const inst = makeInstall()
      const r = await ir(inst, ['contain', '--dry-run', '--json', '--state-dir', dir])
      expect(jsonError(r), r.stdout).toMatchObject({code: 'NOT_AN_INSTALL', exitCode: 3})
      expect(r.code).toBe(3)
    },
  )

  it('a plain directory is refused by contain and rotate, and keeps its mode', async () => {
    const inst = makeInstall()
    const plain = path.join(inst.root, 'plain')
    mkdirSync(plain, {mode: 0o755})
    for (const cmd of ['contain', 'rotate']) {
      const r = await ir(inst, [cmd, '--yes', '--json', '--state-dir', plain])
      expect(jsonError(r), r.stdout).toMatchObject({code: 'NOT_AN_INSTALL', exitCode: 3})
    }
    expect(statSync(plain).mode & 0o777).toBe(0o755)
  })

  it.each([['../x'], ['a/b']])('--profile %s is a usage error (exit 2), as OpenClaw has it', async (p) => {
    const inst = makeInstall()
    const r = await ir(inst, ['contain', '--dry-run', '--json', '--profile', p])
    expect(jsonError(r), r.stdout).toMatchObject({exitCode: 2})
    expect(r.code).toBe(2)
  })
})

describe.skipIf(otherUserSkipReason)('owners', () => {
  let user: OtherUser
  beforeAll(() => {
    user = createOtherUser()
  })
  afterAll(() => user.remove())

  it("root on an install owned by the gateway's user: every file keeps its owner; --undo restores all", async () => {
    const inst = makeInstall({uid: user.uid, gid: user.gid})
    const before = snapshot(inst.state)
    const r = await ir(inst, ['contain', '--yes', '--json', '--state-dir', inst.state, '--case', 'IR-owned'])
    expect(r.code, r.stdout).toBe(0)
    for (const p of walk(inst.state)) expect([p, statSync(p).uid, statSync(p).gid]).toEqual([p, user.uid, user.gid])
    const undone = await ir(inst, ['contain', '--undo', '--yes', '--json', '--case', 'IR-owned'])
    expect(undone.code, undone.stdout).toBe(0)
    expect(snapshot(inst.state)).toEqual(before)
    expect(SECRETS.some((s) => r.stdout.includes(s) || r.stderr.includes(s))).toBe(false)
  })

  it("a non-root operator on a root-owned config: ir will not replace root's file with its own", async () => {
    const inst = makeInstall({uid: user.uid, gid: user.gid})
    chownSync(inst.config, 0, 0)
    chownSync(inst.root, user.uid, user.gid)
    const before = snapshot(inst.state)
    const r = await runIrAsUser(
      user.uid,
      user.gid,
      ['contain', '--yes', '--json', '--state-dir', inst.state, '--case', 'IR-nonroot'],
      {
        env: {PATH: '/usr/local/bin:/usr/bin:/bin', HOME: inst.home, IR_HOME: inst.irHome, TMPDIR: inst.home},
        extendEnv: false,
        cwd: inst.home,
        timeout: 120_000,
      },
    )
    if ('unavailable' in r) return
    expect(r.exitCode, r.stdout).not.toBe(0)
    const out = JSON.parse(r.stdout) as {steps: Array<{id: string; status: string; detail: string}>}
    expect(out.steps.find((s) => s.id === 'lockdown')!.detail).toMatch(/owned by another user/)
    expect(snapshot(inst.state)['openclaw.json']).toBe(before['openclaw.json'])
    const undone = await runIrAsUser(
      user.uid,
      user.gid,
      ['contain', '--undo', '--yes', '--json', '--case', 'IR-nonroot'],
      {
        env: {PATH: '/usr/local/bin:/usr/bin:/bin', HOME: inst.home, IR_HOME: inst.irHome, TMPDIR: inst.home},
        extendEnv: false,
        cwd: inst.home,
        timeout: 120_000,
      },
    )
    expect('unavailable' in undone ? 0 : undone.exitCode).toBe(0)
    expect(snapshot(inst.state)).toEqual(before)
  })
})
