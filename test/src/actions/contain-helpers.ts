import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {afterEach} from 'vitest'

import {openCase, type Case} from '../../../src/case/case-store.js'
import type {Install} from '../../../src/openclaw/locate.js'
import {defaultsPrompter, type Prompter} from '../../../src/playbook/prompter.js'
import type {ActionContext} from '../../../src/playbook/action-types.js'
import type {ProcessRunner, RunResult} from '../../../src/system/process-runner.js'
import {tempDir} from '../../helpers/temp.js'

/** Shared by the contain action tests: a context on a temp state dir, a recording runner, a fake gateway process. */

export interface RecordingRunner extends ProcessRunner {
  calls: string[]
}

/** Answers each call from `reply` (by "file arg arg…"); unknown commands are "not installed". */
export function recordingRunner(
  reply: (line: string) => Partial<RunResult> | undefined = () => undefined,
): RecordingRunner {
  const calls: string[] = []
  return {
    calls,
    async run(file, args) {
      const line = [file, ...args].join(' ')
      calls.push(line)
      const r = reply(line)
      return r
        ? {exitCode: 0, stdout: '', stderr: '', timedOut: false, notFound: false, ...r}
        : {exitCode: undefined, stdout: '', stderr: '', timedOut: false, notFound: true}
    },
  }
}

export function contextFor(
  stateDir: string,
  opts: {
    configPath?: string
    runner?: ProcessRunner
    prompter?: Prompter
    env?: NodeJS.ProcessEnv
    vars?: Record<string, unknown>
    dryRun?: boolean
    case?: Case
  } = {},
): ActionContext {
  const configPath = opts.configPath ?? path.join(stateDir, 'openclaw.json')
  const install: Install = {
    stateDir,
    configPath,
    source: 'flag',
    stateDirExists: true,
    configExists: existsSync(configPath),
  }
  return {
    install,
    case: opts.case ?? openCase(undefined, {home: tempDir('ir-case-')}),
    prompter: opts.prompter ?? defaultsPrompter,
    runner: opts.runner ?? recordingRunner(),
    env: opts.env ?? {HOME: tempDir('ir-home-')},
    now: () => new Date('2026-11-23T10:00:00Z'),
    vars: opts.vars ?? {},
    dryRun: opts.dryRun ?? false,
    results: new Map(),
    state: {},
  }
}

const children = new Set<ChildProcess>()
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL')
  children.clear()
})

export interface FakeGateway {
  pid: number
  port: number
  child: ChildProcess
  exited: Promise<void>
  running(): boolean
}

/**
 * A stand-in gateway: a real process titled `openclaw-gateway` (what /proc shows for the real one),
 * serving /healthz on a loopback port and holding the 2026.8+ lock file of `stateDir`
 * (pid, port, stateDir, configPath, startTime from /proc). `title` makes it another program;
 * `ignoreTerm` makes it ignore SIGTERM, like a gateway draining active work.
 */
export async function startFakeGateway(
  stateDir: string,
  opts: {title?: string; ignoreTerm?: boolean; lock?: boolean} = {},
): Promise<FakeGateway> {
  const lockDir = path.join(stateDir, 'tmp', `openclaw-${process.getuid?.() ?? 0}`)
  mkdirSync(lockDir, {recursive: true})
  const script = `
    process.title = ${JSON.stringify(opts.title ?? 'openclaw-gateway')}
    ${opts.ignoreTerm ? "process.on('SIGTERM', () => {})" : ''}
    const fs = require('node:fs')
    const server = require('node:http').createServer((req, res) => { res.writeHead(req.url === '/healthz' ? 200 : 404); res.end('{"ok":true}') })
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port
      const stat = fs.readFileSync('/proc/self/stat', 'utf8')
      const startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
      if (${opts.lock !== false}) fs.writeFileSync(${JSON.stringify(path.join(lockDir, 'gateway.state.lock'))},
        JSON.stringify({pid: process.pid, port, stateDir: ${JSON.stringify(stateDir)}, configPath: ${JSON.stringify(path.join(stateDir, 'openclaw.json'))}, startTime}))
      process.stdout.write(String(port) + '\\n')
    })`
  const child = spawn(process.execPath, ['-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
  children.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(Number(String(d).trim())))
    child.once('exit', () => reject(new Error('fake gateway exited early')))
  })
  return {pid: child.pid!, port, child, exited, running: () => child.exitCode === null && child.signalCode === null}
}
