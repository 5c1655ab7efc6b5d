import {describe, expect, it} from 'vitest'

import {
  commandLine,
  restoreCommands,
  restoreService,
  serviceStoppedAndDisabled,
  stopAndDisable,
  stopCommands,
} from '../../../src/openclaw/service-control.js'
import type {ServiceDefinition} from '../../../src/openclaw/services.js'
import {recordingRunner} from '../actions/contain-helpers.js'

const def = (over: Partial<ServiceDefinition>): ServiceDefinition => ({
  kind: 'systemd',
  name: 'openclaw-gateway.service',
  file: '/home/u/.config/systemd/user/openclaw-gateway.service',
  embedsToken: false,
  legacy: false,
  nodeHost: false,
  ...over,
})

describe('service control', () => {
  it('stops and disables each service manager the way it must be told', () => {
    // Given a user unit, a system unit, a LaunchAgent, a LaunchDaemon and profile task
    const user = def({})
    const system = def({file: '/etc/systemd/system/openclaw-gateway.service'})
    const agent = def({
      kind: 'launchd',
      name: 'ai.openclaw.gateway',
      file: '/Users/u/Library/LaunchAgents/ai.openclaw.gateway.plist',
    })
    const daemon = def({
      kind: 'launchd',
      name: 'com.clawdbot.gateway',
      file: '/Library/LaunchDaemons/com.clawdbot.gateway.plist',
      legacy: true,
    })
    const task = def({
      kind: 'schtasks',
      name: 'OpenClaw Gateway',
      file: 'C:/Users/u/.openclaw-work/gateway.cmd',
      profile: 'work',
    })
    // When the commands are built, Then stop comes first and disable keeps it from coming back
    expect(stopCommands(user, 501).map(commandLine)).toEqual([
      'systemctl --user stop openclaw-gateway.service',
      'systemctl --user disable openclaw-gateway.service',
    ])
    expect(stopCommands(system, 501).map(commandLine)).toEqual([
      'systemctl stop openclaw-gateway.service',
      'systemctl disable openclaw-gateway.service',
    ])
    expect(stopCommands(agent, 501).map(commandLine)).toEqual([
      'launchctl bootout gui/501/ai.openclaw.gateway',
      'launchctl disable gui/501/ai.openclaw.gateway',
    ])
    expect(stopCommands(daemon, 501).map(commandLine)).toEqual([
      'launchctl bootout system/com.clawdbot.gateway',
      'launchctl disable system/com.clawdbot.gateway',
    ])
    expect(stopCommands(task, 501).map(commandLine)).toEqual([
      'schtasks /End /TN "OpenClaw Gateway (work)"',
      'schtasks /Change /TN "OpenClaw Gateway (work)" /DISABLE',
    ])
    // And the way back enables, and starts only when asked
    expect(restoreCommands(user, 501, false).map(commandLine)).toEqual([
      'systemctl --user enable openclaw-gateway.service',
    ])
    expect(restoreCommands(agent, 501, true).map(commandLine)).toEqual([
      'launchctl enable gui/501/ai.openclaw.gateway',
      'launchctl bootstrap gui/501 /Users/u/Library/LaunchAgents/ai.openclaw.gateway.plist',
    ])
    expect(restoreCommands(task, 501, true).map(commandLine)).toEqual([
      'schtasks /Change /TN "OpenClaw Gateway (work)" /ENABLE',
      'schtasks /Run /TN "OpenClaw Gateway (work)"',
    ])
  })

  it('runs stop then disable through the runner, argv only', async () => {
    // Given systemctl that accepts both commands
    const runner = recordingRunner(() => ({exitCode: 0}))
    // When the unit is stopped and disabled
    const r = await stopAndDisable(def({}), runner, 1000)
    // Then both ran, in order, and the result says so
    expect(runner.calls).toEqual([
      'systemctl --user stop openclaw-gateway.service',
      'systemctl --user disable openclaw-gateway.service',
    ])
    expect(r).toMatchObject({
      ok: true,
      service: 'openclaw-gateway.service',
      commands: [
        {what: 'stop', ok: true},
        {what: 'disable', ok: true},
      ],
    })
  })

  it('treats a launchd label that is not loaded as already stopped, but a failed disable as a failure', async () => {
    // Given launchctl: bootout says "No such process" (exit 3), disable is refused
    const runner = recordingRunner((line) =>
      line.includes('bootout')
        ? {exitCode: 3, stderr: 'Boot-out failed: 3: No such process'}
        : {exitCode: 1, stderr: 'Operation not permitted'},
    )
    // When stopping the LaunchAgent
    const r = await stopAndDisable(
      def({
        kind: 'launchd',
        name: 'ai.openclaw.gateway',
        file: '/Users/u/Library/LaunchAgents/ai.openclaw.gateway.plist',
      }),
      runner,
      501,
    )
    // Then the stop counts as done and the disable failure is named
    expect(r.commands[0]).toMatchObject({
      ok: true,
      detail: 'launchctl bootout gui/501/ai.openclaw.gateway: was not running',
    })
    expect(r.commands[1]).toMatchObject({
      ok: false,
      detail: 'launchctl disable gui/501/ai.openclaw.gateway failed: Operation not permitted',
    })
    expect(r.ok).toBe(false)
  })

  it('reports a missing service manager instead of pretending', async () => {
    // Given a host without schtasks
    const runner = recordingRunner()
    // When the Windows task is stopped
    const r = await stopAndDisable(def({kind: 'schtasks', name: 'OpenClaw Gateway', file: '/s/gateway.cmd'}), runner, 0)
    // Then nothing is claimed
    expect(r.ok).toBe(false)
    expect(r.commands.every((c) => c.notFound && c.detail === 'schtasks is not installed here')).toBe(true)
  })

  it('verifies inactive + disabled from systemctl, and undoes with enable (+ start when asked)', async () => {
    // Given a unit that systemctl reports inactive and disabled
    const runner = recordingRunner((line) =>
      line.endsWith('is-active openclaw-gateway.service')
        ? {exitCode: 3, stdout: 'inactive\n'}
        : line.endsWith('is-enabled openclaw-gateway.service')
          ? {exitCode: 1, stdout: 'disabled\n'}
          : {exitCode: 0},
    )
    // When checked, Then it is down and disabled
    expect(await serviceStoppedAndDisabled(def({}), runner, 1000)).toEqual({
      ok: true,
      detail: 'openclaw-gateway.service: inactive, disabled',
    })
    // When restored with start, Then enable then start run
    runner.calls.length = 0
    const back = await restoreService(def({}), runner, 1000, true)
    expect(runner.calls).toEqual([
      'systemctl --user enable openclaw-gateway.service',
      'systemctl --user start openclaw-gateway.service',
    ])
    expect(back.ok).toBe(true)
  })
})
