// A real OpenClaw gateway for lab tests: isolated temp dir and env (openclaw-live.md §2), loopback
// port, token auth, the fake model as its only provider. Stops only the process it started, by pid.
import {type ChildProcess, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import path from 'node:path'
import {execa} from 'execa'
import {FAKE_MODEL_API_KEY, FAKE_MODEL_ID, type FakeModel, type FakeModelOptions, startFakeModel} from './fake-model.js'
import {labTmpRoot, type LabOpenClaw, requireLabOpenClaw} from './paths.js'

export type JsonObject = {[key: string]: unknown}

/** What a raw config text may be built from. */
export interface LabConfigContext {
  dir: string
  stateDir: string
  port: number
  token: string
  logFile: string
  fakeModelBaseUrl?: string
}

export interface LabStateDirOptions {
  /** Gateway token (default: random, 48 hex chars after a `lab-` prefix). */
  token?: string
  /** Gateway port (default: a free loopback port). */
  port?: number
  /** Deep-merged over the default config (objects merge, everything else replaces; `null` deletes). */
  config?: JsonObject
  /** Written verbatim instead of the generated config (JSON5 allowed). */
  configText?: string | ((ctx: LabConfigContext) => string)
  /** Adds the `fake` provider block and makes `fake/fake-model` the default model. */
  fakeModelBaseUrl?: string
  /** Extra variables for the isolated env (they win over the defaults). */
  env?: Record<string, string>
  /** Temp dir name prefix (default `ir-lab-`). */
  prefix?: string
}

export interface CliResult {
  exitCode: number | undefined
  stdout: string
  stderr: string
  durationMs: number
  timedOut: boolean
}

export interface AgentTurnResult extends CliResult {
  /** stdout parsed as JSON (undefined when it is not JSON). */
  json?: JsonObject
}

export interface LabStateDir {
  lab: LabOpenClaw
  /** The temp dir that holds everything below. */
  dir: string
  homeDir: string
  stateDir: string
  configPath: string
  /** `<stateDir>/workspace`, the agent's default workspace (created by OpenClaw on first use). */
  workspaceDir: string
  /** `<stateDir>/agents/main/agent/openclaw-agent.sqlite`. */
  agentDbPath: string
  logFile: string
  port: number
  token: string
  url: string
  /** The full, isolated environment every OpenClaw process of this lab gets. */
  env: Record<string, string>
  /** Runs `node24 openclaw.mjs ...args` with the isolated env (never throws on a non-zero exit). */
  runCli(args: string[], options?: {timeout?: number}): Promise<CliResult>
  /** Removes the temp dir. */
  cleanup(): Promise<void>
}

export interface LabGatewayOptions extends Omit<LabStateDirOptions, 'fakeModelBaseUrl'> {
  /** A fake model the test owns; default: one started (and closed) by the harness. */
  fakeModel?: FakeModel
  /** Options for the harness-owned fake model. */
  fakeModelOptions?: FakeModelOptions
  /** Give up waiting for `/readyz` 200 after this long (default 60 s). */
  readyTimeoutMs?: number
}

export interface StopResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  durationMs: number
}

export interface LabGateway extends LabStateDir {
  pid: number
  child: ChildProcess
  fakeModel: FakeModel
  stdoutFile: string
  stderrFile: string
  /** Milliseconds from spawn to `/readyz` 200. */
  readyMs: number
  running(): boolean
  /** SIGTERM to the gateway's pid, then waits for it to exit (SIGKILL after `timeoutMs`, default 30 s). */
  stop(timeoutMs?: number): Promise<StopResult>
  /** SIGKILL to the gateway's pid, then waits for it to exit. */
  kill(): Promise<StopResult>
  /** `openclaw agent --agent main --session-key <key> --message <message> --json`. */
  agentTurn(message: string, sessionKey: string, options?: {timeout?: number}): Promise<AgentTurnResult>
  /** HTTP status of `POST /tools/invoke` for a nonexistent tool: 404 = token accepted, 401 = rejected. */
  probeToken(token: string | undefined): Promise<number>
  /** GET a probe path (`/healthz`, `/readyz`, …) and return its status. */
  httpStatus(probePath: string): Promise<number>
  /** Pids of processes whose parent is the gateway (its helpers). */
  childPids(): number[]
  /** Last lines of the gateway's stdout+stderr, token masked. */
  outputTail(lines?: number): string
  /** Stops the gateway (if it runs), closes a harness-owned fake model, removes the temp dir. Idempotent. */
  cleanup(): Promise<void>
}

// ------------------------------------------------------------------------------------------------

const live = new Set<ChildProcess>()
/** Lab temp dirs whose cleanup() has not run yet. */
const pendingDirs = new Set<string>()
let exitHookInstalled = false

/**
 * Last resort when a test worker exits without cleanup(): SIGKILL the gateways this module started
 * (by pid) and remove their temp dirs.
 */
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of live) {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
    for (const dir of pendingDirs) {
      try {
        rmSync(dir, {recursive: true, force: true, maxRetries: 3, retryDelay: 100})
      } catch {
        // best effort
      }
    }
  })
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A free loopback port `p` such that `p+2` (OpenClaw's derived browser-control port) is free too.
 * The OS picks `p`; there is a small window before the gateway binds it.
 */
export async function freeLoopbackPort(avoid: number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        const address = server.address()
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
      })
    })
    if (
      port > 0 &&
      port + 2 <= 65535 &&
      !avoid.some((a) => a === port || a === port + 2) &&
      (await canListen(port + 2))
    )
      return port
  }
  throw new Error('No free loopback port found after 50 attempts.')
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = {...base}
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key]
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = deepMerge(out[key] as JsonObject, value)
    else if (value !== undefined) out[key] = value
  }
  return out
}

/** The default lab config (openclaw-live.md §2 step 4 and §8). */
export function defaultLabConfig(ctx: LabConfigContext): JsonObject {
  const config: JsonObject = {
    gateway: {mode: 'local', port: ctx.port, bind: 'loopback', auth: {mode: 'token', token: ctx.token}},
    update: {checkOnStart: false},
    logging: {file: ctx.logFile},
  }
  if (ctx.fakeModelBaseUrl) {
    config.models = {
      mode: 'merge',
      providers: {
        fake: {
          baseUrl: ctx.fakeModelBaseUrl,
          apiKey: FAKE_MODEL_API_KEY,
          api: 'openai-completions',
          timeoutSeconds: 30,
          models: [
            {
              id: FAKE_MODEL_ID,
              name: 'Fake Model',
              reasoning: false,
              input: ['text'],
              cost: {input: 0, output: 0, cacheRead: 0, cacheWrite: 0},
              contextWindow: 32_000,
              maxTokens: 1024,
            },
          ],
        },
      },
    }
    config.agents = {defaults: {model: {primary: `fake/${FAKE_MODEL_ID}`}}}
  }
  return config
}

/** The isolated env of openclaw-live.md §2 step 3, built from scratch (nothing else leaks in). */
function isolatedEnv(
  lab: LabOpenClaw,
  dirs: {home: string; state: string; config: string; tmp: string},
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: [path.dirname(lab.node24), process.env.PATH || '/usr/local/bin:/usr/bin:/bin'].join(path.delimiter),
    HOME: dirs.home,
    OPENCLAW_HOME: dirs.home,
    OPENCLAW_STATE_DIR: dirs.state,
    OPENCLAW_CONFIG_PATH: dirs.config,
    TMPDIR: dirs.tmp,
    OPENCLAW_NO_AUTO_UPDATE: '1',
    OPENCLAW_DISABLE_BONJOUR: '1',
    OPENCLAW_OFFLINE: '1',
    DO_NOT_TRACK: '1',
    NO_COLOR: '1',
  }
  for (const key of ['LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME', 'SHELL'] as const) {
    const value = process.env[key]
    if (value) env[key] = value
  }
  return {...env, ...extra}
}

function maskToken(text: string, token: string): string {
  return token ? text.split(token).join('<token>') : text
}

/**
 * A state dir as OpenClaw itself makes it at `<home>/.openclaw` (the default place): the config written by its
 * own `config set`, the global SQLite store created by its startup migrations (`security audit` runs them).
 */
export async function openclawBuiltStateDir(home: string, settings: Array<[string, string]>): Promise<string> {
  const lab = requireLabOpenClaw()
  const stateDir = path.join(home, '.openclaw')
  const tmp = path.join(home, 'tmp')
  await mkdir(tmp, {recursive: true})
  // no OPENCLAW_STATE_DIR / _CONFIG_PATH / _HOME: OpenClaw finds ~/.openclaw as it does on a host
  const {
    OPENCLAW_STATE_DIR: _s,
    OPENCLAW_CONFIG_PATH: _c,
    OPENCLAW_HOME: _h,
    ...env
  } = isolatedEnv(lab, {
    home,
    state: stateDir,
    config: path.join(stateDir, 'openclaw.json'),
    tmp,
  })
  const run = async (args: string[]) => {
    const r = await execa(lab.node24, [lab.openclawMjs, ...args], {env, extendEnv: false, cwd: home, reject: false})
    if (r.exitCode !== 0) throw new Error(`openclaw ${args[0]} ${args[1] ?? ''}: exit ${r.exitCode}\n${r.stderr}`)
  }
  // OpenClaw also makes ~/.cache/openclaw-<uid>: one it made for another user (root here) leaves the host's own
  // user an "Unsafe fallback OpenClaw temp dir", so a ~/.cache that was not there goes again
  const cache = path.join(home, '.cache')
  const hadCache = existsSync(cache)
  for (const [key, value] of settings) await run(['config', 'set', key, value])
  await run(['security', 'audit', '--json'])
  await rm(tmp, {recursive: true, force: true})
  if (!hadCache) await rm(cache, {recursive: true, force: true})
  return stateDir
}

/** Creates the isolated temp dir and config of a lab gateway without starting it. */
export async function prepareLabStateDir(options: LabStateDirOptions = {}): Promise<LabStateDir> {
  const lab = requireLabOpenClaw()
  const root = labTmpRoot()
  await mkdir(root, {recursive: true})
  const dir = await mkdtemp(path.join(root, options.prefix ?? 'ir-lab-'))
  installExitHook()
  pendingDirs.add(dir)
  const homeDir = path.join(dir, 'home')
  const stateDir = path.join(dir, 'state')
  const configPath = path.join(stateDir, 'openclaw.json')
  const tmpDir = path.join(dir, 'tmp')
  const logFile = path.join(dir, 'logs', 'gateway.log')
  for (const d of [homeDir, stateDir, tmpDir, path.dirname(logFile)]) await mkdir(d, {recursive: true})
  await chmod(stateDir, 0o700)

  const port = options.port ?? (await freeLoopbackPort())
  const token = options.token ?? `lab-${randomBytes(24).toString('hex')}`
  const ctx: LabConfigContext = {dir, stateDir, port, token, logFile, fakeModelBaseUrl: options.fakeModelBaseUrl}
  const text =
    typeof options.configText === 'function'
      ? options.configText(ctx)
      : (options.configText ?? `${JSON.stringify(deepMerge(defaultLabConfig(ctx), options.config ?? {}), null, 2)}\n`)
  await writeFile(configPath, text, {mode: 0o600})
  await chmod(configPath, 0o600)

  const env = isolatedEnv(lab, {home: homeDir, state: stateDir, config: configPath, tmp: tmpDir}, options.env)
  let removed: Promise<void> | undefined

  return {
    lab,
    dir,
    homeDir,
    stateDir,
    configPath,
    logFile,
    port,
    token,
    env,
    workspaceDir: path.join(stateDir, 'workspace'),
    agentDbPath: path.join(stateDir, 'agents', 'main', 'agent', 'openclaw-agent.sqlite'),
    url: `http://127.0.0.1:${port}`,
    async runCli(args, {timeout = 60_000} = {}) {
      const started = performance.now()
      const result = await execa(lab.node24, [lab.openclawMjs, ...args], {
        env,
        extendEnv: false,
        cwd: dir,
        timeout,
        reject: false,
        stdin: 'ignore',
        stripFinalNewline: false,
        forceKillAfterDelay: 5_000,
      })
      return {
        exitCode: result.exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
        durationMs: Math.round(performance.now() - started),
        timedOut: result.timedOut,
      }
    },
    cleanup() {
      removed ??= rm(dir, {recursive: true, force: true, maxRetries: 5, retryDelay: 200}).then(() => {
        pendingDirs.delete(dir)
      })
      return removed
    },
  }
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function getStatus(url: string, timeoutMs = 3_000): Promise<number> {
  const res = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
  await res.arrayBuffer()
  return res.status
}

/** Starts a real gateway (and, unless given one, a fake model) and waits for `/readyz` 200. */
export async function startLabGateway(options: LabGatewayOptions = {}): Promise<LabGateway> {
  requireLabOpenClaw()
  const ownModel = !options.fakeModel
  const fakeModel = options.fakeModel ?? (await startFakeModel(options.fakeModelOptions))
  let state: LabStateDir
  try {
    const port = options.port ?? (await freeLoopbackPort([fakeModel.port]))
    state = await prepareLabStateDir({...options, port, fakeModelBaseUrl: fakeModel.baseUrl})
  } catch (error) {
    if (ownModel) await fakeModel.close()
    throw error
  }

  const stdoutFile = path.join(state.dir, 'gateway.stdout.log')
  const stderrFile = path.join(state.dir, 'gateway.stderr.log')
  const outFd = openSync(stdoutFile, 'a', 0o600)
  const errFd = openSync(stderrFile, 'a', 0o600)
  const started = performance.now()
  let child: ChildProcess
  try {
    child = spawn(state.lab.node24, [state.lab.openclawMjs, 'gateway', 'run'], {
      cwd: state.dir,
      env: state.env,
      detached: false,
      stdio: ['ignore', outFd, errFd],
    })
  } finally {
    closeSync(outFd)
    closeSync(errFd)
  }
  installExitHook()
  live.add(child)
  let spawnError: Error | undefined
  const exited = new Promise<StopResult>((resolve) => {
    child.once('exit', (exitCode, signal) => {
      live.delete(child)
      resolve({exitCode, signal, durationMs: 0})
    })
    child.once('error', (error) => {
      if (child.pid) return // a failed kill(), not a failed spawn: 'exit' still comes
      spawnError = error
      live.delete(child)
      resolve({exitCode: null, signal: null, durationMs: 0})
    })
  })
  const running = () => child.exitCode === null && child.signalCode === null && live.has(child)
  const outputTail = (lines = 40) =>
    maskToken(
      `--- stdout (${stdoutFile}) ---\n${tailOf(stdoutFile, lines)}\n--- stderr (${stderrFile}) ---\n${tailOf(stderrFile, lines)}`,
      state.token,
    )

  const waitExit = async (signal: NodeJS.Signals, timeoutMs: number): Promise<StopResult> => {
    const t0 = performance.now()
    if (running() && child.pid) {
      try {
        process.kill(child.pid, signal)
      } catch {
        // exited in between
      }
    }
    let timer: NodeJS.Timeout | undefined
    const done = await Promise.race([
      exited,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (done) return {...done, durationMs: Math.round(performance.now() - t0)}
    if (child.pid && running()) process.kill(child.pid, 'SIGKILL')
    const killed = await exited
    return {...killed, durationMs: Math.round(performance.now() - t0)}
  }
  const stop = (timeoutMs = 30_000) => waitExit('SIGTERM', timeoutMs)
  const kill = () => waitExit('SIGKILL', 10_000)

  let cleaned: Promise<void> | undefined
  const cleanup = () => {
    cleaned ??= (async () => {
      try {
        if (running()) await stop()
      } finally {
        if (ownModel) await fakeModel.close()
        await state.cleanup()
      }
    })()
    return cleaned
  }

  // Wait for /readyz 200, failing fast if the process dies or cannot spawn.
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  const fail = async (reason: string): Promise<never> => {
    const tail = outputTail()
    await cleanup()
    throw new Error(`Lab gateway ${reason}.\n${tail}`)
  }
  let dead: string | undefined
  void exited.then((r) => {
    dead = spawnError
      ? `could not be spawned: ${spawnError.message}`
      : `exited early (code ${r.exitCode}, signal ${r.signal})`
  })
  for (;;) {
    if (dead) await fail(dead)
    const elapsed = performance.now() - started
    if (elapsed > readyTimeoutMs) await fail(`was not ready after ${Math.round(elapsed / 1000)} s (GET /readyz)`)
    const status = await getStatus(`${state.url}/readyz`, 2_000).catch(() => 0)
    if (status === 200) break
    await sleep(250)
  }
  const readyMs = Math.round(performance.now() - started)

  return {
    ...state,
    pid: child.pid!,
    child,
    fakeModel,
    stdoutFile,
    stderrFile,
    readyMs,
    running,
    stop,
    kill,
    outputTail,
    cleanup,
    async agentTurn(message, sessionKey, {timeout = 150_000} = {}) {
      const result = await state.runCli(
        ['agent', '--agent', 'main', '--session-key', sessionKey, '--message', message, '--json'],
        {timeout},
      )
      let json: JsonObject | undefined
      try {
        const parsed: unknown = JSON.parse(result.stdout)
        if (isPlainObject(parsed)) json = parsed
      } catch {
        // not JSON: leave json undefined, the caller sees stdout/stderr
      }
      return {...result, json}
    },
    async probeToken(token) {
      const res = await fetch(`${state.url}/tools/invoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : {authorization: `Bearer ${token}`}),
        },
        body: JSON.stringify({tool: '__ir_lab_no_such_tool__'}),
        signal: AbortSignal.timeout(10_000),
      })
      await res.arrayBuffer()
      return res.status
    },
    httpStatus: (probePath) => getStatus(`${state.url}${probePath}`, 10_000),
    childPids() {
      return childPidsOf(child.pid)
    },
  }
}

/** Pids whose parent is `pid` (Linux /proc). */
export function childPidsOf(pid: number | undefined): number[] {
  if (!pid) return []
  const out: number[] = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return out
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(entry))
    } catch {
      // vanished
    }
  }
  return out
}

/** Is `pid` alive (signal 0)? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
