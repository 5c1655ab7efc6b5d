import {existsSync, readFileSync, readlinkSync} from 'node:fs'
import path from 'node:path'

import type {ProcessRunner} from '../system/process-runner.js'
import {loadConfig, type JsonObject} from './config.js'
import {probeGateway, type GatewayProbeSeams} from './gateway.js'
import {openclawHome, resolveInstall, type HostEnv, type Install, type Target} from './locate.js'
import {findServiceDefinitions, serviceMatches, type ServiceDefinition} from './services.js'
import {cliAt, cliStartHint, findOpenClawCli, type OpenClawCli} from './version.js'

/**
 * The `openclaw` that runs this install — the one whose word counts for `config validate` and
 * `security audit`. Looked for, in order: $IR_OPENCLAW_BIN (the operator's choice), the running
 * gateway (its environment's `_` and PATH, its children's argv, the npm prefix of its node), the service
 * unit's ExecStart, the global npm prefix, PATH. OpenClaw renames its process ("openclaw"), so the
 * gateway's own argv no longer names the script; its executable still names the node it runs on.
 */

export type CliSource = 'IR_OPENCLAW_BIN' | 'gateway process' | 'service unit' | 'global npm prefix' | 'PATH'

export interface TargetCli extends OpenClawCli {
  source: CliSource
  /** What pointed at it (a pid, a unit file, a prefix), for the case. */
  from: string
}

export interface LocateCliInput {
  env: NodeJS.ProcessEnv
  /** The gateway's pid while it still runs. */
  gatewayPid?: number
  services?: ServiceDefinition[]
  procRoot?: string
}

export async function locateOpenClawCli(input: LocateCliInput): Promise<TargetCli | undefined> {
  const {env} = input
  const node = env.IR_OPENCLAW_NODE || undefined
  // The operator's choice, and only it (a package file or a wrapper script).
  if (env.IR_OPENCLAW_BIN) return envCli(env)
  if (input.gatewayPid) {
    const cli = fromProcess(input.gatewayPid, input.procRoot ?? '/proc', node)
    if (cli) return {...cli, source: 'gateway process', from: `pid ${input.gatewayPid}`}
  }
  for (const def of input.services ?? []) {
    const cli = fromArgv(def.execStart ?? [], node)
    if (cli) return {...cli, source: 'service unit', from: def.file}
  }
  for (const prefix of globalPrefixes(env)) {
    const cli = fromPrefix(prefix, node)
    if (cli) return {...cli, source: 'global npm prefix', from: prefix}
  }
  return envCli({...env, IR_OPENCLAW_BIN: undefined})
}

/** Without a located one: what the environment names ($IR_OPENCLAW_BIN, else PATH). No process started. */
export function envCli(env: NodeJS.ProcessEnv): TargetCli | undefined {
  const cli = findOpenClawCli(env)
  if (!cli) return undefined
  return env.IR_OPENCLAW_BIN
    ? {...cli, source: 'IR_OPENCLAW_BIN', from: env.IR_OPENCLAW_BIN}
    : {...cli, source: 'PATH', from: cli.command}
}

/** One line for the case and the report: `openclaw 2026.9.6 (gateway process pid 42: /usr/lib/…/openclaw.mjs)`. */
export function describeCli(cli: TargetCli | undefined): string {
  if (!cli) return 'no openclaw CLI found (gateway process, service unit, npm prefix, PATH; or set IR_OPENCLAW_BIN)'
  return `openclaw ${cli.version ?? '(version unknown)'} (${cli.source} ${cli.from}: ${cli.args[0] ?? cli.command})`
}

function fromProcess(pid: number, proc: string, nodeHint?: string): OpenClawCli | undefined {
  const dir = path.join(proc, String(pid))
  const exe = safeReadlink(path.join(dir, 'exe'))
  const node = nodeHint ?? (exe && /node(\.exe)?$/.test(exe) ? exe : undefined)
  // Its environment: `_` (the command a shell started), else the `openclaw` its own PATH resolves to.
  const environ = readNulList(path.join(dir, 'environ'))
  const underscore = environ.find((kv) => kv.startsWith('_='))
  const viaShell = underscore ? cliAt(underscore.slice(2), node) : undefined
  if (viaShell) return viaShell
  const ownPath = environ.find((kv) => kv.startsWith('PATH='))?.slice(5) ?? ''
  for (const d of ownPath.split(path.delimiter).filter((x) => path.isAbsolute(x))) {
    const cli = cliAt(path.join(d, 'openclaw'), node)
    if (cli) return cli
  }
  const own = fromArgv(readNulList(path.join(dir, 'cmdline')), node)
  if (own) return own
  for (const child of childPids(pid, proc)) {
    const cli = fromArgv(readNulList(path.join(proc, String(child), 'cmdline')), node)
    if (cli) return cli
  }
  // npm -g puts packages in <prefix>/lib/node_modules beside <prefix>/bin/node.
  return exe ? fromPrefix(path.dirname(path.dirname(exe)), node) : undefined
}

function fromArgv(argv: string[], nodeHint?: string): OpenClawCli | undefined {
  const node = nodeHint ?? (argv[0] && /(^|\/)node(\.exe)?$/.test(argv[0]) ? argv[0] : undefined)
  for (const arg of argv) {
    if (!path.isAbsolute(arg)) continue
    const cli = cliAt(arg, node)
    if (cli) return cli
  }
  return undefined
}

function fromPrefix(prefix: string, node?: string): OpenClawCli | undefined {
  for (const file of [
    path.join(prefix, 'lib', 'node_modules', 'openclaw', 'openclaw.mjs'),
    path.join(prefix, 'node_modules', 'openclaw', 'openclaw.mjs'),
  ]) {
    if (!existsSync(file)) continue
    const bin = path.join(prefix, 'bin', 'openclaw')
    // The bin runs under `#!/usr/bin/env node`; with a known node the script is run by it directly.
    return cliAt(node || !existsSync(bin) ? file : bin, node ?? siblingNode(prefix))
  }
  return undefined
}

/**
 * Where `npm i -g` puts packages, without starting npm: $npm_config_prefix, the `prefix=` of
 * ~/.npmrc, else the prefix of each `node` on PATH (npm's default: the node's own install prefix).
 */
function globalPrefixes(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = []
  const configured = env.npm_config_prefix ?? env.NPM_CONFIG_PREFIX
  if (configured) out.push(configured)
  const home = env.HOME
  const npmrc = home ? safeReadText(path.join(home, '.npmrc')) : undefined
  const fromRc = npmrc ? /^\s*prefix\s*=\s*(\S+)\s*$/m.exec(npmrc)?.[1] : undefined
  if (fromRc && home) out.push(fromRc.replace(/^~(?=\/)/, home).replace(/\$\{HOME\}/g, home))
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean))
    if (existsSync(path.join(dir, 'node'))) out.push(path.dirname(dir))
  return [...new Set(out)]
}

function safeReadText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function siblingNode(prefix: string): string | undefined {
  const n = path.join(prefix, 'bin', 'node')
  return existsSync(n) ? n : undefined
}

function readNulList(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

function safeReadlink(file: string): string | undefined {
  try {
    return readlinkSync(file)
  } catch {
    return undefined
  }
}

/** Direct children (from /proc/<pid>/task/<pid>/children when the kernel has it). */
function childPids(pid: number, proc: string): number[] {
  try {
    return readFileSync(path.join(proc, String(pid), 'task', String(pid), 'children'), 'utf8')
      .split(' ')
      .filter((x) => /^\d+$/.test(x))
      .map(Number)
  } catch {
    return []
  }
}

export interface CliValidation {
  ok: boolean
  /**
   * False when OpenClaw gave no verdict on the config (it could not start — e.g. run by a Node it does
   * not support —, crashed or timed out): nothing was validated, and nothing may be called invalid.
   */
  answered: boolean
  /** OpenClaw's own issue lines (`openclaw.json:55 — tools.exec.mode: …`), secrets masked; or why it did not answer. */
  issues: string[]
}

/** `openclaw config validate` on this install's config, by the target's own CLI. */
export async function validateConfigWithCli(
  cli: OpenClawCli,
  req: {
    runner: ProcessRunner
    env: NodeJS.ProcessEnv
    stateDir: string
    configPath: string
    redact: (s: string) => string
  },
): Promise<CliValidation> {
  const env = {...req.env, OPENCLAW_STATE_DIR: req.stateDir, OPENCLAW_CONFIG_PATH: req.configPath, NO_COLOR: '1'}
  const r = await req.runner.run(cli.command, [...cli.args, 'config', 'validate'], {env, timeoutMs: 60_000})
  if (r.exitCode === 0) return {ok: true, answered: true, issues: []}
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  const issues = lines.filter((l) => l.startsWith('×')).map((l) => l.replace(/^×\s*/, ''))
  // OpenClaw's verdict on an invalid config: "OpenClaw config is invalid: …" and one "×" line per issue. An issue
  // `<root>: read failed: …` (e.g. "Unsafe fallback OpenClaw temp dir" when ~/.cache was made by root) is no
  // verdict on the config's contents: OpenClaw could not read it.
  const readFailed = issues.length > 0 && issues.every((l) => /^<root>:\s*read failed\b/i.test(l))
  const answered = !r.timedOut && !readFailed && (issues.length > 0 || lines.some((l) => /config is invalid/i.test(l)))
  const clip = (xs: string[]) => xs.slice(0, 5).map((l) => req.redact(l).slice(0, 300))
  if (answered) return {ok: false, answered, issues: clip(issues.length ? issues : lines)}
  const first = (readFailed ? issues[0] : lines[0]) ?? `exit ${r.exitCode ?? '?'}`
  const why = `openclaw did not answer (${r.timedOut ? 'timed out' : `exit ${r.exitCode ?? '?'}`}): ${first}`
  return {ok: false, answered, issues: clip([why + cliStartHint(first)])}
}

/** How a verdict says OpenClaw could not be asked (the run then ends `verified: false`, exit 5). */
export const UNCONFIRMED = 'not confirmed by OpenClaw'

/**
 * The target CLI of one install, looked for while its gateway may still run (contain calls this
 * before the stop step; status for its report).
 */
export async function locateInstallCli(
  install: Install,
  host: HostEnv,
  seams?: GatewayProbeSeams,
): Promise<TargetCli | undefined> {
  let config: JsonObject | undefined
  try {
    config = install.configExists ? loadConfig(install.configPath, {env: host.env}).value : undefined
  } catch {
    /* the port comes from the environment or the default */
  }
  const gw = install.stateDirExists
    ? await probeGateway(install.stateDir, install.configPath, config, host.env, install.profile, seams)
    : undefined
  const home = openclawHome(host)
  const services = findServiceDefinitions(home, install.stateDir).filter((d) =>
    serviceMatches(d, install.stateDir, home, install.profile),
  )
  return locateOpenClawCli({
    env: host.env,
    gatewayPid: gw?.state === 'up' ? gw.pid : undefined,
    services,
    procRoot: seams?.procRoot,
  })
}

/**
 * The target CLI a use case hands its run (`RunState.targetCli`), looked for before any step: null when
 * the state dir does not exist or no CLI was found (the steps then say what OpenClaw could not confirm).
 */
export async function locateTargetCli(target: Target, host: HostEnv): Promise<TargetCli | null> {
  const install = resolveInstall(target, host)
  return install.stateDirExists ? ((await locateInstallCli(install, host)) ?? null) : null
}
