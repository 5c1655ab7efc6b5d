import {spawn} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {
  identifyGateway,
  isGatewayArgv,
  listenerPids,
  probeGateway,
  readLocks,
  resolvePort,
} from '../../../src/openclaw/gateway.js'
import {tempDir} from '../../helpers/temp.js'

const uid = process.getuid?.() ?? 0
const children: Array<{kill: () => void}> = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill()
})

function writeLock(stateDir: string, name: string, body: object): string {
  const dir = path.join(stateDir, 'tmp', `openclaw-${uid}`)
  mkdirSync(dir, {recursive: true})
  const file = path.join(dir, name)
  writeFileSync(file, JSON.stringify(body) + ' '.repeat(40))
  return file
}

describe('gateway locks', () => {
  it('reads new-style locks but not the .lock.sqlite coordinators', () => {
    const state = tempDir()
    writeLock(state, 'gateway.state.lock', {
      pid: 123,
      port: 28789,
      stateDir: state,
      configPath: `${state}/openclaw.json`,
      startTime: 5,
    })
    writeLock(state, 'gateway.state.lock.sqlite', {})
    const locks = readLocks(state, `${state}/openclaw.json`, {uid, tmpDir: tempDir()})
    expect(locks).toEqual([expect.objectContaining({pid: 123, port: 28789, startTime: 5})])
  })

  it('never takes a dead pid for the gateway (stale lock)', async () => {
    // Given a lock whose pid has exited
    const state = tempDir()
    const dead = spawn('true')
    await new Promise((r) => dead.on('exit', r))
    writeLock(state, 'gateway.state.lock', {pid: dead.pid, port: 1, stateDir: state})
    // When the gateway is probed
    const g = await probeGateway(state, `${state}/openclaw.json`, {gateway: {port: 1}}, {}, undefined, {
      uid,
      tmpDir: tempDir(),
      fetchTimeoutMs: 200,
    })
    // Then it is down and the lock is reported as stale
    expect(g.state).toBe('down')
    expect(g.pid).toBeUndefined()
    expect(g.staleLocks).toEqual([expect.objectContaining({pid: dead.pid, reason: 'pid is not running (stale lock)'})])
  })

  it('never takes a pid now used by another program for the gateway', () => {
    // Given a lock naming a live pid that is not an OpenClaw gateway (a sleep)
    const other = spawn('sleep', ['30'])
    children.push(other)
    const state = tempDir()
    const p = identifyGateway({path: 'x', pid: other.pid, stateDir: state}, state, `${state}/openclaw.json`)
    expect(p).toMatchObject({
      alive: true,
      isGateway: false,
      belongsToStateDir: false,
      reason: 'pid now belongs to another program (sleep)',
    })
  })

  it('rejects a reused pid whose start time differs from the lock', async () => {
    // Given a process whose argv looks like a gateway but which started at another time
    const state = tempDir()
    const entry = path.join(tempDir(), 'openclaw.mjs')
    writeFileSync(entry, 'setTimeout(() => {}, 30000)')
    const fake = spawn(process.execPath, [entry, 'gateway', 'run'])
    children.push(fake)
    await new Promise((r) => setTimeout(r, 100))
    const p = identifyGateway(
      {path: 'x', pid: fake.pid, stateDir: state, startTime: 1},
      state,
      `${state}/openclaw.json`,
    )
    expect(p).toMatchObject({isGateway: false, reason: 'pid was reused: start time differs from the lock'})
    // And without a start time in the lock, the same process is accepted as this state dir's gateway
    expect(identifyGateway({path: 'x', pid: fake.pid, stateDir: state}, state, `${state}/openclaw.json`)).toMatchObject(
      {isGateway: true, belongsToStateDir: true},
    )
  })
})

describe('isGatewayArgv', () => {
  it('recognises a gateway by its argv structure, not by words in it', () => {
    expect(isGatewayArgv(['openclaw-gateway'])).toBe(true)
    expect(isGatewayArgv(['node'], 'openclaw-gatewa')).toBe(true)
    expect(
      isGatewayArgv([
        '/usr/bin/node',
        '--max-old-space-size=2048',
        '/usr/lib/node_modules/openclaw/dist/index.js',
        'gateway',
        '--port',
        '18789',
      ]),
    ).toBe(true)
    expect(isGatewayArgv(['/opt/node24/bin/node', '/x/node_modules/openclaw/openclaw.mjs', 'gateway', 'run'])).toBe(
      true,
    )
    expect(isGatewayArgv(['/usr/local/bin/openclaw', '--profile', 'work', 'gateway'])).toBe(true)
    // A responder tailing the gateway log, a tunnel, or another openclaw subcommand is not the gateway
    expect(isGatewayArgv(['tail', '-f', '/root/.openclaw/logs/gateway.log'])).toBe(false)
    expect(isGatewayArgv(['ssh', '-L', '18789:127.0.0.1:18789', 'openclaw-host', 'gateway'])).toBe(false)
    expect(isGatewayArgv(['node', '/x/openclaw/openclaw.mjs', 'logs', '--follow', 'gateway'])).toBe(false)
  })
})

describe('ports and listeners', () => {
  it('resolves the port as OpenClaw does', () => {
    expect(resolvePort({gateway: {port: 1234}}, {OPENCLAW_GATEWAY_PORT: '4321'})).toEqual({port: 4321, source: 'env'})
    expect(resolvePort({gateway: {port: 1234}}, {})).toEqual({port: 1234, source: 'config'})
    expect(resolvePort({}, {}, 'dev')).toEqual({port: 19001, source: 'profile'})
    expect(resolvePort({}, {})).toEqual({port: 18789, source: 'default'})
    const p = resolvePort({}, {}, 'work').port
    expect(p).toBeGreaterThanOrEqual(20000)
    expect(p).toBeLessThan(60000)
  })

  it('finds the pid listening on a port through /proc', async () => {
    const server = createServer((_q, s) => s.end('{"ok":true,"status":"live"}')).listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    children.push({kill: () => server.close()})
    const {port} = server.address() as AddressInfo
    expect(listenerPids(port)).toContain(process.pid)
  })
})
