import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {MAX_CONNECTIONS, volatileFacts} from '../../../src/evidence/volatile.js'
import {realRunner} from '../../../src/system/process-runner.js'
import {tempDir} from '../../helpers/temp.js'

// The gateway is this test process (alive, so its lock is live) seen through a fake /proc: its
// command line, its socket fds and the kernel's TCP tables are files the test writes.
const PID = process.pid
const UID = process.getuid?.() ?? 0
const HDR = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const row = (local: string, remote: string, st: string, inode: number) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0 100 0 0 10 0\n`

function fakeGateway(tcp: string, tcp6: string, inodes: number[]): {state: string; proc: string} {
  const state = tempDir('ir-vol-state-')
  const lockDir = path.join(state, 'tmp', `openclaw-${UID}`)
  mkdirSync(lockDir, {recursive: true})
  writeFileSync(path.join(lockDir, 'gateway.a.lock'), JSON.stringify({pid: PID, port: 9, stateDir: state}))
  const proc = tempDir('ir-vol-proc-')
  const me = path.join(proc, String(PID))
  mkdirSync(path.join(me, 'fd'), {recursive: true})
  mkdirSync(path.join(proc, 'net'))
  writeFileSync(
    path.join(me, 'cmdline'),
    ['node', '/opt/openclaw/openclaw.mjs', 'gateway', 'run', '--token', 'sekrit-value'].join('\0'),
  )
  writeFileSync(path.join(me, 'comm'), 'node\n')
  writeFileSync(path.join(me, 'stat'), `${PID} (node) S 1 ${'0 '.repeat(17)}500 0\n`)
  writeFileSync(path.join(proc, 'stat'), 'cpu 0\nbtime 1700000000\n')
  inodes.forEach((inode, fd) => symlinkSync(`socket:[${inode}]`, path.join(me, 'fd', String(fd + 3))))
  symlinkSync('/dev/null', path.join(me, 'fd', '0'))
  writeFileSync(path.join(proc, 'net', 'tcp'), HDR + tcp)
  writeFileSync(path.join(proc, 'net', 'tcp6'), HDR + tcp6)
  return {state, proc}
}

const facts = (state: string, proc: string, extra: {configError?: string} = {}) =>
  volatileFacts({
    stateDir: state,
    configPath: path.join(state, 'openclaw.json'),
    config: extra.configError ? undefined : {gateway: {port: 9}},
    ...extra,
    env: {},
    home: tempDir('ir-vol-home-'),
    runner: realRunner,
    scratch: tempDir('ir-vol-scratch-'),
    now: () => new Date('2026-12-07T05:00:00Z'),
    seams: {procRoot: proc, uid: UID, fetchTimeoutMs: 200},
    redact: (s) => s,
    audit: false,
  })

describe('volatileFacts: the gateway sockets', () => {
  it('records listeners and the connections on the gateway sockets only, inbound and outbound, addresses decoded', async () => {
    // Given a gateway listening on 0.0.0.0:18789 and [::]:18789, one peer connected in, one call out, and
    // a connection of another process on the host
    const tcp =
      row('00000000:4965', '00000000:0000', '0A', 101) + // 0.0.0.0:18789 LISTEN
      row('0100007F:4965', '0A00A8C0:D431', '01', 102) + // 127.0.0.1:18789 <- 192.168.0.10:54321
      row('0F02000A:A1B2', '08080808:01BB', '01', 103) + // 10.0.2.15:41394 -> 8.8.8.8:443
      row('0F02000A:A1B3', '01010101:01BB', '01', 999) // not the gateway's
    const tcp6 = row('00000000000000000000000000000000:4965', '00000000000000000000000000000000:0000', '0A', 104)
    const {state, proc} = fakeGateway(tcp, tcp6, [101, 102, 103, 104])
    // When the volatile facts are taken
    const v = await facts(state, proc)
    // Then both listeners and exactly the gateway's two connections are recorded
    expect(v.gateway).toMatchObject({state: 'up', pid: PID})
    expect(v.gateway.listening).toEqual([
      {pid: PID, proto: 'tcp', address: '0.0.0.0', port: 18789},
      {pid: PID, proto: 'tcp6', address: '::', port: 18789},
    ])
    expect(v.gateway.connections).toEqual([
      {
        pid: PID,
        proto: 'tcp',
        state: 'ESTABLISHED',
        direction: 'inbound',
        local: {address: '127.0.0.1', port: 18789},
        remote: {address: '192.168.0.10', port: 54321},
      },
      {
        pid: PID,
        proto: 'tcp',
        state: 'ESTABLISHED',
        direction: 'outbound',
        local: {address: '10.0.2.15', port: 41394},
        remote: {address: '8.8.8.8', port: 443},
      },
    ])
    expect(v.gateway.connectionsTruncated).toBeUndefined()
    // And the token on the command line is not kept, the audit was left to collect
    expect(v.gateway.cmdline).toBe('node /opt/openclaw/openclaw.mjs gateway run --token «redacted»')
    expect(v.audit).toMatchObject({ran: false})
  })

  it('keeps every listener but at most MAX_CONNECTIONS connections under a flood, and says so', async () => {
    // Given more connections on the gateway than the bound, the listener last in the table
    const n = MAX_CONNECTIONS + 5
    const inodes = Array.from({length: n}, (_, i) => 2000 + i)
    const tcp =
      inodes
        .map((inode) => row('0100007F:4965', `0200007F:${(1024 + inode).toString(16).toUpperCase()}`, '01', inode))
        .join('') + row('0100007F:4965', '00000000:0000', '0A', 1999)
    const tcp6 = row('0000000000000000FFFF00000100007F:4965', '00000000000000000000000001000000:0050', '06', 1998)
    const {state, proc} = fakeGateway(tcp, tcp6, [1999, 1998, ...inodes])
    // When the volatile facts are taken
    const v = await facts(state, proc)
    // Then the listener is there, the connections stop at the bound, and the record says it was cut
    expect(v.gateway.listening).toEqual([{pid: PID, proto: 'tcp', address: '127.0.0.1', port: 18789}])
    expect(v.gateway.connections).toHaveLength(MAX_CONNECTIONS)
    expect(v.gateway.connectionsTruncated).toBe(true)
  })

  it('shows a config that cannot be read in the exposure instead of nothing', async () => {
    // Given a gateway whose config does not parse
    const {state, proc} = fakeGateway('', '', [])
    // When the facts are taken with the parse error
    const v = await facts(state, proc, {configError: 'openclaw.json:3:7: unexpected "}"'})
    // Then the exposure says it is unknown (high), naming the error
    expect(v.exposure).toContainEqual(
      expect.objectContaining({checkId: 'config.unreadable', severity: 'high', title: expect.stringContaining('3:7')}),
    )
  })
})
