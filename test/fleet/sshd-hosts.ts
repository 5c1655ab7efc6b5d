// Throwaway "hosts" on this machine for the fleet test: each a new Unix user reached through its own sshd
// on its own loopback address and port, with its own host key, all in one temp dir. Needs root. Stops only
// the sshd processes it started (by pid) and removes only the users and files it created.
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import {connect, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

export interface SshHost {
  /** Inventory name. */
  name: string
  address: string
  port: number
  user: string
  uid: number
  gid: number
  home: string
  sshd: ChildProcess
}

export interface SshFleet {
  /** Temp dir holding keys, sshd configs and the users' homes (0711: each home is its user's own). */
  dir: string
  clientKey: string
  knownHosts: string
  /** For ANSIBLE_SSH_CONTROL_PATH_DIR: its multiplexing masters are closed before the users go. */
  controlPathDir: string
  hosts: SshHost[]
  addHost(options: {name: string; address: string; pathDirs?: string[]}): Promise<SshHost>
  /** Stops every sshd (by pid), removes the users and the temp dir. Idempotent. */
  cleanup(): Promise<void>
}

const SSHD = '/usr/sbin/sshd'

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
}

/** A port the OS says is free on this loopback address. */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, address, () => {
      const a = server.address()
      server.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host: address, port, timeout: 1000})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    process.kill(child.pid!, 'SIGTERM')
  })
}

export function startSshFleet(prefix: string): SshFleet {
  if (process.getuid?.() !== 0) throw new Error('The fleet test creates users and runs sshd: run it as root.')
  if (!existsSync(SSHD)) throw new Error(`No ${SSHD}: apt-get install openssh-server.`)
  const dir = mkdtempSync(path.join(tmpdir(), 'ir-fleet-'))
  chmodSync(dir, 0o711)
  // sshd refuses to start without its privilege-separation dir; made only when missing, removed after.
  const madePrivsep = !existsSync('/run/sshd')
  if (madePrivsep) mkdirSync('/run/sshd', {mode: 0o755})
  const clientKey = path.join(dir, 'client_ed25519')
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ir-fleet-test', '-f', clientKey])
  const knownHosts = path.join(dir, 'known_hosts')
  writeFileSync(knownHosts, '')
  const controlPathDir = path.join(dir, 'ssh-cp')
  mkdirSync(controlPathDir, {mode: 0o700})
  const hosts: SshHost[] = []
  const users: string[] = []
  const tag = Math.random().toString(16).slice(2, 6)
  let cleaned: Promise<void> | undefined

  async function addHost({name, address, pathDirs}: {name: string; address: string; pathDirs?: string[]}) {
    const user = `${prefix}${tag}${hosts.length + 1}`
    const home = path.join(dir, `home-${name}`)
    run('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/bash', '--user-group', user])
    users.push(user)
    // No password, yet not locked ('!'): sshd without PAM refuses locked accounts even with a key.
    run('usermod', ['--password', '*', user])
    const uid = Number(run('id', ['-u', user]).trim())
    const gid = Number(run('id', ['-g', user]).trim())
    chmodSync(home, 0o700)
    const sshDir = path.join(home, '.ssh')
    mkdirSync(sshDir, {mode: 0o700})
    writeFileSync(path.join(sshDir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), {mode: 0o600})
    for (const p of [sshDir, path.join(sshDir, 'authorized_keys')]) chownSync(p, uid, gid)

    const sshdDir = path.join(dir, `sshd-${name}`)
    mkdirSync(sshdDir, {mode: 0o700})
    const hostKey = path.join(sshdDir, 'host_ed25519')
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
    const port = await freePort(address)
    const config = path.join(sshdDir, 'sshd_config')
    writeFileSync(
      config,
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${hostKey}`,
        `PidFile ${path.join(sshdDir, 'sshd.pid')}`,
        'AuthorizedKeysFile .ssh/authorized_keys',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        `AllowUsers ${user}`,
        'UsePAM no',
        'Subsystem sftp internal-sftp',
        // A host whose PATH lacks Node: only the tools Ansible itself needs.
        ...(pathDirs ? [`SetEnv PATH=${pathDirs.join(':')}`] : []),
        '',
      ].join('\n'),
    )
    const log = path.join(sshdDir, 'sshd.log')
    const sshd = spawn(SSHD, ['-D', '-e', '-f', config], {stdio: ['ignore', 'ignore', 'pipe']})
    sshd.stderr!.on('data', (chunk: Buffer) => writeFileSync(log, chunk, {flag: 'a'}))
    const t0 = Date.now()
    while (!(await accepts(address, port))) {
      if (sshd.exitCode !== null || Date.now() - t0 > 15_000) {
        await stopChild(sshd)
        throw new Error(`sshd for ${name} did not start:\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    const pub = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')
    writeFileSync(knownHosts, `[${address}]:${port} ${pub}\n`, {flag: 'a'})
    const host = {name, address, port, user, uid, gid, home, sshd}
    hosts.push(host)
    return host
  }

  return {
    dir,
    clientKey,
    knownHosts,
    controlPathDir,
    hosts,
    addHost,
    cleanup() {
      cleaned ??= (async () => {
        // ssh's ControlPersist masters keep a session (and a process of the user) open after Ansible exits.
        for (const socket of readdirSync(controlPathDir)) {
          try {
            run('ssh', ['-S', path.join(controlPathDir, socket), '-O', 'exit', 'fleet-host'])
          } catch {
            // already gone
          }
        }
        for (const h of hosts) await stopChild(h.sshd)
        for (const u of users) await removeUser(u)
        rmSync(dir, {recursive: true, force: true, maxRetries: 3, retryDelay: 200})
        if (madePrivsep) rmSync('/run/sshd', {recursive: true, force: true})
      })()
      return cleaned
    },
  }
}

/** userdel, once the user's last processes (ssh sessions winding down) are gone: SIGTERM by pid, then retry. */
async function removeUser(user: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      run('userdel', [user])
      return
    } catch (error) {
      if (attempt >= 20) {
        process.stderr.write(`[fleet] userdel ${user}: ${(error as Error).message}\n`)
        return
      }
    }
    let pids: number[] = []
    try {
      pids = run('ps', ['-o', 'pid=', '-u', user]).split('\n').map(Number).filter(Boolean)
    } catch {
      // no process left
    }
    for (const pid of pids) {
      try {
        process.kill(pid, attempt < 10 ? 'SIGTERM' : 'SIGKILL')
      } catch {
        // exited meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** A directory of links to the commands Ansible runs on a host (a PATH without Node). */
export function toolsWithoutNode(dir: string): string {
  const bin = path.join(dir, 'bin-without-node')
  mkdirSync(bin, {recursive: true, mode: 0o755})
  for (const tool of ['sh', 'bash', 'mkdir', 'rm', 'chmod', 'echo', 'sleep', 'cat', 'ls', 'tar', 'gzip', 'python3']) {
    const target = run('sh', ['-c', `command -v ${tool}`]).trim()
    if (target) execFileSync('ln', ['-sf', target, path.join(bin, tool)])
  }
  return bin
}
