import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {checkInstallTarget, modeChangeAllowed} from '../../../src/openclaw/install-check.js'
import {resolveInstall} from '../../../src/openclaw/locate.js'
import {fakeHost, tempDir} from '../../helpers/temp.js'

const installAt = (stateDir: string, home: string) => resolveInstall({stateDir}, fakeHost(home))

describe('install target check', () => {
  it.each(['/', '/usr', '/etc', '/home', '/tmp', '/var/lib'])('refuses the system directory %s', (dir) => {
    const home = tempDir()
    expect(() => checkInstallTarget(installAt(dir, home), fakeHost(home))).toThrow(/system directory or a home/)
  })

  it('refuses the home itself, even with an openclaw.json in it', () => {
    const home = tempDir()
    writeFileSync(path.join(home, 'openclaw.json'), '{}')
    expect(() => checkInstallTarget(installAt(home, home), fakeHost(home))).toThrow(/system directory or a home/)
  })

  it('refuses a plain directory: no sign of OpenClaw', () => {
    const home = tempDir()
    const plain = path.join(home, 'plain')
    mkdirSync(plain)
    expect(() => checkInstallTarget(installAt(plain, home), fakeHost(home))).toThrow(
      expect.objectContaining({code: 'NOT_AN_INSTALL', exitCode: 3}),
    )
  })

  it('accepts a state dir with agents/ and no config yet', () => {
    const home = tempDir()
    const state = path.join(home, '.openclaw')
    mkdirSync(path.join(state, 'agents'), {recursive: true})
    expect(() => checkInstallTarget(installAt(state, home), fakeHost(home))).not.toThrow()
  })
})

describe('mode changes', () => {
  it('are allowed inside the state dir and on a config file outside it, never on a system path', () => {
    // Given a state dir and a config that lives elsewhere
    const home = tempDir()
    const state = path.join(home, '.openclaw')
    mkdirSync(path.join(state, 'credentials'), {recursive: true})
    const config = path.join(home, 'etc-openclaw', 'openclaw.json')
    mkdirSync(path.dirname(config))
    writeFileSync(config, '{}')
    const install = {...installAt(state, home), configPath: config}
    const host = fakeHost(home)
    // Then: inside yes, the config file yes, its directory, the home and /etc no
    expect(modeChangeAllowed(install, path.join(state, 'credentials'), host)).toBe(true)
    expect(modeChangeAllowed(install, config, host)).toBe(true)
    expect(modeChangeAllowed(install, path.dirname(config), host)).toBe(false)
    expect(modeChangeAllowed(install, home, host)).toBe(false)
    expect(modeChangeAllowed(install, '/etc', host)).toBe(false)
    expect(modeChangeAllowed(install, '/etc/passwd', host)).toBe(false)
  })
})

describe('profile names', () => {
  it('keeps the case of the name, as OpenClaw does for the state dir', () => {
    const home = tempDir()
    expect(resolveInstall({profile: 'Work'}, fakeHost(home)).stateDir).toBe(path.join(home, '.openclaw-Work'))
    expect(resolveInstall({profile: 'DEFAULT'}, fakeHost(home)).stateDir).toBe(path.join(home, '.openclaw'))
  })

  it.each(['../x', 'a/b', '-x', ''])('rejects %j as OpenClaw does (usage error)', (p) => {
    const home = tempDir()
    if (p === '') expect(() => resolveInstall({profile: p}, fakeHost(home))).not.toThrow()
    else expect(() => resolveInstall({profile: p}, fakeHost(home))).toThrow(expect.objectContaining({exitCode: 2}))
  })
})
