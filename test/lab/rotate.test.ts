// `ir rotate` against a real OpenClaw 2026.9.6 gateway: a plain token T0 and hooks token H0 are
// replaced and proven dead without a restart; then a token kept in the shared secret store (as
// onboarding writes it) is rotated in the store and proven the same way.
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {MiniSocket} from '../../src/openclaw/gateway-ws.js'
import {readStoreEntry} from '../../src/openclaw/secrets/store.js'
import {labTmpRoot, requireLabOpenClaw, runIr, startLabGateway, type IrRun, type LabGateway} from './harness/index.js'

const log = (line: string) => process.stderr.write(`[lab rotate] ${line}\n`)

async function hooksStatus(gw: LabGateway, token: string): Promise<number> {
  const res = await fetch(`${gw.url}/hooks`, {
    method: 'POST',
    body: '{}',
    signal: AbortSignal.timeout(10_000),
    headers: {'content-type': 'application/json', authorization: `Bearer ${token}`},
  })
  await res.arrayBuffer()
  return res.status
}

/** Every file under dir, as text. */
function tree(dir: string): string {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n')
}

/** A WebSocket session authenticated with `token`, to see what the rotation does to it. */
async function openSession(port: number, token: string): Promise<{closed: Promise<{code?: number; reason?: string}>}> {
  const http = await import('node:http')
  const {randomBytes} = await import('node:crypto')
  const socket = await new Promise<import('node:stream').Duplex>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
    })
    req.once('upgrade', (_res, s, head) => {
      if (head.length) s.unshift(head)
      resolve(s)
    })
    req.once('error', reject)
    req.end()
  })
  const ws = new MiniSocket(socket)
  const closed = new Promise<{code?: number; reason?: string}>((resolve) => {
    ws.onClose = (code, reason) => resolve({code, reason})
  })
  await new Promise<void>((resolve, reject) => {
    ws.onMessage = (text) => {
      const m = JSON.parse(text) as {type: string; event?: string; id?: string; ok?: boolean}
      if (m.event === 'connect.challenge') {
        ws.send(
          JSON.stringify({
            type: 'req',
            id: 'c',
            method: 'connect',
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: {id: 'cli', version: '0.0.1', platform: 'linux', mode: 'cli'},
              role: 'operator',
              scopes: ['operator.read'],
              auth: {token},
            },
          }),
        )
      } else if (m.id === 'c') {
        if (m.ok) resolve()
        else reject(new Error('connect refused'))
      }
    }
  })
  return {closed}
}

function noValues(run: IrRun, irHome: string, values: string[]): void {
  const caseText = tree(irHome)
  for (const v of values) {
    expect(run.stdout, 'stdout').not.toContain(v)
    expect(run.stderr, 'stderr').not.toContain(v)
    expect(caseText, 'case dir').not.toContain(v)
  }
}

describe('ir rotate on a real gateway', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c()
  })

  it('replaces token T0 and hooks token H0; T0/H0 are rejected and the new values accepted within seconds, without a restart', async () => {
    requireLabOpenClaw()
    const T0 = `lab-T0-${'0123456789abcdef'.repeat(3)}`
    const H0 = `lab-H0-${'fedcba9876543210'.repeat(3)}`
    // Given a real gateway with token T0 and hooks enabled with H0
    const gw = await startLabGateway({token: T0, config: {hooks: {enabled: true, token: H0, path: '/hooks'}}})
    cleanups.push(() => gw.cleanup())
    log(`gateway ready in ${gw.readyMs} ms (pid ${gw.pid}, port ${gw.port})`)
    expect(await gw.probeToken(T0)).toBe(404)
    expect(await hooksStatus(gw, H0)).toBe(404)
    const session = await openSession(gw.port, T0)
    const irHome = mkdtempSync(path.join(labTmpRoot(), 'ir-home-'))
    cleanups.push(() => rmSync(irHome, {recursive: true, force: true}))
    const out = path.join(gw.dir, 'rotated.json')

    // When ir rotates with --yes --secrets-out F --json
    const t0 = performance.now()
    const run = await runIr(gw, ['rotate', '--yes', '--secrets-out', out, '--json'], {irHome})
    const ms = Math.round(performance.now() - t0)
    log(
      `ir rotate: exit ${run.exitCode} in ${ms} ms; ${run.json?.steps?.map((s: {id: string; status: string}) => `${s.id}:${s.status}`).join(' ')}`,
    )
    log(`prove: ${run.json?.steps?.find((s: {id: string}) => s.id === 'prove')?.detail}`)

    // Then it succeeded and proved it
    expect(run.exitCode, `${run.stderr}\n${run.stdout}`).toBe(0)
    expect(run.json).toMatchObject({verified: true, exitCode: 0})
    expect(run.json.steps.map((s: {id: string; status: string}) => `${s.id}:${s.status}`)).toEqual([
      'inventory:done',
      'rotate:done',
      'prove:done',
      'restart:noop',
      'handover:done',
      'checklist:done',
      'paste:noop',
    ])
    // And F is a 0600 JSON object of the new values
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const handed = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>
    expect(Object.keys(handed)).toEqual(['gateway.auth.token', 'hooks.token'])
    const [T1, H1] = [handed['gateway.auth.token']!, handed['hooks.token']!]
    expect(T1).not.toBe(H1)
    // And the same gateway process (no restart) rejects the old values and accepts the new ones
    expect(gw.running()).toBe(true)
    expect(await gw.probeToken(T0)).toBe(401)
    expect(await gw.probeToken(T1)).toBe(404)
    expect(await hooksStatus(gw, H0)).toBe(401)
    expect(await hooksStatus(gw, H1)).toBe(404)
    // And the WebSocket session opened with T0 was closed by the gateway
    const closed = await Promise.race([
      session.closed,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000)),
    ])
    log(`WS session on T0: closed ${JSON.stringify(closed)}`)
    expect(closed).toEqual({code: 4001, reason: 'gateway auth changed'})
    // And no value is in stdout, stderr or the case dir (only in F)
    noValues(run, irHome, [T0, H0, T1, H1])
    const journal = readFileSync(path.join(irHome, 'cases', run.json.case, 'journal.jsonl'), 'utf8')
    expect(journal).toContain('"gateway.auth.token:new"')
  })

  it('rotates a gateway token kept in the shared secret store (SecretRef source "store") and proves it the same way', async () => {
    requireLabOpenClaw()
    const T0 = `lab-store-T0-${'0123456789abcdef'.repeat(3)}`
    // Given a real gateway whose token lives in the secret store, set up the way onboarding does:
    // `openclaw secrets store set OPENCLAW_GATEWAY_TOKEN` + gateway.auth.token = {source: "store", …}
    const gw = await startLabGateway({token: T0})
    cleanups.push(() => gw.cleanup())
    log(`gateway ready in ${gw.readyMs} ms (pid ${gw.pid}, port ${gw.port})`)
    const valueFile = path.join(gw.dir, 'token.value')
    writeFileSync(valueFile, T0, {mode: 0o600})
    const set = await gw.runCli([
      'secrets',
      'store',
      'set',
      'OPENCLAW_GATEWAY_TOKEN',
      '--kind',
      'secret',
      '--value-file',
      valueFile,
    ])
    rmSync(valueFile)
    expect(set.exitCode, set.stderr).toBe(0)
    const config = JSON.parse(readFileSync(gw.configPath, 'utf8')) as {gateway: {auth: {token: unknown}}}
    config.gateway.auth.token = {source: 'store', provider: 'default', id: 'OPENCLAW_GATEWAY_TOKEN'}
    writeFileSync(gw.configPath, JSON.stringify(config, null, 2) + '\n')
    await expect
      .poll(() => readFileSync(gw.stdoutFile, 'utf8').includes('config hot reload applied (gateway.auth.token)'), {
        timeout: 15_000,
        interval: 250,
      })
      .toBe(true)
    expect(await gw.probeToken(T0)).toBe(404)
    expect(readStoreEntry(gw.stateDir, 'OPENCLAW_GATEWAY_TOKEN')?.value).toBe(T0)
    const configBefore = readFileSync(gw.configPath, 'utf8')
    const irHome = mkdtempSync(path.join(labTmpRoot(), 'ir-home-'))
    cleanups.push(() => rmSync(irHome, {recursive: true, force: true}))
    const out = path.join(gw.dir, 'rotated.json')

    // When ir rotates it
    const t0 = performance.now()
    const run = await runIr(gw, ['rotate', '--yes', '--secrets-out', out, '--json'], {irHome})
    log(
      `ir rotate (store): exit ${run.exitCode} in ${Math.round(performance.now() - t0)} ms; rotate: ${run.json?.steps?.[1]?.detail}; prove: ${run.json?.steps?.[2]?.detail}`,
    )

    // Then the stored value was replaced (config untouched), the running gateway re-read it, and it is proven
    expect(run.exitCode, `${run.stderr}\n${run.stdout}`).toBe(0)
    expect(run.json).toMatchObject({verified: true})
    const T1 = (JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>)['gateway.auth.token']!
    expect(readStoreEntry(gw.stateDir, 'OPENCLAW_GATEWAY_TOKEN')).toMatchObject({
      value: T1,
      kind: 'secret',
      updatedBy: 'ir',
    })
    expect(readFileSync(gw.configPath, 'utf8')).toBe(configBefore)
    expect(run.json.steps[1].detail).toMatch(/gateway re-resolved its secrets \(secrets\.reload/)
    expect(gw.running()).toBe(true)
    expect(await gw.probeToken(T0)).toBe(401)
    expect(await gw.probeToken(T1)).toBe(404)
    noValues(run, irHome, [T0, T1])
  })
})
