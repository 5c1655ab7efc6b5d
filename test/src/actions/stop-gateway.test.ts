import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {readServiceChanges, stopGateway} from '../../../src/actions/stop-gateway.js'
import {writeConfig} from '../../fixtures/state-dirs.js'
import {scriptedPrompter, tempDir} from '../../helpers/temp.js'
import {contextFor, recordingRunner, startFakeGateway} from './contain-helpers.js'

const params = (timeoutSeconds = 20) => stopGateway.params.parse({timeoutSeconds})

function stateDir(): string {
  const state = tempDir('ir-stop-')
  writeConfig(state, '{"gateway": {"mode": "local", "port": 1}}')
  return state
}

describe('stop-gateway', () => {
  it('calls a gateway that is already down "already stopped" (noop), and leaves a stale lock alone', async () => {
    // Given a lock file whose pid has exited
    const state = stateDir()
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    const lockDir = path.join(state, 'tmp', `openclaw-${process.getuid?.() ?? 0}`)
    mkdirSync(lockDir, {recursive: true})
    writeFileSync(
      path.join(lockDir, 'gateway.state.lock'),
      JSON.stringify({pid: Number(dead), port: 1, stateDir: state}),
    )
    // When the stop is planned
    const plan = await stopGateway.plan(contextFor(state), params())
    // Then nothing is to be done and nothing is signalled
    expect(plan.noop).toBe(true)
    expect(plan.summary).toBe('already stopped: no gateway process, port 1 closed')
    expect(plan.lines).toEqual([
      `left alone: ${path.join(lockDir, 'gateway.state.lock')} (pid ${dead}: pid is not running (stale lock))`,
    ])
  })

  it('SIGTERMs the verified gateway of this state dir and proves it gone: no process, port closed, /healthz unreachable', async () => {
    // Given a running gateway holding this state dir's lock
    const state = stateDir()
    const gw = await startFakeGateway(state)
    const ctx = contextFor(state)
    // When planned, Then the plan names the pid, the signal and the wait
    const plan = await stopGateway.plan(ctx, params())
    expect(plan.noop).toBe(false)
    expect(plan.summary).toBe(`SIGTERM gateway pid ${gw.pid}`)
    expect(plan.lines[0]).toMatch(
      new RegExp(
        `^signal: SIGTERM pid ${gw.pid} \\(gateway of this state dir; openclaw-gateway\\), wait ≤ 20 s for it to exit and port ${gw.port} to close$`,
      ),
    )
    // When applied and verified
    const applied = await stopGateway.apply(ctx, params(), plan)
    const verdict = await stopGateway.verify!(ctx, params(), plan, applied)
    // Then it exited on SIGTERM alone and nothing answers any more
    expect(applied.detail).toMatch(new RegExp(`^pid ${gw.pid}: SIGTERM, exited after \\d+\\.\\d s$`))
    expect(gw.running()).toBe(false)
    expect(verdict).toEqual({ok: true, detail: `no gateway process, port ${gw.port} closed, /healthz unreachable`})
    // And the case remembers what was stopped (for --undo), without restarting anything
    expect(readServiceChanges(ctx.case)).toMatchObject([{stoppedPid: gw.pid, port: gw.port}])
  })

  it('never signals a pid that now belongs to another program', async () => {
    // Given a stale lock whose pid is now another program, and that program holding the gateway port
    const state = stateDir()
    const other = await startFakeGateway(state, {title: 'postgres-worker'})
    writeConfig(state, `{"gateway": {"mode": "local", "port": ${other.port}}}`)
    const ctx = contextFor(state)
    // When planned and applied
    const plan = await stopGateway.plan(ctx, params())
    const applied = await stopGateway.apply(ctx, params(), plan)
    // Then it is reported, left running, and the step asks for a human
    expect(plan.lines).toContain(
      `not signalled: port ${other.port} is held by pid ${other.pid}, which is not an OpenClaw gateway of this state dir`,
    )
    expect(
      plan.lines.some(
        (l) => l.startsWith('left alone:') && l.includes('pid now belongs to another program (postgres-worker)'),
      ),
    ).toBe(true)
    expect(applied.status).toBe('manual')
    expect(other.running()).toBe(true)
  })

  it('sends SIGKILL to a gateway that ignores SIGTERM only after the timeout and a yes', async () => {
    // Given a gateway that ignores SIGTERM (OpenClaw drains active work up to 5 min)
    const state = stateDir()
    const gw = await startFakeGateway(state, {ignoreTerm: true})
    const prompter = scriptedPrompter([true])
    const ctx = contextFor(state, {prompter})
    // When stopped with a 0.5 s timeout and the operator says yes
    const plan = await stopGateway.plan(ctx, params(0.5))
    const applied = await stopGateway.apply(ctx, params(0.5), plan)
    // Then SIGKILL followed the confirmation
    expect(prompter.asked).toEqual([
      `Gateway pid ${gw.pid} is still running 0.5 s after SIGTERM (OpenClaw drains active work for up to 5 min). Send SIGKILL?`,
    ])
    expect(applied.detail).toMatch(new RegExp(`^pid ${gw.pid}: SIGTERM then SIGKILL, exited after`))
    await gw.exited
    expect((await stopGateway.verify!(ctx, params(0.5), plan, applied)).ok).toBe(true)
  })

  it('leaves a SIGTERM-ignoring gateway running when SIGKILL is declined, and says so', async () => {
    // Given the same stubborn gateway and an operator who declines SIGKILL
    const state = stateDir()
    const gw = await startFakeGateway(state, {ignoreTerm: true})
    const ctx = contextFor(state, {prompter: scriptedPrompter([false])})
    // When stopped
    const plan = await stopGateway.plan(ctx, params(0.3))
    const applied = await stopGateway.apply(ctx, params(0.3), plan)
    // Then the step is manual and the process still runs
    expect(applied.status).toBe('manual')
    expect(applied.detail).toContain('SIGKILL was declined — the gateway is still running')
    expect(gw.running()).toBe(true)
  })

  it('stops and disables the systemd unit of this state dir before any signal, and verifies both', async () => {
    // Given a user unit running this state dir's gateway, active and enabled
    const state = stateDir()
    const home = tempDir('ir-home-')
    const unitDir = path.join(home, '.config', 'systemd', 'user')
    mkdirSync(unitDir, {recursive: true})
    writeFileSync(
      path.join(unitDir, 'openclaw-gateway.service'),
      `[Service]\nEnvironment=OPENCLAW_STATE_DIR=${state}\nRestart=always\n`,
    )
    let active = true
    let enabled = true
    const runner = recordingRunner((line) => {
      if (line === 'systemctl --version') return {stdout: 'systemd 255'}
      if (line.endsWith('is-active openclaw-gateway.service'))
        return {stdout: active ? 'active\n' : 'inactive\n', exitCode: active ? 0 : 3}
      if (line.endsWith('is-enabled openclaw-gateway.service'))
        return {stdout: enabled ? 'enabled\n' : 'disabled\n', exitCode: enabled ? 0 : 1}
      if (line.endsWith('stop openclaw-gateway.service')) active = false
      if (line.endsWith('disable openclaw-gateway.service')) enabled = false
      return {exitCode: 0}
    })
    const ctx = contextFor(state, {runner, env: {HOME: home}})
    // When planned, applied, verified
    const plan = await stopGateway.plan(ctx, params())
    const applied = await stopGateway.apply(ctx, params(), plan)
    const verdict = await stopGateway.verify!(ctx, params(), plan, applied)
    // Then the plan shows the exact commands, they ran in order, and the unit is down and disabled
    expect(plan.lines).toEqual([
      'run: systemctl --user stop openclaw-gateway.service',
      'run: systemctl --user disable openclaw-gateway.service',
    ])
    expect(runner.calls.filter((c) => / (stop|disable) /.test(c))).toEqual([
      'systemctl --user stop openclaw-gateway.service',
      'systemctl --user disable openclaw-gateway.service',
    ])
    expect(applied.detail).toBe('1/1 service(s) stopped and disabled')
    expect(verdict.ok).toBe(true)
    expect(verdict.detail).toContain('service(s) inactive and disabled')
    // And the case records the intent before the disable (write-ahead), then the disable, for --undo
    const [intent, done] = readFileSync(path.join(ctx.case.dir, 'services.jsonl'), 'utf8').split('\n')
    expect(JSON.parse(intent!)).toMatchObject({service: {name: 'openclaw-gateway.service'}, intent: true})
    expect(JSON.parse(done!)).toMatchObject({
      service: {name: 'openclaw-gateway.service'},
      results: [
        {what: 'stop', ok: true},
        {what: 'disable', ok: true},
      ],
    })
  })

  it('fails clearly when the service cannot be disabled (the supervisor would respawn the gateway)', async () => {
    // Given a unit whose disable is refused
    const state = stateDir()
    const home = tempDir('ir-home-')
    const unitDir = path.join(home, '.config', 'systemd', 'user')
    mkdirSync(unitDir, {recursive: true})
    writeFileSync(
      path.join(unitDir, 'openclaw-gateway.service'),
      `[Service]\nEnvironment=OPENCLAW_STATE_DIR=${state}\n`,
    )
    const runner = recordingRunner((line) =>
      line.includes(' disable ')
        ? {exitCode: 1, stderr: 'Failed to disable unit: Access denied'}
        : line.endsWith('is-active openclaw-gateway.service')
          ? {stdout: 'active\n'}
          : line.endsWith('is-enabled openclaw-gateway.service')
            ? {stdout: 'enabled\n'}
            : {exitCode: 0},
    )
    const ctx = contextFor(state, {runner, env: {HOME: home}})
    // When applied, Then the step fails naming the unit and the refusal
    const plan = await stopGateway.plan(ctx, params())
    await expect(stopGateway.apply(ctx, params(), plan)).rejects.toThrow(
      'Could not stop/disable openclaw-gateway.service: systemctl --user disable openclaw-gateway.service failed: Failed to disable unit: Access denied.',
    )
  })
})

describe('stop-gateway plan lines', () => {
  it('mask a secret passed on the gateway command line (old builds: --token T)', async () => {
    const {describeCmdline: show} = await import('../../../src/actions/stop-gateway.js')
    const {maskSecret} = await import('../../../src/system/secret-vocabulary.js')
    // Then the value is the one mask format (its fingerprint matches the same secret elsewhere)
    const line = show('node /x/openclaw/dist/index.js gateway --port 1 --token s3cr3t-value')
    expect(line).toBe(`node /x/openclaw/dist/index.js gateway --port 1 --token ${maskSecret('s3cr3t-value')}`)
    expect(line).not.toContain('s3cr3t-value')
    expect(show('openclaw gateway run --password=hunter2')).toBe(
      `openclaw gateway run --password=${maskSecret('hunter2')}`,
    )
  })
})
