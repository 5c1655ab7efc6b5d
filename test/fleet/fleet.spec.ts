// The fleet playbooks (ansible/) with Debian's real ansible-playbook against five "hosts" on this machine:
// three OpenClaw installs (SQLite era in the default ~/.openclaw, file era in a custom dir, a real running
// lab gateway), a host without Node and an unreachable address. Each reachable host is its own Unix user
// behind its own sshd on its own loopback address; ir reaches them only as the package npm run pack:fleet
// builds. Needs root (users, sshd); run by `npm run test:fleet`.
import {type ChildProcess, spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {fileEraStateDir} from '../fixtures/state-dirs.js'
import {
  openclawBuiltStateDir,
  prepareLabStateDir,
  repoRoot,
  requireLabOpenClaw,
  type LabStateDir,
} from '../lab/harness/index.js'
import {startSshFleet, toolsWithoutNode, type SshFleet} from './sshd-hosts.js'

const log = (line: string) => process.stderr.write(`[fleet] ${line}\n`)

interface HostSummary {
  host: string
  status: 'ok' | 'failed' | 'unreachable'
  exitCode: number | null
  case: string | null
  worst: string | null
  worstAfter: string | null
  bundle: string | null
  bundleSha256: string | null
  bundleVerified: boolean | null
  verified: boolean | null
  error: string | null
  result: string | null
  secretsFile: string | null
}
interface Summary {
  playbook: string
  runId: string
  checkMode: boolean
  hosts: HostSummary[]
}

let fleet: SshFleet
let lab: LabStateDir
let gateway: ChildProcess
let pkg: string
let inventory: string
const INSTALLS = ['sqlite', 'file', 'gateway']

async function chownTree(dir: string, uid: number, gid: number) {
  await execa('chown', ['-R', `${uid}:${gid}`, dir])
}

/** The lab gateway, started as the host's own user (so that ir, running as that user, may stop it). */
async function startGatewayAs(uid: number, gid: number, home: string): Promise<ChildProcess> {
  const saved = process.env.IR_LAB_TMP
  process.env.IR_LAB_TMP = home
  try {
    // The lab's rules: exec and the web tools denied.
    lab = await prepareLabStateDir({
      prefix: 'lab-',
      config: {tools: {deny: ['exec', 'web_fetch', 'web_search', 'x_search', 'browser']}},
    })
  } finally {
    if (saved === undefined) delete process.env.IR_LAB_TMP
    else process.env.IR_LAB_TMP = saved
  }
  await chownTree(lab.dir, uid, gid)
  const out = path.join(lab.dir, 'gateway.out.log')
  const fd = openSync(out, 'a', 0o600)
  const child = spawn(lab.lab.node24, [lab.lab.openclawMjs, 'gateway', 'run'], {
    cwd: lab.dir,
    env: lab.env,
    uid,
    gid,
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  const t0 = performance.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited early:\n${readFileSync(out, 'utf8').slice(-3000)}`)
    if (performance.now() - t0 > 120_000)
      throw new Error(`gateway not ready:\n${readFileSync(out, 'utf8').slice(-3000)}`)
    const status = await fetch(`${lab.url}/readyz`, {signal: AbortSignal.timeout(2000)})
      .then((r) => r.status)
      .catch(() => 0)
    if (status === 200) break
    await new Promise((r) => setTimeout(r, 250))
  }
  log(`gateway up as uid ${uid} in ${Math.round(performance.now() - t0)} ms (pid ${child.pid}, port ${lab.port})`)
  return child
}

async function playbook(
  name: string,
  bundleDir: string,
  extra: string[] = [],
): Promise<{exitCode: number | undefined; output: string; summary: Summary; ms: number}> {
  const t0 = performance.now()
  const env = {
    ...process.env,
    ANSIBLE_HOME: path.join(fleet.dir, 'ansible-home'),
    ANSIBLE_LOCAL_TEMP: path.join(fleet.dir, 'ansible-local'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: fleet.controlPathDir,
    ANSIBLE_CALLBACKS_ENABLED: 'ansible.posix.profile_tasks',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_LOCALHOST_WARNING: 'False',
  }
  const r = await execa(
    'ansible-playbook',
    [
      '-i',
      inventory,
      path.join(repoRoot, 'ansible', 'playbooks', `${name}.yml`),
      '-e',
      `ir_bundle_dir=${bundleDir}`,
      '-e',
      `ir_package=${pkg}`,
      ...extra,
    ],
    {env, reject: false, timeout: 600_000, all: true},
  )
  const ms = Math.round(performance.now() - t0)
  const output = String(r.all)
  writeFileSync(path.join(fleet.dir, `${name}-${Date.now()}.log`), output)
  log(`ansible-playbook ${name}.yml ${extra.join(' ')}: exit ${r.exitCode} in ${ms} ms`)
  // profile_tasks' slowest tasks: where the time of a run goes.
  const profile = output.slice(output.lastIndexOf('=====')).split('\n').slice(1, 6)
  for (const line of profile) if (line.trim()) log(`    ${line.replace(/-{3,}/, '')}`)
  const summaryFile = path.join(bundleDir, 'summary.json')
  if (!existsSync(summaryFile)) throw new Error(`no summary.json; ansible-playbook said:\n${output.slice(-4000)}`)
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary
  for (const h of summary.hosts)
    log(`  ${h.host.padEnd(12)} ${h.status.padEnd(11)} exit ${h.exitCode} worst ${h.worst} ${h.error ?? ''}`)
  return {exitCode: r.exitCode, output, summary, ms}
}

const hostOf = (s: Summary, name: string) => s.hosts.find((h) => h.host === name)!
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

beforeAll(async () => {
  const lab24 = requireLabOpenClaw()
  if (!existsSync(path.join(repoRoot, 'dist', 'oclif.manifest.json'))) throw new Error('Run `npm run build` first.')
  fleet = startSshFleet('irf')
  // Given the package the role ships, built from this checkout
  pkg = path.join(fleet.dir, 'ir-fleet.tgz')
  await execa('npx', ['tsx', 'scripts/pack-fleet.ts', '--out', pkg], {cwd: repoRoot})

  // And five hosts: three installs, one without Node, one unreachable
  const sqlite = await fleet.addHost({name: 'sqlite', address: '127.0.0.2'})
  const file = await fleet.addHost({name: 'file', address: '127.0.0.3'})
  const gw = await fleet.addHost({name: 'gateway', address: '127.0.0.4'})
  const nonode = await fleet.addHost({name: 'nonode', address: '127.0.0.5', pathDirs: [toolsWithoutNode(fleet.dir)]})
  // The SQLite era as OpenClaw 2026.9.6 makes it in the default ~/.openclaw (its config set, its migrations)
  await openclawBuiltStateDir(sqlite.home, [
    ['gateway.mode', 'local'],
    ['gateway.bind', 'loopback'],
    ['gateway.auth.mode', 'token'],
    ['gateway.auth.token', `fleet-${randomBytes(16).toString('hex')}`],
  ])
  await chownTree(path.join(sqlite.home, '.openclaw'), sqlite.uid, sqlite.gid)
  fileEraStateDir(path.join(file.home, 'srv-openclaw'))
  await chownTree(path.join(file.home, 'srv-openclaw'), file.uid, file.gid)
  gateway = await startGatewayAs(gw.uid, gw.gid, gw.home)

  const openclawCli = {IR_OPENCLAW_BIN: lab24.openclawMjs, IR_OPENCLAW_NODE: lab24.node24}
  const {PATH: _path, ...labEnv} = lab.env
  const ssh = (h: typeof sqlite) => ({
    ansible_host: h.address,
    ansible_port: h.port,
    ansible_user: h.user,
    ansible_ssh_private_key_file: fleet.clientKey,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${fleet.knownHosts} -o StrictHostKeyChecking=yes -o ConnectTimeout=5`,
    ansible_python_interpreter: '/usr/bin/python3',
  })
  inventory = path.join(fleet.dir, 'inventory.json')
  writeFileSync(
    inventory,
    JSON.stringify({
      all: {
        hosts: {
          // The SQLite era in the host's default ~/.openclaw: no ir_state_dir.
          sqlite: {...ssh(sqlite), ir_env: openclawCli},
          file: {...ssh(file), ir_state_dir: path.join(file.home, 'srv-openclaw'), ir_env: openclawCli},
          gateway: {...ssh(gw), ir_state_dir: lab.stateDir, ir_env: {...labEnv, ...openclawCli}},
          nonode: ssh(nonode),
          unreachable: {
            ansible_host: '127.0.0.9',
            ansible_port: 9,
            ansible_user: 'nobody',
            ansible_ssh_common_args: '-o ConnectTimeout=3',
          },
        },
      },
    }),
  )
})

afterAll(async () => {
  if (gateway?.pid && gateway.exitCode === null && gateway.signalCode === null) process.kill(gateway.pid, 'SIGKILL')
  await fleet?.cleanup()
  // The users are gone with their homes.
  for (const h of fleet?.hosts ?? []) expect(existsSync(h.home)).toBe(false)
})

describe('the fleet playbooks on real sshd hosts', () => {
  it('status: one summary naming every host, the worst exposure of each install; no Node and unreachable reported', async () => {
    // When the status playbook runs on all five hosts
    const dir = path.join(fleet.dir, 'bundles-status')
    const {exitCode, output, summary} = await playbook('status', dir)

    // Then the three installs report, each with its worst exposure
    expect(summary.hosts.map((h) => h.host)).toEqual(['file', 'gateway', 'nonode', 'sqlite', 'unreachable'])
    for (const name of INSTALLS) {
      const h = hostOf(summary, name)
      expect(h, name).toMatchObject({status: 'ok', exitCode: 0, error: null})
      expect(['critical', 'high', 'medium', 'low', 'info', 'none']).toContain(h.worst)
    }
    // And ir status saw each install where it is (the running gateway up)
    const gw = JSON.parse(readFileSync(hostOf(summary, 'gateway').result!, 'utf8'))
    expect(gw.installs[0]).toMatchObject({stateDir: lab.stateDir, gateway: {state: 'up'}})
    const sq = JSON.parse(readFileSync(hostOf(summary, 'sqlite').result!, 'utf8'))
    expect(sq.installs[0].era.era).toBe('sqlite')
    expect(JSON.parse(readFileSync(hostOf(summary, 'file').result!, 'utf8')).installs[0].era.era).toBe('file')
    // And the host without Node and the unreachable one are named, with why
    expect(hostOf(summary, 'nonode')).toMatchObject({status: 'failed', exitCode: null})
    expect(hostOf(summary, 'nonode').error).toMatch(/^Node >= 20 is required on this host .*`node` was not found/)
    expect(hostOf(summary, 'unreachable').status).toBe('unreachable')
    expect(hostOf(summary, 'unreachable').error).toMatch(/^unreachable: .*127\.0\.0\.9/)
    // And the table lists them; ansible-playbook fails (exit 2) for the two
    expect(output).toMatch(/HOST +STATUS +EXIT +WORST/)
    expect(output).toMatch(/"sqlite +ok +0 +\w+/)
    expect(exitCode).toBe(2)
    // And nothing of ir stays on the hosts
    for (const h of fleet.hosts) expect(readdirSync(h.home).filter((n) => n.startsWith('ir-fleet-'))).toEqual([])
  })

  let collectRun: string
  it('collect: three bundles home, each verified there by ir verify; --check reruns the same cases as a dry run', async () => {
    // When the collect playbook runs on all five hosts
    const dir = path.join(fleet.dir, 'bundles-collect')
    const {summary} = await playbook('collect', dir)
    collectRun = summary.runId

    // Then each install's bundle and .sha256 are in <dir>/<host>/, verified, 0600
    for (const name of INSTALLS) {
      const h = hostOf(summary, name)
      expect(h, name).toMatchObject({status: 'ok', exitCode: 0, bundleVerified: true, verified: true})
      expect(h.case).toBe(`IR-${summary.runId}-${name}`)
      expect(path.dirname(h.bundle!)).toBe(path.join(dir, name))
      expect(statSync(h.bundle!).mode & 0o777).toBe(0o600)
      // And the bytes are the ones ir hashed on the host
      expect(sha256(h.bundle!)).toBe(h.bundleSha256)
      expect(readFileSync(`${h.bundle}.sha256`, 'utf8')).toContain(h.bundleSha256!)
      expect(['critical', 'high', 'medium', 'low', 'info', 'none']).toContain(h.worst)
    }
    expect(hostOf(summary, 'nonode').status).toBe('failed')
    expect(hostOf(summary, 'unreachable').status).toBe('unreachable')

    // And a bundle altered on the control node no longer verifies with the same ir verify
    const bundle = hostOf(summary, 'file').bundle!
    const copy = path.join(fleet.dir, 'tampered', path.basename(bundle))
    mkdirSync(path.dirname(copy))
    const bytes = readFileSync(bundle)
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff
    writeFileSync(copy, bytes)
    writeFileSync(`${copy}.sha256`, readFileSync(`${bundle}.sha256`))
    const verify = await execa('node', [path.join(repoRoot, 'bin', 'run.js'), 'verify', copy, '--json'], {
      reject: false,
    })
    expect(verify.exitCode).toBe(3)

    // When collect reruns with the same run id under --check
    const again = await playbook('collect', path.join(fleet.dir, 'bundles-check'), [
      '--check',
      '-e',
      `ir_run_id=${collectRun}`,
      '--limit',
      'sqlite',
    ])
    // Then it joins the same case, as a dry run: no new bundle
    expect(again.summary.checkMode).toBe(true)
    expect(hostOf(again.summary, 'sqlite')).toMatchObject({status: 'ok', case: `IR-${collectRun}-sqlite`, bundle: null})
    expect(again.summary.hosts.map((h) => h.host)).toEqual(['sqlite'])
  })

  it('contain: all three installs contained and validated by OpenClaw, the running gateway stopped', async () => {
    // When the contain playbook runs on the three installs
    const dir = path.join(fleet.dir, 'bundles-contain')
    const {exitCode, summary} = await playbook('contain', dir, ['--limit', INSTALLS.join(',')])

    // Then each host's ir says its change is verified (OpenClaw validated the config)
    for (const name of INSTALLS) {
      const result = JSON.parse(readFileSync(hostOf(summary, name).result!, 'utf8'))
      const failed = (result.steps ?? []).filter((s: {status: string}) => s.status === 'failed')
      expect(hostOf(summary, name), `${name}: ${JSON.stringify(failed)}`).toMatchObject({
        status: 'ok',
        exitCode: 0,
        verified: true,
      })
      expect(result.verified).toBe(true)
    }
    expect(exitCode).toBe(0)
    // And the gateway process is gone
    await new Promise((r) => setTimeout(r, 500))
    expect(gateway.exitCode !== null || gateway.signalCode !== null).toBe(true)
    // And OpenClaw itself still accepts the contained config
    const validate = await lab.runCli(['config', 'validate'])
    expect(validate.exitCode, validate.stdout + validate.stderr).toBe(0)
  })

  it('rotate: new secrets reach the control node only as a 0600 file, never through Ansible output', async () => {
    // When rotate runs on the file-era host and the new secrets are fetched
    const dir = path.join(fleet.dir, 'bundles-rotate')
    const {output, summary} = await playbook('rotate', dir, [
      '--limit',
      'file',
      '-e',
      '{"ir_fetch_secrets": true, "ir_args": ["--allow-unverified"]}',
    ])
    const h = hostOf(summary, 'file')
    expect(h, h.error ?? '').toMatchObject({status: 'ok', exitCode: 0})
    // Then the secrets file sits in the host's folder, 0600, holding the new token
    const fetched = readdirSync(path.join(dir, 'file')).find((n) => n.startsWith('secrets-'))!
    const file = path.join(dir, 'file', fetched)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>
    const token = secrets['gateway.auth.token']!
    expect(token.length).toBeGreaterThan(20)
    // And the new value appears nowhere else: not in Ansible's output, the summary or the stored result
    expect(output).not.toContain(token)
    expect(readFileSync(path.join(dir, 'summary.json'), 'utf8')).not.toContain(token)
    expect(readFileSync(h.result!, 'utf8')).not.toContain(token)
  })

  it('a host whose Node is not the one the native modules were built for is refused, saying which to use', async () => {
    // Given the sqlite host's Node is Node 24 (ABI 137) while the package was built under this Node 20
    const {summary} = await playbook('status', path.join(fleet.dir, 'bundles-abi'), [
      '--limit',
      'sqlite',
      '-e',
      `ir_node=${requireLabOpenClaw().node24}`,
    ])
    // Then the host fails before anything is unpacked, naming both ABIs and the way out
    expect(hostOf(summary, 'sqlite')).toMatchObject({status: 'failed', exitCode: null})
    expect(hostOf(summary, 'sqlite').error).toMatch(
      new RegExp(`built for linux-x64 Node ABI ${process.versions.modules} .* Node ABI 137 .*npm run pack:fleet`),
    )
  })

  it('respond: runs where the package has `ir respond`; otherwise each host fails clearly, before anything runs', async () => {
    const facts = JSON.parse((await execa('tar', ['-xzOf', pkg, 'ir/fleet-package.json'])).stdout)
    const {summary} = await playbook('respond', path.join(fleet.dir, 'bundles-respond'), ['--limit', 'sqlite'])
    const h = hostOf(summary, 'sqlite')
    if (facts.commands.includes('respond')) {
      // It ran for real, in its own case. This host has no running gateway to prove the rotation, so an
      // honest respond may end partial (5); a bundle that came home must verify.
      expect(h.error ?? '').not.toMatch(/has no `respond` command/)
      expect(h.case).toMatch(/^IR-/)
      expect([0, 3, 5]).toContain(h.exitCode)
      if (h.bundle) expect(h.bundleVerified).toBe(true)
    } else {
      expect(h).toMatchObject({status: 'failed', exitCode: null})
      expect(h.error).toMatch(/^The ir in the package \(version .*\) has no `respond` command/)
    }
  })
})
