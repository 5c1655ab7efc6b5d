import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {locateOpenClawCli, locateTargetCli} from '../../../src/openclaw/openclaw-cli.js'
import type {ServiceDefinition} from '../../../src/openclaw/services.js'
import {fakeHost, tempDir} from '../../helpers/temp.js'

/** A global npm prefix holding openclaw@version and its own node, as `npm i -g` lays it out. */
function npmPrefix(version: string): {prefix: string; mjs: string; node: string} {
  const prefix = tempDir('ir-prefix-')
  const pkg = path.join(prefix, 'lib', 'node_modules', 'openclaw')
  mkdirSync(path.join(pkg, 'dist'), {recursive: true})
  mkdirSync(path.join(prefix, 'bin'))
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({name: 'openclaw', version}))
  writeFileSync(path.join(pkg, 'openclaw.mjs'), '')
  writeFileSync(path.join(pkg, 'dist', 'worker.js'), '')
  writeFileSync(path.join(prefix, 'bin', 'node'), '')
  return {prefix, mjs: path.join(pkg, 'openclaw.mjs'), node: path.join(prefix, 'bin', 'node')}
}

/** A /proc entry for a gateway whose title replaced its argv (what OpenClaw does: "openclaw"). */
function fakeProc(pid: number, exe: string, children: Record<number, string[]> = {}, environ = 'HOME=/h'): string {
  const proc = tempDir('ir-proc-')
  const dir = path.join(proc, String(pid))
  mkdirSync(path.join(dir, 'task', String(pid)), {recursive: true})
  writeFileSync(path.join(dir, 'cmdline'), 'openclaw\0')
  writeFileSync(path.join(dir, 'environ'), `${environ}\0_=/usr/bin/setsid\0`)
  symlinkSync(exe, path.join(dir, 'exe'))
  writeFileSync(path.join(dir, 'task', String(pid), 'children'), Object.keys(children).join(' '))
  for (const [child, argv] of Object.entries(children)) {
    mkdirSync(path.join(proc, child))
    writeFileSync(path.join(proc, child, 'cmdline'), argv.join('\0') + '\0')
  }
  return proc
}

describe('locating the target openclaw', () => {
  it("finds the running gateway's install through its worker child, run by the gateway's node", async () => {
    // Given a gateway (title "openclaw") whose worker child runs a file of the 2026.7.35 package
    const {mjs, node, prefix} = npmPrefix('2026.7.35')
    const worker = path.join(prefix, 'lib/node_modules/openclaw/dist/worker.js')
    const proc = fakeProc(4242, node, {4243: [node, worker, '--child']})
    // When located, with another openclaw on PATH
    const onPath = npmPrefix('2026.9.6')
    const cli = await locateOpenClawCli({
      env: {PATH: path.join(onPath.prefix, 'bin')},
      gatewayPid: 4242,
      procRoot: proc,
    })
    // Then the gateway's own install wins, run by the gateway's node
    expect(cli).toMatchObject({
      source: 'gateway process',
      from: 'pid 4242',
      version: '2026.7.35',
      command: node,
      args: [mjs],
    })
  })

  it("falls back to the npm prefix of the gateway's node when no child names the package", async () => {
    const {mjs, node} = npmPrefix('2026.9.6')
    const cli = await locateOpenClawCli({env: {}, gatewayPid: 7, procRoot: fakeProc(7, node)})
    expect(cli).toMatchObject({source: 'gateway process', version: '2026.9.6', command: node, args: [mjs]})
  })

  it("reads the service unit's ExecStart when the gateway is down, then the global npm prefix, then PATH", async () => {
    const unit = npmPrefix('2026.6.35')
    const service = {
      kind: 'systemd',
      name: 'openclaw-gateway.service',
      file: '/u',
      execStart: [unit.node, unit.mjs, 'gateway'],
    }
    expect(await locateOpenClawCli({env: {}, services: [service as ServiceDefinition]})).toMatchObject({
      source: 'service unit',
      version: '2026.6.35',
      command: unit.node,
    })
    const global = npmPrefix('2026.9.6')
    expect(await locateOpenClawCli({env: {npm_config_prefix: global.prefix}})).toMatchObject({
      source: 'global npm prefix',
      version: '2026.9.6',
    })
    // (a node on PATH names its prefix too: npm's default)
    expect(await locateOpenClawCli({env: {PATH: path.join(global.prefix, 'bin')}})).toMatchObject({
      source: 'global npm prefix',
    })
    expect(await locateOpenClawCli({env: {PATH: ''}})).toBeUndefined()
  })

  it("reads the gateway's own PATH: the openclaw an operator's shell started it with", async () => {
    // Given a gateway started from a shell whose PATH held a local install's .bin (npm links the bin there)
    const {mjs, node} = npmPrefix('2026.7.35')
    const bin = tempDir('ir-bin-')
    symlinkSync(mjs, path.join(bin, 'openclaw'))
    const proc = fakeProc(9, node, {}, `PATH=${bin}:/usr/bin`)
    // Then that install is found, run by the gateway's node
    const cli = await locateOpenClawCli({env: {}, gatewayPid: 9, procRoot: proc})
    expect(cli).toMatchObject({source: 'gateway process', version: '2026.7.35', command: node, args: [mjs]})
  })

  it("takes $IR_OPENCLAW_BIN first: the operator's choice", async () => {
    const {mjs, node} = npmPrefix('2026.9.6')
    const gateway = npmPrefix('2026.7.35')
    const cli = await locateOpenClawCli({
      env: {IR_OPENCLAW_BIN: mjs, IR_OPENCLAW_NODE: node},
      gatewayPid: 7,
      procRoot: fakeProc(7, gateway.node),
    })
    expect(cli).toMatchObject({source: 'IR_OPENCLAW_BIN', version: '2026.9.6'})
  })

  it('locates the CLI a run is handed for an install, and none for a state dir that does not exist', async () => {
    // Given an install (no gateway running) and openclaw in the host's global npm prefix
    const home = tempDir('ir-home-')
    mkdirSync(path.join(home, '.openclaw'))
    writeFileSync(path.join(home, '.openclaw', 'openclaw.json'), '{}')
    const global = npmPrefix('2026.9.6')
    const host = fakeHost(home, {npm_config_prefix: global.prefix, OPENCLAW_GATEWAY_PORT: '9'})
    // When the use case locates it before any step, Then it is that install's CLI
    expect(await locateTargetCli({}, host)).toMatchObject({source: 'global npm prefix', version: '2026.9.6'})
    // And a target whose state dir is missing gets none (null: "looked, found nothing")
    expect(await locateTargetCli({stateDir: path.join(home, 'missing')}, host)).toBeNull()
  })

  it('takes a wrapper script (outside any openclaw package) last, run as it is, its version unknown', async () => {
    // Given an operator's wrapper named by $IR_OPENCLAW_BIN, and another on PATH beside a real bin
    const bin = tempDir('ir-wrap-')
    const wrapper = path.join(bin, 'openclaw')
    writeFileSync(wrapper, '#!/bin/sh\nexec node /opt/openclaw/openclaw.mjs "$@"\n', {mode: 0o755})
    // When ir locates the CLI, Then the wrapper is what runs
    const chosen = await locateOpenClawCli({env: {IR_OPENCLAW_BIN: wrapper}})
    expect(chosen).toMatchObject({source: 'IR_OPENCLAW_BIN', command: wrapper, args: []})
    expect(chosen?.version).toBeUndefined()
    // And a real package bin later on PATH wins over a wrapper earlier on PATH
    const global = npmPrefix('2026.9.6')
    expect(await locateOpenClawCli({env: {PATH: `${bin}:${path.join(global.prefix, 'bin')}`}})).toMatchObject({
      version: '2026.9.6',
    })
    expect(await locateOpenClawCli({env: {PATH: bin}})).toMatchObject({source: 'PATH', command: wrapper})
  })
})
