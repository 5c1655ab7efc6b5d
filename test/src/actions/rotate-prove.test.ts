import {createHash} from 'node:crypto'
import {createServer, type Server} from 'node:http'

import {afterEach, describe, expect, it} from 'vitest'

import {
  classifyStatus,
  httpProber,
  normalizeHooksPath,
  proveRotation,
  type ProbeAnswer,
  type Prober,
} from '../../../src/openclaw/auth-probe.js'
import {decodeFrame, encodeFrame, gatewayRpc} from '../../../src/openclaw/gateway-ws.js'
import {fakeGateway, type FakeGateway} from './rotate-fixtures.js'

const servers: Array<{close(): unknown}> = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

/** A clock that only moves when the prover sleeps. */
function clock() {
  let t = 0
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms
    },
  }
}

function scripted(answers: Record<string, ProbeAnswer[]>): Prober & {log: string[]} {
  const log: string[] = []
  const p = (async (_t, secret) => {
    log.push(secret)
    const list = answers[secret]!
    return list.length > 1 ? list.shift()! : list[0]!
  }) as Prober & {log: string[]}
  p.log = log
  return p
}

const A = (status: number): ProbeAnswer => ({verdict: classifyStatus('gateway', status), status})

describe('proving a rotation', () => {
  it('polls the new value until the hot reload applies, then checks the old one once', async () => {
    const c = clock()
    const prober = scripted({new: [A(401), A(401), A(404)], old: [A(401)]})
    const proof = await proveRotation({kind: 'gateway', port: 1}, 'old', 'new', {prober, ...c})
    expect(proof).toMatchObject({outcome: 'proven', attempts: 4})
    expect(proof.detail).toMatch(
      /^POST \/tools\/invoke: old value rejected \(401\), new value accepted \(404\) after 0\.7 s$/,
    )
    expect(prober.log).toEqual(['new', 'new', 'new', 'old'])
  })

  it('reports "old still accepted" when the change never reaches the process, and "both rejected" when ir wrote the wrong place', async () => {
    const still = await proveRotation({kind: 'gateway', port: 1}, 'old', 'new', {
      prober: scripted({new: [A(401)], old: [A(404)]}),
      timeoutMs: 2000,
      ...clock(),
    })
    expect(still.outcome).toBe('old-still-accepted')
    const both = await proveRotation({kind: 'gateway', port: 1}, 'old', 'new', {
      prober: scripted({new: [A(401)], old: [A(401)]}),
      timeoutMs: 2000,
      ...clock(),
    })
    expect(both).toMatchObject({outcome: 'both-rejected', detail: expect.stringMatching(/somewhere ir did not write/)})
    const down = await proveRotation({kind: 'gateway', port: 1}, 'old', 'new', {
      prober: scripted({new: [{verdict: 'unreachable'}], old: [{verdict: 'unreachable'}]}),
      timeoutMs: 1000,
      ...clock(),
    })
    expect(down.outcome).toBe('unreachable')
    const unknownOld = await proveRotation({kind: 'gateway', port: 1}, undefined, 'new', {
      prober: scripted({new: [A(404)]}),
      ...clock(),
    })
    expect(unknownOld.outcome).toBe('new-accepted')
  })

  it('reads the hooks throttle right: 429 answers only invalid credentials', () => {
    expect(classifyStatus('hooks', 429)).toBe('rejected')
    expect(classifyStatus('gateway', 429)).toBe('rate-limited')
    expect(classifyStatus('hooks', 404)).toBe('accepted')
    expect(classifyStatus('gateway', 500)).toBe('unexpected')
    expect(normalizeHooksPath(undefined)).toBe('/hooks')
    expect(normalizeHooksPath('ingress/')).toBe('/ingress')
    expect(normalizeHooksPath('/')).toBe('/')
  })

  it('probes over HTTP with POSTs that never act: a nonexistent tool and the bare hooks path', async () => {
    const gw: FakeGateway = await fakeGateway({gateway: () => 'good', hooks: () => 'hook', hooksPath: '/in'})
    servers.push(gw)
    expect(await httpProber({kind: 'gateway', port: gw.port}, 'good')).toMatchObject({verdict: 'accepted', status: 404})
    expect(await httpProber({kind: 'gateway', port: gw.port}, 'bad')).toMatchObject({verdict: 'rejected', status: 401})
    expect(await httpProber({kind: 'hooks', port: gw.port, path: '/in'}, 'hook')).toMatchObject({verdict: 'accepted'})
    expect(gw.requests.map((r) => r.path)).toEqual(['/tools/invoke', '/tools/invoke', '/in'])
    await gw.close()
    servers.pop()
    expect(await httpProber({kind: 'gateway', port: gw.port}, 'good')).toEqual({verdict: 'unreachable'})
  })
})

/** A tiny gateway WebSocket: challenge, connect (token check), one request; server frames unmasked. */
function wsGateway(
  token: string,
  onRequest: (method: string) => unknown,
): Promise<{port: number; server: Server; close(): Promise<void>}> {
  const server = createServer()
  const sockets = new Set<{destroy(): void}>()
  server.on('upgrade', (req, socket) => {
    sockets.add(socket)
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64')
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    )
    const send = (o: unknown) => {
      const payload = Buffer.from(JSON.stringify(o))
      // Split in two fragments to exercise continuation frames; 126-length header for big ones.
      const half = Math.floor(payload.length / 2)
      socket.write(serverFrame(0x1, payload.subarray(0, half), false))
      socket.write(serverFrame(0x0, payload.subarray(half), true))
    }
    send({type: 'event', event: 'connect.challenge', payload: {nonce: 'n'}})
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      for (let f = decodeFrame(buf); f; f = decodeFrame(buf)) {
        buf = buf.subarray(f.size)
        if (f.opcode !== 0x1) continue
        const m = JSON.parse(f.payload.toString()) as {id: string; method: string; params: {auth?: {token?: string}}}
        if (m.method === 'connect') {
          send(
            m.params.auth?.token === token
              ? {type: 'res', id: m.id, ok: true, payload: {type: 'hello-ok', features: {methods: 'x'.repeat(70_000)}}}
              : {
                  type: 'res',
                  id: m.id,
                  ok: false,
                  error: {
                    code: 'INVALID_REQUEST',
                    message: 'unauthorized: gateway token mismatch',
                    details: {code: 'AUTH_TOKEN_MISMATCH'},
                  },
                },
          )
        } else send({type: 'res', id: m.id, ok: true, payload: onRequest(m.method)})
      }
    })
    socket.on('error', () => {})
  })
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({port: (server.address() as {port: number}).port, server, close})),
  )
}

function serverFrame(opcode: number, payload: Buffer, fin: boolean): Buffer {
  const len = payload.length
  const head =
    len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, len]) : len < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10)
  if (len >= 126) {
    head[0] = (fin ? 0x80 : 0) | opcode
    head[1] = len < 65_536 ? 126 : 127
    if (len < 65_536) head.writeUInt16BE(len, 2)
    else head.writeBigUInt64BE(BigInt(len), 2)
  }
  return Buffer.concat([head, payload])
}

describe('gateway RPC over WebSocket (secrets.reload with the old credential)', () => {
  it('masks client frames and round-trips every length encoding', () => {
    for (const n of [0, 5, 125, 126, 65_535, 65_536, 70_000]) {
      const payload = Buffer.alloc(n, 7)
      const f = decodeFrame(encodeFrame(0x1, payload))!
      expect([f.fin, f.opcode, f.payload.equals(payload)]).toEqual([true, 1, true])
    }
    expect(decodeFrame(encodeFrame(0x1, Buffer.alloc(300)).subarray(0, 100))).toBeUndefined()
  })

  it('connects with the token, runs one method, and reports a refused credential without the value', async () => {
    const methods: string[] = []
    const gw = await wsGateway('old-token', (m) => {
      methods.push(m)
      return {ok: true, warningCount: 0}
    })
    servers.push(gw)
    const {port} = gw
    const ok = await gatewayRpc({port, auth: {token: 'old-token'}}, 'secrets.reload')
    expect(ok).toEqual({ok: true, stage: 'request', payload: {ok: true, warningCount: 0}})
    expect(methods).toEqual(['secrets.reload'])
    const refused = await gatewayRpc({port, auth: {token: 'wrong-token'}}, 'secrets.reload')
    expect(refused).toEqual({
      ok: false,
      stage: 'connect',
      error: {code: 'AUTH_TOKEN_MISMATCH', message: 'unauthorized: gateway token mismatch'},
    })
    const down = await gatewayRpc({port: 1, auth: {token: 'x'}}, 'secrets.reload')
    expect(down).toMatchObject({ok: false, stage: 'transport'})
  })
})
