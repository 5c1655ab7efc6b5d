import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {findInstalls, resolveInstall} from '../../../src/openclaw/locate.js'
import {fakeHost, tempDir} from '../../helpers/temp.js'

describe('resolveInstall', () => {
  it('uses ~/.openclaw/openclaw.json by default', () => {
    // Given a home with ~/.openclaw
    const home = tempDir()
    mkdirSync(path.join(home, '.openclaw'))
    // When resolving with no flags and no env
    const i = resolveInstall({}, fakeHost(home))
    // Then the default state dir and config are chosen
    expect(i).toMatchObject({
      stateDir: path.join(home, '.openclaw'),
      configPath: path.join(home, '.openclaw', 'openclaw.json'),
      source: 'default',
      stateDirExists: true,
      configExists: false,
    })
  })

  it('prefers OPENCLAW_STATE_DIR and OPENCLAW_CONFIG_PATH, and OPENCLAW_HOME replaces the home', () => {
    const home = tempDir()
    const other = tempDir()
    expect(resolveInstall({}, fakeHost(home, {OPENCLAW_HOME: other})).stateDir).toBe(path.join(other, '.openclaw'))
    const env = {OPENCLAW_STATE_DIR: '/srv/oc', OPENCLAW_CONFIG_PATH: '/srv/oc/custom.json'}
    expect(resolveInstall({}, fakeHost(home, env))).toMatchObject({
      stateDir: '/srv/oc',
      configPath: '/srv/oc/custom.json',
      source: 'env',
    })
  })

  it('flags beat the environment; --profile selects ~/.openclaw-<profile>', () => {
    const home = tempDir()
    const host = fakeHost(home, {OPENCLAW_STATE_DIR: '/srv/oc'})
    expect(resolveInstall({stateDir: '/flag/dir'}, host).stateDir).toBe('/flag/dir')
    expect(resolveInstall({profile: 'work'}, fakeHost(home)).stateDir).toBe(path.join(home, '.openclaw-work'))
    expect(resolveInstall({stateDir: '~/x'}, fakeHost(home)).stateDir).toBe(path.join(home, 'x'))
  })

  it('falls back to a legacy Clawdbot dir and its legacy config name when ~/.openclaw is absent', () => {
    // Given only ~/.clawdbot/clawdbot.json
    const home = tempDir()
    mkdirSync(path.join(home, '.clawdbot'))
    writeFileSync(path.join(home, '.clawdbot', 'clawdbot.json'), '{}')
    // When resolving
    const i = resolveInstall({}, fakeHost(home))
    // Then the legacy dir and name are used, as OpenClaw does
    expect(i).toMatchObject({
      stateDir: path.join(home, '.clawdbot'),
      configPath: path.join(home, '.clawdbot', 'clawdbot.json'),
      source: 'legacy',
    })
  })

  it('findInstalls lists every profile and legacy dir, the resolved one first', () => {
    const home = tempDir()
    for (const d of ['.openclaw', '.openclaw-work', '.moltbot', '.openclaw-BAD NAME', 'unrelated'])
      mkdirSync(path.join(home, d))
    const dirs = findInstalls({}, fakeHost(home)).map((i) => path.basename(i.stateDir))
    expect(dirs).toEqual(['.openclaw', '.moltbot', '.openclaw-work'])
  })
})
