import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {findServiceDefinitions, serviceMatches, serviceRuntime} from '../../../src/openclaw/services.js'
import type {ProcessRunner} from '../../../src/system/process-runner.js'
import {tempDir} from '../../helpers/temp.js'

function unit(home: string, name: string, text: string): void {
  const dir = path.join(home, '.config', 'systemd', 'user')
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, name), text)
}

describe('service definitions', () => {
  it('finds gateway units, profile units and legacy names, and flags an embedded token', () => {
    // Given a unit written by an old installer (token in Environment=) and a profile unit
    const home = tempDir()
    unit(
      home,
      'openclaw-gateway.service',
      '[Service]\nExecStart=/usr/bin/node /x/openclaw/dist/index.js gateway --port 18789\nEnvironment="OPENCLAW_GATEWAY_TOKEN=abc" "OPENCLAW_SERVICE_MARKER=openclaw"\n',
    )
    unit(
      home,
      'openclaw-gateway-work.service',
      '[Service]\nEnvironment=OPENCLAW_PROFILE=work OPENCLAW_STATE_DIR=/srv/work\n',
    )
    unit(home, 'clawdbot-gateway.service', '[Service]\n')
    unit(home, 'unrelated.service', '[Service]\n')
    // When they are listed
    const defs = findServiceDefinitions(home)
    // Then each is recognised with what it runs on
    const byName = Object.fromEntries(defs.map((d) => [d.name, d]))
    expect(Object.keys(byName).sort()).toEqual([
      'clawdbot-gateway.service',
      'openclaw-gateway-work.service',
      'openclaw-gateway.service',
    ])
    expect(byName['openclaw-gateway.service']).toMatchObject({kind: 'systemd', embedsToken: true, legacy: false})
    expect(byName['openclaw-gateway-work.service']).toMatchObject({
      stateDir: '/srv/work',
      profile: 'work',
      embedsToken: false,
    })
    expect(byName['clawdbot-gateway.service']?.legacy).toBe(true)
    // And they match the state dir they run on
    expect(serviceMatches(byName['openclaw-gateway.service']!, path.join(home, '.openclaw'), home)).toBe(true)
    expect(serviceMatches(byName['openclaw-gateway-work.service']!, '/srv/work', home)).toBe(true)
    expect(serviceMatches(byName['openclaw-gateway-work.service']!, path.join(home, '.openclaw'), home)).toBe(false)
  })

  it('reads launchd plists and their EnvironmentVariables', () => {
    const home = tempDir()
    const dir = path.join(home, 'Library', 'LaunchAgents')
    mkdirSync(dir, {recursive: true})
    writeFileSync(
      path.join(dir, 'ai.openclaw.gateway.plist'),
      '<plist><dict><key>Label</key><string>ai.openclaw.gateway</string><key>EnvironmentVariables</key><dict><key>OPENCLAW_GATEWAY_TOKEN</key><string>t</string><key>OPENCLAW_STATE_DIR</key><string>/s</string></dict></dict></plist>',
    )
    expect(findServiceDefinitions(home)).toEqual([
      expect.objectContaining({kind: 'launchd', name: 'ai.openclaw.gateway', embedsToken: true, stateDir: '/s'}),
    ])
  })

  it('asks systemctl for the runtime state through the runner', async () => {
    // Given a runner that answers like systemd for a running, enabled unit
    const calls: string[][] = []
    const runner: ProcessRunner = {
      run: async (file, args) => {
        calls.push([file, ...args])
        return {
          exitCode: 0,
          stdout: args.includes('is-active') ? 'active\n' : 'enabled\n',
          stderr: '',
          timedOut: false,
          notFound: false,
        }
      },
    }
    const state = await serviceRuntime(
      {
        kind: 'systemd',
        name: 'openclaw-gateway.service',
        file: '/home/u/.config/systemd/user/openclaw-gateway.service',
        embedsToken: false,
        legacy: false,
        nodeHost: false,
      },
      runner,
      1000,
    )
    expect(state).toEqual({active: true, enabled: true})
    expect(calls).toEqual([
      ['systemctl', '--user', 'is-active', 'openclaw-gateway.service'],
      ['systemctl', '--user', 'is-enabled', 'openclaw-gateway.service'],
    ])
  })
})

describe('status and service definitions', () => {
  it('lists a state dir named only by a service unit as an install', async () => {
    // Given a unit that runs a gateway on a state dir outside the home
    const home = tempDir()
    const elsewhere = tempDir()
    unit(
      home,
      'openclaw-gateway-ops.service',
      `[Service]\nEnvironment=OPENCLAW_STATE_DIR=${elsewhere} OPENCLAW_PROFILE=ops\n`,
    )
    const {status} = await import('../../../src/status.js')
    const noSystemd: ProcessRunner = {
      run: async () => ({exitCode: undefined, stdout: '', stderr: '', timedOut: false, notFound: true}),
    }
    // When status looks at this home
    const r = await status(
      {},
      {host: {env: {HOME: home}, homedir: home, uid: 0}, runner: noSystemd, gatewaySeams: {fetchTimeoutMs: 100}},
    )
    // Then that state dir is an install, with its service attached
    const i = r.installs.find((x) => x.stateDir === elsewhere)
    expect(i?.gateway.services.map((s) => s.name)).toEqual(['openclaw-gateway-ops.service'])
  })
})
