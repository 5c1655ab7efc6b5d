import {createHash, randomBytes} from 'node:crypto'
import http from 'node:http'
import type {Duplex} from 'node:stream'

/**
 * One gateway RPC over the WebSocket protocol (openclaw-live.md §4): wait for `connect.challenge`,
 * `connect` with a shared token or password (no device identity, so nothing gets paired), one
 * request, close. A minimal RFC 6455 client: Node 20 has no WebSocket global and ir has no `ws`.
 * Used for `secrets.reload` with the *old* credential after a store/file value was replaced: the
 * OpenClaw CLI would resolve the new value from the store and be refused.
 */

export interface GatewayAuth {
  token?: string
  password?: string
}

export interface RpcOptions {
  port: number
  host?: string
  auth: GatewayAuth
  timeoutMs?: number
  /** Operator scopes asked for in `connect` (secrets.reload needs operator.admin). */
  scopes?: string[]
}

export interface RpcOutcome {
  ok: boolean
  /** Where it ended: connect refused the credential, the request failed, or the transport. */
  stage: 'connect' | 'request' | 'transport'
  payload?: unknown
  error?: {code?: string; message?: string}
  closeCode?: number
  closeReason?: string
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

export async function gatewayRpc(
  opts: RpcOptions,
  method: string,
  params: Record<string, unknown> = {},
): Promise<RpcOutcome> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  let socket: Duplex | undefined
  try {
    socket = await openSocket(opts.host ?? '127.0.0.1', opts.port, timeoutMs)
  } catch (err) {
    return {ok: false, stage: 'transport', error: {message: (err as Error).message}}
  }
  const ws = new MiniSocket(socket)
  return await new Promise<RpcOutcome>((resolve) => {
    let done = false
    const finish = (o: RpcOutcome) => {
      if (done) return
      done = true
      clearTimeout(timer)
      ws.close()
      resolve(o)
    }
    const timer = setTimeout(
      () => finish({ok: false, stage: 'transport', error: {message: `no answer within ${timeoutMs} ms`}}),
      timeoutMs,
    )
    let connected = false
    ws.onClose = (code, reason) =>
      finish({
        ok: false,
        stage: connected ? 'request' : 'connect',
        closeCode: code,
        closeReason: reason,
        error: {message: `connection closed (${code ?? 'no code'}${reason ? `: ${reason}` : ''})`},
      })
    ws.onError = (err) => finish({ok: false, stage: 'transport', error: {message: err.message}})
    ws.onMessage = (text) => {
      let m: {
        type?: string
        event?: string
        id?: string
        ok?: boolean
        payload?: unknown
        error?: {code?: string; message?: string; details?: {code?: string}}
      }
      try {
        m = JSON.parse(text) as typeof m
      } catch {
        return
      }
      if (m.type === 'event' && m.event === 'connect.challenge') {
        ws.send(
          JSON.stringify({
            type: 'req',
            id: 'ir-connect',
            method: 'connect',
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: {id: 'cli', version: '0.1.0', platform: process.platform, mode: 'cli'},
              role: 'operator',
              scopes: opts.scopes ?? ['operator.admin'],
              auth: opts.auth.password !== undefined ? {password: opts.auth.password} : {token: opts.auth.token},
            },
          }),
        )
        return
      }
      if (m.type !== 'res') return
      if (m.id === 'ir-connect') {
        if (!m.ok)
          return finish({
            ok: false,
            stage: 'connect',
            error: {code: m.error?.details?.code ?? m.error?.code, message: m.error?.message},
          })
        connected = true
        ws.send(JSON.stringify({type: 'req', id: 'ir-req', method, params}))
        return
      }
      if (m.id === 'ir-req') {
        finish(
          m.ok
            ? {ok: true, stage: 'request', payload: m.payload}
            : {
                ok: false,
                stage: 'request',
                error: {code: m.error?.details?.code ?? m.error?.code, message: m.error?.message},
              },
        )
      }
    }
  })
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Duplex> {
  const key = randomBytes(16).toString('base64')
  return new Promise((resolve, reject) => {
    const req = http.request({
      host,
      port,
      path: '/',
      timeout: timeoutMs,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
      },
    })
    req.once('upgrade', (res, socket, head) => {
      const expected = createHash('sha1')
        .update(key + GUID)
        .digest('base64')
      if (res.headers['sec-websocket-accept'] !== expected) {
        socket.destroy()
        reject(new Error('WebSocket handshake failed (bad Sec-WebSocket-Accept)'))
        return
      }
      if (head.length) socket.unshift(head)
      resolve(socket)
    })
    req.once('response', (res) => {
      res.resume()
      reject(new Error(`WebSocket upgrade refused (HTTP ${res.statusCode})`))
    })
    req.once('timeout', () => req.destroy(new Error(`WebSocket handshake timed out after ${timeoutMs} ms`)))
    req.once('error', reject)
    req.end()
  })
}

/** Text frames out (masked, as a client must), text/close/ping in; fragmented messages joined. */
export class MiniSocket {
  onMessage: (text: string) => void = () => {}
  onClose: (code?: number, reason?: string) => void = () => {}
  onError: (err: Error) => void = () => {}
  private buf = Buffer.alloc(0)
  private fragments: Buffer[] = []
  private closed = false

  constructor(private readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk])
      this.drain()
    })
    socket.on('error', (err) => this.onError(err))
    socket.on('close', () => {
      if (!this.closed) {
        this.closed = true
        this.onClose()
      }
    })
  }

  send(text: string): void {
    if (!this.closed) this.socket.write(encodeFrame(0x1, Buffer.from(text, 'utf8')))
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    const payload = Buffer.alloc(2)
    payload.writeUInt16BE(1000)
    try {
      this.socket.write(encodeFrame(0x8, payload))
    } catch {
      /* already gone */
    }
    this.socket.end()
    setTimeout(() => this.socket.destroy(), 200).unref()
  }

  private drain(): void {
    for (;;) {
      const frame = decodeFrame(this.buf)
      if (!frame) return
      this.buf = this.buf.subarray(frame.size)
      if (frame.opcode === 0x8) {
        const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined
        const reason = frame.payload.subarray(2).toString('utf8')
        if (!this.closed) {
          this.closed = true
          this.onClose(code, reason)
        }
        this.socket.end()
        return
      }
      if (frame.opcode === 0x9) {
        this.socket.write(encodeFrame(0xa, frame.payload))
        continue
      }
      if (frame.opcode === 0x1 || frame.opcode === 0x2 || frame.opcode === 0x0) {
        this.fragments.push(frame.payload)
        if (frame.fin) {
          const text = Buffer.concat(this.fragments).toString('utf8')
          this.fragments = []
          this.onMessage(text)
        }
      }
    }
  }
}

export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length
  const ext = len < 126 ? 0 : len < 65_536 ? 2 : 8
  const header = Buffer.alloc(2 + ext + 4)
  header[0] = 0x80 | opcode
  header[1] = 0x80 | (ext === 0 ? len : ext === 2 ? 126 : 127)
  if (ext === 2) header.writeUInt16BE(len, 2)
  if (ext === 8) header.writeBigUInt64BE(BigInt(len), 2)
  const mask = randomBytes(4)
  mask.copy(header, 2 + ext)
  const masked = Buffer.alloc(len)
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i % 4]!
  return Buffer.concat([header, masked])
}

/** One frame from the start of buf, or undefined when it is not complete yet. */
export function decodeFrame(buf: Buffer): {fin: boolean; opcode: number; payload: Buffer; size: number} | undefined {
  if (buf.length < 2) return undefined
  const fin = (buf[0]! & 0x80) !== 0
  const opcode = buf[0]! & 0x0f
  const masked = (buf[1]! & 0x80) !== 0
  let len = buf[1]! & 0x7f
  let offset = 2
  if (len === 126) {
    if (buf.length < 4) return undefined
    len = buf.readUInt16BE(2)
    offset = 4
  } else if (len === 127) {
    if (buf.length < 10) return undefined
    len = Number(buf.readBigUInt64BE(2))
    offset = 10
  }
  const maskKey = masked ? buf.subarray(offset, offset + 4) : undefined
  if (masked) offset += 4
  if (buf.length < offset + len) return undefined
  let payload = buf.subarray(offset, offset + len)
  if (maskKey) {
    const out = Buffer.alloc(len)
    for (let i = 0; i < len; i++) out[i] = payload[i]! ^ maskKey[i % 4]!
    payload = out
  }
  return {fin, opcode, payload, size: offset + len}
}
