// `ir contain` on every OpenClaw line that matters here (2026.9.6 SQLite era, 2026.7.35 and 2026.6.35
// file-era maintenance lines), with configs in the shapes OpenClaw itself writes (`openclaw config set`
// of that version): after `ir contain --yes` that version's own `config validate` passes, the criticals
// its own `security audit` reported are gone, `--undo` restores the bytes. One running gateway, started
// from a shell as an operator would (no IR_OPENCLAW_BIN): ir finds its openclaw from the process, and the
// process is gone and the port closed after. And with no openclaw anywhere: verified false, exit 5.
import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {execa} from 'execa'
import JSON5 from 'json5'
import {afterEach, describe, expect, it} from 'vitest'

import {
  pidAlive,
  prepareLabStateDir,
  requireLabOpenClaw,
  runIr,
  type LabConfigContext,
  type LabStateDir,
} from './harness/index.js'

const log = (line: string) => process.stderr.write(`[lab contain-versions] ${line}\n`)

interface Version {
  version: string
  mjs: string
  bin: string
}

/** The pinned version in app/, the others in versions/<v>/ (test/lab/install.sh). */
function labVersion(version: string): Version {
  const lab = requireLabOpenClaw()
  const root = version === '2026.9.6' ? path.join(lab.cacheDir, 'app') : path.join(lab.cacheDir, 'versions', version)
  const mjs = path.join(root, 'node_modules', 'openclaw', 'openclaw.mjs')
  if (!existsSync(mjs)) throw new Error(`openclaw ${version} is not in ${root}: run bash test/lab/install.sh`)
  return {version, mjs, bin: path.join(root, 'node_modules', '.bin')}
}

/** Open on purpose (auth "none" on a LAN bind, mDNS full), lab rules kept: web tools denied. */
const BASE = (exec: string) => (ctx: LabConfigContext) =>
  `${JSON.stringify(
    {
      gateway: {mode: 'local', port: ctx.port, bind: 'lan', auth: {mode: 'none'}},
      discovery: {mdns: {mode: 'full'}},
      update: {checkOnStart: false},
      logging: {file: ctx.logFile},
      tools: {...(exec ? {exec: JSON.parse(exec)} : {}), deny: ['web_fetch', 'web_search', 'x_search', 'browser']},
    },
    null,
    2,
  )}\n`

const labs: LabStateDir[] = []
const started = new Set<ChildProcess>()
afterEach(async () => {
  // Only what this file started, by pid.
  for (const c of started) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL')
  started.clear()
  for (const l of labs.splice(0)) await l.cleanup()
})

async function cli(lab: LabStateDir, v: Version, args: string[]) {
  const t0 = performance.now()
  const r = await execa(lab.lab.node24, [v.mjs, ...args], {reject: false, env: lab.env, extendEnv: false, cwd: lab.dir})
  log(`openclaw ${v.version} ${args.join(' ')}: exit ${r.exitCode} in ${Math.round(performance.now() - t0)} ms`)
  return {exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr)}
}

async function criticals(lab: LabStateDir, v: Version): Promise<string[]> {
  const r = await cli(lab, v, ['security', 'audit', '--json'])
  const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
    findings: Array<{checkId: string; severity: string}>
  }
  return report.findings.filter((f) => f.severity === 'critical').map((f) => f.checkId)
}

/** Env for ir that names this version's CLI explicitly (as an operator with IR_OPENCLAW_BIN would). */
const named = (lab: LabStateDir, v: Version) => ({IR_OPENCLAW_BIN: v.mjs, IR_OPENCLAW_NODE: lab.lab.node24})

describe('ir contain across OpenClaw versions', () => {
  const matrix: Array<{version: string; exec: string; set: string[]; expectExec: Record<string, string>}> = [
    // The lab's own default exec form (mode "deny") must stay alone: the measured bug added security beside it.
    {
      version: '2026.9.6',
      exec: '{"mode": "deny"}',
      set: ['tools.elevated.enabled', 'true'],
      expectExec: {mode: 'deny'},
    },
    {version: '2026.7.35', exec: '', set: ['tools.exec.mode', 'full'], expectExec: {mode: 'deny'}},
    // The legacy form, as that version's `config set` writes it: edited in place, never migrated.
    {version: '2026.6.35', exec: '', set: ['tools.exec.security', 'full'], expectExec: {security: 'deny'}},
  ]
  for (const m of matrix) {
    it(`${m.version}: its own config validate passes, its audit criticals are gone, --undo restores the bytes`, async () => {
      const t0 = performance.now()
      const v = labVersion(m.version)
      // Given a config in the shape this version writes (`config set`), gateway down
      const lab = await prepareLabStateDir({configText: BASE(m.exec), prefix: `ir-lab-v${m.version}-`})
      labs.push(lab)
      expect((await cli(lab, v, ['config', 'set', ...m.set])).exitCode).toBe(0)
      const original = readFileSync(lab.configPath, 'utf8')
      const before = await criticals(lab, v)
      expect(before).toContain('gateway.bind_no_auth')
      // When contained with this version's CLI named
      const irHome = path.join(lab.dir, 'ir-home')
      const r = await runIr(lab, ['contain', '--yes', '--json', '--state-dir', lab.stateDir], {
        irHome,
        env: named(lab, v),
        timeout: 300_000,
      })
      // Then ir says verified, on that CLI's word
      const status = (id: string) => r.json?.steps?.find((s: {id: string}) => s.id === id)?.status
      expect([status('lockdown'), status('audit')], r.stdout + r.stderr).toEqual(['done', 'done'])
      expect(r.json.verified).toBe(true)
      expect(r.exitCode).toBe(0)
      const lock = r.json.steps.find((s: {id: string}) => s.id === 'lockdown')
      expect(lock.detail).toContain(`validated by openclaw ${m.version} (IR_OPENCLAW_BIN`)
      // And the exec object kept its form, and the version's own validator agrees (independently of ir)
      const after = JSON5.parse(readFileSync(lab.configPath, 'utf8'))
      expect(after.tools.exec).toEqual(m.expectExec)
      expect((await cli(lab, v, ['config', 'validate'])).exitCode).toBe(0)
      // And none of the criticals its audit reported before remains (ir saved that audit, secrets masked)
      const saved = JSON.parse(readFileSync(path.join(irHome, 'cases', r.json.case, 'security-audit.json'), 'utf8'))
      const left = (saved.findings as Array<{checkId: string; severity: string}>)
        .filter((f) => f.severity === 'critical')
        .map((f) => f.checkId)
      expect(left.filter((c) => before.includes(c))).toEqual([])
      // And --undo puts the original bytes back
      const undo = await runIr(lab, ['contain', '--undo', '--case', r.json.case, '--yes', '--json'], {irHome})
      expect(undo.json).toMatchObject({verified: true, exitCode: 0})
      expect(readFileSync(lab.configPath, 'utf8')).toBe(original)
      log(`${m.version}: criticals before ${before.join(', ')}; case in ${Math.round(performance.now() - t0)} ms`)
    }, 420_000)
  }

  it('2026.7.35 started from a shell: ir finds that openclaw from the gateway process, stops it, closes the port', async () => {
    const v = labVersion('2026.7.35')
    // Given a running gateway started as `openclaw gateway run` from a shell (PATH has the install's bin)
    const lab = await prepareLabStateDir({configText: BASE(''), prefix: 'ir-lab-v-running-'})
    labs.push(lab)
    expect((await cli(lab, v, ['config', 'set', 'tools.exec.mode', 'full'])).exitCode).toBe(0)
    const out = path.join(lab.dir, 'gateway.out.log')
    const fd = openSync(out, 'a', 0o600)
    const env = {...lab.env, PATH: [v.bin, path.dirname(lab.lab.node24), lab.env.PATH].join(path.delimiter)}
    // (`; true` keeps bash from its exec shortcut, so it sets `_` to the command's path, as a login shell does)
    const child = spawn('bash', ['-c', 'exec openclaw gateway run --bind loopback; true'], {
      cwd: lab.dir,
      env,
      stdio: ['ignore', fd, fd],
    })
    closeSync(fd)
    started.add(child)
    const t0 = performance.now()
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gateway exited early:\n${readFileSync(out, 'utf8').slice(-3000)}`)
      if (performance.now() - t0 > 180_000)
        throw new Error(`gateway not ready:\n${readFileSync(out, 'utf8').slice(-3000)}`)
      const ok = await fetch(`${lab.url}/readyz`, {signal: AbortSignal.timeout(2000)})
        .then((res) => res.status === 200)
        .catch(() => false)
      if (ok) break
      await new Promise((res) => setTimeout(res, 500))
    }
    log(`gateway ${v.version} ready in ${Math.round(performance.now() - t0)} ms (pid ${child.pid})`)
    // When contained with no IR_OPENCLAW_BIN and no openclaw on ir's PATH
    const r = await runIr(lab, ['contain', '--yes', '--json', '--state-dir', lab.stateDir], {
      env: {IR_OPENCLAW_BIN: '', IR_OPENCLAW_NODE: ''},
      timeout: 300_000,
    })
    // Then the lockdown was validated by the gateway's own openclaw, found through its process
    const lock = r.json?.steps?.find((s: {id: string}) => s.id === 'lockdown')
    expect(lock?.detail, r.stdout + r.stderr).toMatch(/validated by openclaw 2026\.7\.35 \(gateway process pid \d+/)
    expect(r.json.verified).toBe(true)
    // And the process is gone and its port closed
    expect(pidAlive(child.pid!)).toBe(false)
    const open = await fetch(`${lab.url}/readyz`, {signal: AbortSignal.timeout(2000)})
      .then(() => true)
      .catch(() => false)
    expect(open).toBe(false)
  }, 420_000)

  it('with no openclaw CLI anywhere: the lockdown is written but the run is not verified (exit 5, reason)', async () => {
    const lab = await prepareLabStateDir({configText: BASE('{"mode": "full"}'), prefix: 'ir-lab-v-nocli-'})
    labs.push(lab)
    const r = await runIr(lab, ['contain', '--yes', '--json', '--state-dir', lab.stateDir], {
      env: {IR_OPENCLAW_BIN: '', IR_OPENCLAW_NODE: ''},
    })
    expect(r.exitCode).toBe(5)
    expect(r.json.verified).toBe(false)
    expect(r.json.steps.find((s: {id: string}) => s.id === 'lockdown').detail).toContain(
      'NOT verified: not confirmed by OpenClaw: no openclaw CLI found',
    )
    expect(JSON5.parse(readFileSync(lab.configPath, 'utf8')).tools.exec).toEqual({mode: 'deny'})
  })
})
