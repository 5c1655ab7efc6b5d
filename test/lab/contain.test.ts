// `ir contain` against a real OpenClaw 2026.9.6 gateway with a deliberately open config: stopped for
// good (real SIGTERM, port closed), locked down (real `config validate`, real `security audit` before
// and after), modes tightened, undone byte for byte; and with --keep-running, the running gateway
// itself shows that it applied the lockdown.
import {type ChildProcess, spawn} from 'node:child_process'
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'

import JSON5 from 'json5'
import {afterEach, describe, expect, it} from 'vitest'

import {
  labTmpRoot,
  pidAlive,
  prepareLabStateDir,
  requireLabOpenClaw,
  runIr,
  type LabConfigContext,
  type LabStateDir,
} from './harness/index.js'

const log = (line: string) => process.stderr.write(`[lab contain] ${line}\n`)
const HOOKS_TOKEN = 'lab-hooks-token-0123456789abcdef0123'

/** Every exposure key of the lockdown that validates without channel credentials (Tailscale needs tailscaled). */
const OPEN_CONFIG = (ctx: LabConfigContext) => `{
  // deliberately open lab gateway: every inbound surface ir contain closes
  "gateway": {
    "mode": "local", "port": ${ctx.port}, "bind": "lan",
    "auth": {"mode": "none"},
    "allowRealIpFallback": true,
    "http": {"endpoints": {"chatCompletions": {"enabled": true}}},
  },
  "discovery": {"mdns": {"mode": "full"}},
  "channels": {
    "telegram": {
      "enabled": true, "dmPolicy": "open", "allowFrom": ["*"], "groupPolicy": "open", "groupAllowFrom": ["*"],
      "groups": {"*": {"requireMention": false}},
      "accounts": {"work": {"dmPolicy": "open", "allowFrom": ["*"], "groupPolicy": "open"}}, // second bot
    },
  },
  "tools": {"elevated": {"enabled": true}, "exec": {"security": "full"}},
  "browser": {"enabled": true},
  "hooks": {"enabled": true, "token": "${HOOKS_TOKEN}", "path": "/hooks"},
  "update": {"checkOnStart": false},
  "logging": {"file": "${ctx.logFile}"},
}
`

/**
 * The harness starts `gateway run` without flags; OpenClaw refuses bind "lan" with auth "none", so
 * the open config runs with `--bind loopback` (the flag beats the config; the file stays open).
 */
async function startOpenGateway(
  lab: LabStateDir,
): Promise<{pid: number; child: ChildProcess; readyMs: number; out: string}> {
  const out = path.join(lab.dir, 'gateway.out.log')
  const fd = openSync(out, 'a', 0o600)
  const t0 = performance.now()
  const child = spawn(lab.lab.node24, [lab.lab.openclawMjs, 'gateway', 'run', '--bind', 'loopback'], {
    cwd: lab.dir,
    env: lab.env,
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  started.add(child)
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited early:\n${readFileSync(out, 'utf8').slice(-3000)}`)
    if (performance.now() - t0 > 120_000)
      throw new Error(`gateway not ready after 120 s:\n${readFileSync(out, 'utf8').slice(-3000)}`)
    const status = await fetch(`${lab.url}/readyz`, {signal: AbortSignal.timeout(2000)})
      .then((r) => r.status)
      .catch(() => 0)
    if (status === 200) break
    await new Promise((r) => setTimeout(r, 250))
  }
  return {pid: child.pid!, child, readyMs: Math.round(performance.now() - t0), out}
}

const started = new Set<ChildProcess>()
const labs: LabStateDir[] = []
afterEach(async () => {
  // Only what this file started, by pid.
  for (const c of started) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL')
  started.clear()
  for (const l of labs.splice(0)) await l.cleanup()
})

async function openLab(): Promise<LabStateDir> {
  requireLabOpenClaw()
  const lab = await prepareLabStateDir({configText: OPEN_CONFIG, prefix: 'ir-lab-contain-'})
  labs.push(lab)
  mkdirSync(path.join(lab.stateDir, 'credentials'))
  writeFileSync(
    path.join(lab.stateDir, 'credentials', 'telegram-allowFrom.json'),
    '{"version":1,"allowFrom":["123456789"]}',
  )
  chmodSync(path.join(lab.stateDir, 'credentials', 'telegram-allowFrom.json'), 0o644)
  chmodSync(path.join(lab.stateDir, 'credentials'), 0o755)
  chmodSync(lab.stateDir, 0o755)
  chmodSync(lab.configPath, 0o644)
  return lab
}

async function audit(lab: LabStateDir): Promise<{critical: string[]; ms: number}> {
  const r = await lab.runCli(['security', 'audit', '--json'], {timeout: 120_000})
  const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
    findings: Array<{checkId: string; severity: string}>
  }
  return {
    critical: report.findings
      .filter((f) => f.severity === 'critical')
      .map((f) => f.checkId)
      .sort(),
    ms: r.durationMs,
  }
}

const mode = (p: string) => statSync(p).mode & 0o777

/** Case files other than backups/ and evidence/ (raw copies taken before any change). */
function caseText(irHome: string, id: string): string {
  const dir = path.join(irHome, 'cases', id)
  return readdirSync(dir)
    .filter((n) => !['backups', 'evidence'].includes(n))
    .map((n) => readFileSync(path.join(dir, n), 'utf8'))
    .join('\n')
}

describe('ir contain on a real gateway', () => {
  it('--yes: the gateway is gone and its port closed within seconds, the config validates, the audit criticals are gone, modes 700/600; --undo restores the bytes', async () => {
    // Given a deliberately open config and loose modes, audited by OpenClaw itself
    const lab = await openLab()
    const original = readFileSync(lab.configPath, 'utf8')
    const before = await audit(lab)
    log(`audit before: ${before.critical.length} critical in ${before.ms} ms: ${before.critical.join(', ')}`)
    expect(before.critical).toEqual(
      expect.arrayContaining([
        'gateway.bind_no_auth',
        'gateway.http.no_auth',
        'gateway.real_ip_fallback_enabled',
        'discovery.mdns_full_mode',
        'tools.exec.security_full_configured',
        'security.exposure.open_groups_with_elevated',
        'fs.config.perms_world_readable',
      ]),
    )
    // And that config running as a real gateway
    const gw = await startOpenGateway(lab)
    log(`gateway ready in ${gw.readyMs} ms (pid ${gw.pid}, port ${lab.port})`)
    expect(await fetch(`${lab.url}/healthz`).then((r) => r.status)).toBe(200)

    // When ir contain --yes runs (as a subprocess, with the real openclaw CLI)
    const irHome = mkdtempSync(path.join(labTmpRoot(), 'ir-home-'))
    const t0 = performance.now()
    const run = await runIr(lab, ['contain', '--state-dir', lab.stateDir, '--yes', '--json'], {
      irHome,
      timeout: 300_000,
    })
    const ms = Math.round(performance.now() - t0)
    log(`ir contain --yes: exit ${run.exitCode} in ${ms} ms`)
    for (const s of run.json?.steps ?? []) log(`  ${s.status.padEnd(8)} ${s.id}: ${s.detail}`)
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.json.verified).toBe(true)

    // Then the real process is gone and the port closed, within seconds of the SIGTERM
    const stop = run.json.steps.find((s: {id: string}) => s.id === 'stop')
    expect(stop.status).toBe('done')
    const exitedAfter = Number(/exited after (\d+\.\d) s/.exec(stop.detail)?.[1])
    log(`gateway exited ${exitedAfter} s after the signal (${stop.detail})`)
    expect(exitedAfter).toBeLessThan(30)
    expect(pidAlive(gw.pid)).toBe(false)
    expect(
      await fetch(`${lab.url}/healthz`, {signal: AbortSignal.timeout(2000)}).then(
        () => 'open',
        () => 'closed',
      ),
    ).toBe('closed')

    // And the locked-down config passes the real `openclaw config validate` and kept its comments
    const validate = await lab.runCli(['config', 'validate'])
    expect(validate.exitCode, validate.stderr + validate.stdout).toBe(0)
    const locked = readFileSync(lab.configPath, 'utf8')
    expect(locked).toContain('// deliberately open lab gateway')
    expect(locked).toContain('// second bot')
    const cfg = JSON5.parse(locked)
    expect(cfg.gateway).toMatchObject({bind: 'loopback', auth: {mode: 'token'}, allowRealIpFallback: false})
    expect(cfg.channels.telegram).toMatchObject({
      dmPolicy: 'disabled',
      allowFrom: [],
      groupPolicy: 'disabled',
      accounts: {work: {dmPolicy: 'disabled', groupPolicy: 'disabled'}},
    })

    // And OpenClaw's own audit no longer reports any critical it reported before
    const after = await audit(lab)
    log(`audit after: ${after.critical.length} critical (${after.critical.join(', ') || 'none'})`)
    expect(after.critical.filter((c) => before.critical.includes(c))).toEqual([])
    expect(after.critical).toEqual([])

    // And the modes are 700/600
    expect([
      mode(lab.stateDir),
      mode(lab.configPath),
      mode(path.join(lab.stateDir, 'credentials')),
      mode(path.join(lab.stateDir, 'credentials', 'telegram-allowFrom.json')),
    ]).toEqual([0o700, 0o600, 0o700, 0o600])

    // And no secret — the new token, the hooks token — was printed or written outside the backups
    for (const secret of [cfg.gateway.auth.token as string, HOOKS_TOKEN]) {
      expect(run.stdout + run.stderr).not.toContain(secret)
      expect(caseText(irHome, run.json.case)).not.toContain(secret)
    }

    // When undone
    const undo = await runIr(lab, ['contain', '--undo', '--case', run.json.case, '--yes', '--json'], {irHome})
    // Then the config has its original bytes and modes again, and nothing was started
    expect(undo.exitCode, undo.stderr).toBe(0)
    expect(undo.json).toMatchObject({verified: true, stoppedPids: [gw.pid]})
    expect(readFileSync(lab.configPath, 'utf8')).toBe(original)
    expect([mode(lab.stateDir), mode(lab.configPath)]).toEqual([0o755, 0o644])
    expect(
      await fetch(`${lab.url}/healthz`, {signal: AbortSignal.timeout(2000)}).then(
        () => 'open',
        () => 'closed',
      ),
    ).toBe('closed')
  })

  it('--keep-running: the running gateway hot-applies the lockdown, shown by the gateway itself', async () => {
    // Given the open config running as a real gateway that accepts unauthenticated calls
    const lab = await openLab()
    const gw = await startOpenGateway(lab)
    log(`gateway ready in ${gw.readyMs} ms (pid ${gw.pid}, port ${lab.port})`)
    const probe = async (token?: string) =>
      (
        await fetch(`${lab.url}/tools/invoke`, {
          method: 'POST',
          headers: {'content-type': 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
          body: JSON.stringify({tool: '__ir_lab_no_such_tool__'}),
          signal: AbortSignal.timeout(10_000),
        })
      ).status
    expect(await probe()).toBe(404) // auth "none": anyone gets through to the tool lookup

    // When ir contain --keep-running --yes runs
    const irHome = mkdtempSync(path.join(labTmpRoot(), 'ir-home-'))
    const t0 = performance.now()
    const run = await runIr(lab, ['contain', '--state-dir', lab.stateDir, '--keep-running', '--yes', '--json'], {
      irHome,
      timeout: 300_000,
    })
    log(`ir contain --keep-running: exit ${run.exitCode} in ${Math.round(performance.now() - t0)} ms`)
    for (const s of run.json?.steps ?? []) log(`  ${s.status.padEnd(8)} ${s.id}: ${s.detail}`)
    expect(run.exitCode, run.stderr).toBe(0)

    // Then the stop was skipped and the same process still runs
    const steps = Object.fromEntries(run.json.steps.map((s: {id: string}) => [s.id, s])) as Record<
      string,
      {status: string; detail: string}
    >
    expect(steps.stop!.status).toBe('skipped')
    expect(pidAlive(gw.pid)).toBe(true)
    // And ir proved it through the gateway's own RPC: the config it applied is the edited file
    expect(steps.lockdown!.status).toBe('done')
    expect(steps.lockdown!.detail).toContain(
      `running gateway (pid ${gw.pid}): the running gateway applied the edited config (config.get: appliedConfigHash = configRevisionHash`,
    )
    // And the gateway behaves locked down: no auth is rejected now, the new token (read from the config) is accepted
    const token = JSON5.parse(readFileSync(lab.configPath, 'utf8')).gateway.auth.token as string
    await expect.poll(() => probe(), {timeout: 30_000}).toBe(401)
    expect(await probe(token)).toBe(404)
    // And the gateway's own log says it applied the change
    const reload = readFileSync(lab.logFile, 'utf8')
      .split('\n')
      .filter((l) => /config hot reload applied|config change requires gateway restart/.test(l))
    log(`gateway log: ${reload.map((l) => JSON.parse(l)['1']).join(' | ')}`)
    expect(reload.length).toBeGreaterThan(0)
    expect(run.stdout).not.toContain(token)
    // Finally: stop the gateway this test started, by pid
    process.kill(gw.pid, 'SIGTERM')
  })
})
