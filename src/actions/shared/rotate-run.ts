import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  ftruncateSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {inspect} from 'node:util'

import {ExitCode, IrError} from '../../errors.js'
import {loadConfig} from '../../openclaw/config.js'
import {probeGateway} from '../../openclaw/gateway.js'
import {openclawHome} from '../../openclaw/locate.js'
import {
  inventorySecrets,
  SECRET_SCOPES,
  type InventoryOptions,
  type InventoryResult,
  type SecretInventory,
  type SecretKeyPath,
  type SecretScope,
} from '../../openclaw/secrets/inventory.js'
import {proveRotation, type ProbeTarget, type Proof, type ProofOutcome} from '../../openclaw/auth-probe.js'
import type {ActionContext} from '../../playbook/action-types.js'

/**
 * What the rotate steps share within one run: old and new values (in memory only), what was
 * written where, what the proof found. Its JSON and inspect forms hold key names only, so a
 * stray serialization (journal vars, --json, logs) cannot leak a value.
 */

export interface RotationEntry {
  key: SecretKeyPath
  scope: SecretScope
  oldValue?: string
  newValue: string
  /** written: every writable place has the new value; manual: the operator must finish it; failed: not written. */
  state: 'written' | 'manual' | 'failed'
  written: string[]
  manual: string[]
  /** Where the running gateway can be asked (gateway secret, enabled hooks). */
  proofTargets: ProbeTarget[]
  /** The running process cannot see the change without a restart (environment variables). */
  needsRestart: boolean
  proofs: Array<{target: ProbeTarget['kind']; proof: Proof}>
}

/** What the proof found, per key and target. */
export interface ProofRecord {
  key: string
  target: 'gateway' | 'hooks'
  outcome: ProofOutcome
  detail: string
  elapsedMs: number
}

export interface ProveData {
  state: 'up' | 'down' | 'none'
  results: ProofRecord[]
  /** The old value is still accepted: only a restart can drop it. */
  restartNeeded: boolean
  /** Every rotated secret proven (old rejected, new accepted). */
  verified: boolean
  /** Could not be decided (unreachable, throttled, neither value accepted). */
  unverified: boolean
}

/** Outcomes that prove nothing either way. */
export const UNDECIDED: ProofOutcome[] = ['unreachable', 'rate-limited', 'both-rejected']

/** Ask the running gateway about each rotated value at each of its targets (old must fail, new pass). */
export async function proveEntries(
  entries: RotationEntry[],
  port: number,
  timeoutMs: (e: RotationEntry) => number,
): Promise<ProofRecord[]> {
  const results: ProofRecord[] = []
  for (const e of entries) {
    for (const t of e.proofTargets) {
      const proof = await proveRotation({...t, port}, e.oldValue, e.newValue, {timeoutMs: timeoutMs(e)})
      e.proofs.push({target: t.kind, proof})
      const {outcome, detail, elapsedMs} = proof
      results.push({key: e.key, target: t.kind, outcome, detail, elapsedMs})
    }
  }
  return results
}

export function summarize(results: ProofRecord[]): ProveData {
  return {
    state: 'up',
    results,
    restartNeeded: results.some((r) => r.outcome === 'old-still-accepted'),
    verified: results.length > 0 && results.every((r) => r.outcome === 'proven' || r.outcome === 'new-accepted'),
    unverified: results.some((r) => UNDECIDED.includes(r.outcome)),
  }
}

/** A credential ir cannot rotate itself: where it is stored and how to rotate it. */
export interface ChecklistItem {
  category: 'model-provider' | 'channel' | 'device' | 'node' | 'ingress'
  what: string
  where: string
  how: string
  /** A config key ir can write a pasted replacement to. */
  replaceKey?: string
  /** An auth profile `openclaw models auth paste-api-key` can replace (value on stdin). */
  pasteProfile?: {agent: string; provider: string; profileId: string}
  /** Filled when the operator pasted a replacement. */
  replaced?: string
}

export class SecretVault {
  /** Set by the handover step when the operator asked to see the values once. */
  showRequested = false
  private readonly entries = new Map<SecretKeyPath, RotationEntry>()

  set(e: RotationEntry): void {
    this.entries.set(e.key, e)
  }

  get(key: SecretKeyPath): RotationEntry | undefined {
    return this.entries.get(key)
  }

  all(): RotationEntry[] {
    return [...this.entries.values()]
  }

  /** key path → new value, for --secrets-out and the show-once display (not failed ones). */
  handover(): Record<string, string> {
    return Object.fromEntries(
      this.all()
        .filter((e) => e.state !== 'failed')
        .map((e) => [e.key, e.newValue]),
    )
  }

  /** Every value this run saw or made (for scrubbing copies out of the case). */
  secretValues(): string[] {
    return this.all()
      .flatMap((e) => [e.oldValue, e.newValue])
      .filter((v): v is string => typeof v === 'string' && v.length >= 8)
  }

  toJSON(): {keys: string[]; values: 'redacted'} {
    return {keys: [...this.entries.keys()], values: 'redacted'}
  }

  [inspect.custom](): string {
    return `SecretVault(${[...this.entries.keys()].join(', ')}; values redacted)`
  }
}

/** What the rotate steps share in one run, and what the rotate use case reads back (typed, no casts). */
export interface RotateRun {
  vault: SecretVault
  /** --secrets-out, reserved by the use case before anything changes. */
  secretsOut?: SecretsOut
  /** Filled by the steps as they run. */
  inventory?: SecretInventory
  prove?: ProveData
  restart?: ProveData & {restarted: boolean}
  checklist?: ChecklistItem[]
}

declare module '../../playbook/action-types.js' {
  interface RunState {
    rotate?: RotateRun
  }
}

/** The run's rotate state (the use case gives one; `ir playbook run rotate` gets a fresh one here). */
export function rotateRunOf(ctx: ActionContext): RotateRun {
  return (ctx.state.rotate ??= {vault: new SecretVault()})
}

/** --only, as run variable `only` (array or comma list); default: every scope. */
export function scopesOf(ctx: ActionContext): SecretScope[] {
  const raw = ctx.vars.only
  const list = Array.isArray(raw)
    ? raw.map(String)
    : typeof raw === 'string' && raw.trim()
      ? raw.split(',')
      : [...SECRET_SCOPES]
  return list.map((s) => s.trim()).filter((s): s is SecretScope => (SECRET_SCOPES as readonly string[]).includes(s))
}

export function explicitScope(ctx: ActionContext, scope: SecretScope): boolean {
  const raw = ctx.vars.only
  return raw !== undefined && scopesOf(ctx).includes(scope)
}

export function inventoryOptions(ctx: ActionContext, gateway: InventoryOptions['gateway']): InventoryOptions {
  return {
    stateDir: ctx.install.stateDir,
    configPath: ctx.install.configPath,
    env: ctx.env,
    profile: ctx.install.profile,
    home: openclawHome({
      env: ctx.env,
      homedir: os.homedir(),
      uid: typeof process.getuid === 'function' ? process.getuid() : 0,
    }),
    scopes: scopesOf(ctx),
    gateway,
  }
}

/** Gateway state + inventory, fresh from disk. */
export async function currentInventory(ctx: ActionContext): Promise<InventoryResult> {
  let config
  try {
    config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
  } catch {
    /* inventorySecrets reports the config error itself */
  }
  const gw = await probeGateway(ctx.install.stateDir, ctx.install.configPath, config, ctx.env, ctx.install.profile)
  return inventorySecrets(
    inventoryOptions(ctx, {state: gw.state, pid: gw.process?.belongsToStateDir ? gw.pid : undefined, port: gw.port}),
  )
}

// ------------------------------------------------------------------------------------------------
// --secrets-out: reserved before anything changes (O_EXCL, 0600), filled by the handover step.

export interface SecretsOut {
  path: string
  fd?: number
  written: boolean
}

/** Refuse an existing file (never overwrite). `reserve` creates it empty, 0600, exclusively. */
export function reserveSecretsOut(file: string, reserve: boolean): SecretsOut {
  let exists = false
  try {
    statSync(file)
    exists = true
  } catch {
    /* good */
  }
  if (exists) {
    throw new IrError(
      `${file} already exists; ir never overwrites a --secrets-out file.`,
      ExitCode.Usage,
      ['Pass a new file name (e.g. ./rotated-$(date +%s).json); nothing was changed.'],
      'SECRETS_OUT_EXISTS',
    )
  }
  if (!reserve) {
    // Nothing is created (dry run), but a directory the real run could not write into is said now.
    try {
      accessSync(path.dirname(file), constants.W_OK)
    } catch (err) {
      throw secretsOutError(file, (err as NodeJS.ErrnoException).code)
    }
    return {path: file, written: false}
  }
  let fd: number | undefined
  try {
    fd = openSync(file, 'wx', 0o600)
    // The disk space is taken now, before anything rotates: the hand-over only overwrites it.
    writeSync(fd, Buffer.alloc(SECRETS_OUT_RESERVE))
    fsyncSync(fd)
    return {path: file, fd, written: false}
  } catch (err) {
    if (fd !== undefined) {
      closeSync(fd)
      rmSync(file, {force: true})
    }
    throw secretsOutError(file, (err as NodeJS.ErrnoException).code)
  }
}

function secretsOutError(file: string, code: string | undefined): IrError {
  const full = code === 'ENOSPC' || code === 'EDQUOT'
  return new IrError(
    code === 'EEXIST'
      ? `${file} already exists; ir never overwrites a --secrets-out file.`
      : full
        ? `--secrets-out ${file}: no room for the new values (${code}, ${SECRETS_OUT_RESERVE / 1024} KiB needed); nothing was rotated.`
        : `--secrets-out ${file} cannot be created (${code ?? 'error'}).`,
    full ? ExitCode.PreconditionFailed : ExitCode.Usage,
    [
      full
        ? 'Free space there or pass a file on another disk, then re-run.'
        : 'Pass a new file in a writable directory; nothing was changed.',
    ],
    code === 'EEXIST' ? 'SECRETS_OUT_EXISTS' : full ? 'SECRETS_OUT_NO_SPACE' : 'SECRETS_OUT_UNWRITABLE',
  )
}

/** Room reserved for the new values (a handful of keys, each well under 1 KiB as JSON). */
const SECRETS_OUT_RESERVE = 16 * 1024

export function writeSecretsOut(out: SecretsOut, values: Record<string, string>): void {
  if (out.fd === undefined) throw new Error('the --secrets-out file was not reserved')
  const json = Buffer.from(JSON.stringify(values, null, 2) + '\n')
  if (json.length > SECRETS_OUT_RESERVE) throw new Error(`${json.length} bytes exceed the reserved space`)
  writeSync(out.fd, json, 0, json.length, 0) // into the reserved blocks: needs no new space
  ftruncateSync(out.fd, json.length)
  fsyncSync(out.fd)
  closeSync(out.fd)
  out.fd = undefined
  out.written = true
}

/** After the run: an unused reservation is removed (ir created it empty). */
export function releaseSecretsOut(out: SecretsOut | undefined): void {
  if (!out || out.fd === undefined) return
  closeSync(out.fd)
  out.fd = undefined
  if (!out.written) rmSync(out.path, {force: true})
}

/** --only value → scopes; an unknown name is a usage error. */
export function parseScopes(raw: string): SecretScope[] {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const bad = list.filter((s) => !(SECRET_SCOPES as readonly string[]).includes(s))
  if (bad.length || !list.length) {
    throw new IrError(
      `--only ${raw}: ${bad.length ? `unknown scope ${bad.map((b) => `"${b}"`).join(', ')}` : 'empty'}.`,
      ExitCode.Usage,
      [`Use a comma list of ${SECRET_SCOPES.join(', ')} (e.g. --only gateway,hooks).`],
      'USAGE',
    )
  }
  return [...new Set(list)] as SecretScope[]
}
