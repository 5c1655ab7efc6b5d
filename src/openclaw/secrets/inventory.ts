import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {fingerprint} from '../../system/secret-vocabulary.js'
import {safeRead, safeReaddir} from '../../system/safe-fs.js'
import {getPath, isObject, loadConfig, parseJson5, type JsonObject, type LoadedConfig} from '../config.js'
import {gatewayAuthMode} from '../config-shape.js'
import {configHistoryFiles} from '../files.js'
import {expandTilde} from '../locate.js'
import {findServiceDefinitions, serviceMatches, type ServiceDefinition, type ServiceKind} from '../services.js'
import {parseCmdEnv, parseEnvFile, parsePlistEnv, parseSystemdEnv, type EnvAssignment} from './env-files.js'
import {processCwd, processEnviron} from './process-env.js'
import {readSecretFile} from './secret-files.js'
import {readStoreEntry, stateDbPath} from './store.js'

/**
 * Where every secret in `ir rotate`'s scope lives (openclaw-internals.md §3): the config value
 * (plain, `${VAR}`, SecretRef env/file/store/exec), the copies OpenClaw reads the variable from
 * (`<state>/.env`, the gateway's cwd `.env`, service unit / plist / gateway.cmd environments,
 * config `env.vars`), and residue of the current value in config backups and the config-audit
 * log. The inventory itself holds fingerprints only; the current values come back separately so
 * callers can keep them out of anything that is printed or journaled.
 */

export type SecretScope = 'gateway' | 'remote' | 'hooks'
export const SECRET_SCOPES: readonly SecretScope[] = ['gateway', 'remote', 'hooks']

/**
 * A dotted config key path: gateway.auth.token|password, gateway.remote.token|password, hooks.token (or, for pasted
 * replacements, any credential path).
 */
export type SecretKeyPath = string

/**
 * How the config names the value. `implicit-env`: unset in config, OpenClaw falls back to
 * OPENCLAW_GATEWAY_TOKEN/PASSWORD.
 */
export type SecretForm = 'plain' | 'env' | 'implicit-env' | 'store' | 'file' | 'exec'

export interface SecretRefValue {
  source: 'env' | 'file' | 'exec' | 'store'
  provider: string
  id: string
}

export type WriteTarget =
  | {type: 'config'; keyPath: string[]}
  | {type: 'env-file'; file: string; name: string}
  | {type: 'service'; file: string; name: string; service: ServiceKind; unit: string; system: boolean}
  | {type: 'store'; name: string}
  | {type: 'secret-file'; file: string; mode: 'json' | 'singleValue'; pointer?: string}
  | {type: 'none'}

export interface SecretLocation {
  kind: 'config' | 'env-file' | 'service' | 'store' | 'secret-file' | 'exec' | 'process-env'
  /** The file (config, .env, unit, secrets file, state DB), or `pid <n>` for a process environment. */
  path: string
  /** Which key, variable or entry. */
  where: string
  /** 12-hex SHA-256 prefix of the value found there. */
  fingerprint?: string
  /** OpenClaw takes the value it uses from here (others are copies kept in sync). */
  active: boolean
  writable: boolean
  /** What the operator has to do when ir cannot write it. */
  manual?: string
  target: WriteTarget
}

export interface InventoriedSecret {
  key: SecretKeyPath
  scope: SecretScope
  form: SecretForm
  ref?: SecretRefValue
  /** The environment variable behind an env form. */
  envName?: string
  /** Fingerprint of the value OpenClaw uses now. */
  fingerprint?: string
  resolved: boolean
  locations: SecretLocation[]
  notes: string[]
  /** gateway.remote.*: where it points; `local` = this gateway (rotated together with its secret). */
  remote?: {url?: string; local: boolean}
}

export interface ResidueItem {
  path: string
  keys: SecretKeyPath[]
  what: string
}

export interface SecretInventory {
  stateDir: string
  configPath: string
  authMode: string
  gateway: {state: 'up' | 'down'; pid?: number; port: number}
  secrets: InventoriedSecret[]
  residue: ResidueItem[]
  notes: string[]
}

export interface InventoryResult {
  inventory: SecretInventory
  /** Current values by key path: never print, journal or return these. */
  values: Map<SecretKeyPath, string>
}

export interface InventoryOptions {
  stateDir: string
  configPath: string
  /** ir's own environment (used when the gateway's is not readable). */
  env: NodeJS.ProcessEnv
  /** OpenClaw home (for ~ in provider paths and service definitions). */
  home: string
  profile?: string
  scopes?: readonly SecretScope[]
  gateway: {state: 'up' | 'down'; pid?: number; port: number}
  /** Seams for tests. */
  readProcessEnv?: (pid: number) => Record<string, string> | undefined
  readProcessCwd?: (pid: number) => string | undefined
  services?: ServiceDefinition[]
}

const GATEWAY_ENV: Record<string, string> = {
  'gateway.auth.token': 'OPENCLAW_GATEWAY_TOKEN',
  'gateway.auth.password': 'OPENCLAW_GATEWAY_PASSWORD',
}
const LEGACY_ENV: Record<string, string> = {
  OPENCLAW_GATEWAY_TOKEN: 'CLAWDBOT_GATEWAY_TOKEN',
  OPENCLAW_GATEWAY_PASSWORD: 'CLAWDBOT_GATEWAY_PASSWORD',
}

export function inventorySecrets(opts: InventoryOptions): InventoryResult {
  const loaded = loadConfig(opts.configPath, {env: opts.env})
  const config = loaded.value
  const scopes = opts.scopes ?? SECRET_SCOPES
  const values = new Map<SecretKeyPath, string>()
  const notes: string[] = []
  const sources = envSources(opts, config)
  const secrets: InventoriedSecret[] = []
  const authMode = gatewayAuthMode(config) ?? 'token'

  if (scopes.includes('gateway')) {
    if (authMode === 'none') {
      notes.push(
        'gateway.auth.mode is "none": the gateway has no secret to rotate. Run `ir contain` to require token auth ' +
          'first.',
      )
    } else if (authMode === 'trusted-proxy') {
      notes.push(
        'gateway.auth.mode is "trusted-proxy": identity comes from the proxy, there is no shared gateway secret to ' +
          'rotate.',
      )
    } else {
      const key: SecretKeyPath = authMode === 'password' ? 'gateway.auth.password' : 'gateway.auth.token'
      const s = classify(key, 'gateway', getPath(config, key.split('.')), loaded, opts, sources, values, true)
      if (s) secrets.push(s)
      else
        notes.push(
          `${key} is not set anywhere ir can see (config, .env, service units, the gateway's environment): nothing to rotate for the gateway.`,
        )
    }
  }
  if (scopes.includes('remote')) {
    const remote = getPath(config, ['gateway', 'remote'])
    if (isObject(remote)) {
      const url = typeof remote.url === 'string' ? remote.url : undefined
      const local = remotePointsHere(url, config, opts.gateway.port)
      for (const k of ['token', 'password'] as const) {
        if (remote[k] === undefined) continue
        const s = classify(`gateway.remote.${k}`, 'remote', remote[k], loaded, opts, sources, values, true)
        if (s) secrets.push({...s, remote: {url, local}})
      }
    }
  }
  if (scopes.includes('hooks')) {
    const token = getPath(config, ['hooks', 'token'])
    if (token !== undefined) {
      const s = classify('hooks.token', 'hooks', token, loaded, opts, sources, values, false)
      if (s) {
        if (getPath(config, ['hooks', 'enabled']) !== true)
          s.notes.push('hooks.enabled is not true: nothing listens on the hooks path, so there is nothing to prove.')
        secrets.push(s)
      }
    }
  }
  const gw = values.get('gateway.auth.token') ?? values.get('gateway.auth.password')
  if (gw !== undefined && values.get('hooks.token') === gw) {
    secrets
      .find((s) => s.key === 'hooks.token')
      ?.notes.push(
        'hooks.token equals the gateway secret (audit hooks.token_reuse_gateway_token): the new hooks token is a ' +
          'separate value.',
      )
  }
  return {
    inventory: {
      stateDir: opts.stateDir,
      configPath: opts.configPath,
      authMode,
      gateway: opts.gateway,
      secrets,
      residue: findResidue(opts, loaded, values),
      notes,
    },
    values,
  }
}

/** Where one credential at any config path lives (for replacements the operator pastes). */
export function locateSecret(opts: InventoryOptions, key: string): {secret?: InventoriedSecret; value?: string} {
  const loaded = loadConfig(opts.configPath, {env: opts.env})
  const values = new Map<SecretKeyPath, string>()
  const raw = getPath(loaded.value, key.split('.'))
  if (raw === undefined) return {}
  const secret = classify(key, 'gateway', raw, loaded, opts, envSources(opts, loaded.value), values, true)
  return {secret, value: values.get(key)}
}

// ------------------------------------------------------------------------------------------------
// Classification

function classify(
  key: SecretKeyPath,
  scope: SecretScope,
  raw: unknown,
  loaded: LoadedConfig,
  opts: InventoryOptions,
  sources: EnvSources,
  values: Map<SecretKeyPath, string>,
  secretInput: boolean,
): InventoriedSecret | undefined {
  const keyPath = key.split('.')
  const configFile = fileHolding(loaded, keyPath)
  const base = {key, scope, notes: [] as string[]}
  if (raw === undefined) {
    const envName = GATEWAY_ENV[key]
    if (!envName) return undefined
    const found = envLocations(envName, sources, opts)
    if (!found.locations.length) return undefined
    if (found.value !== undefined) values.set(key, found.value)
    return {
      ...base,
      form: 'implicit-env',
      envName,
      fingerprint: fp(found.value),
      resolved: found.value !== undefined,
      locations: found.locations,
      notes: [`${key} is not set in the config: OpenClaw falls back to ${envName}.`, ...found.notes],
    }
  }
  if (typeof raw === 'string') {
    const envName = envRef(raw, secretInput)
    if (envName) return fromEnv({...base, envName}, envName, sources, opts, values, undefined)
    values.set(key, raw)
    const locations: SecretLocation[] = [
      {
        kind: 'config',
        path: configFile,
        where: key,
        fingerprint: fp(raw),
        active: true,
        writable: true,
        target: {type: 'config', keyPath},
      },
    ]
    if (/\$\{[A-Z_][A-Z0-9_]*\}/.test(raw))
      base.notes.push(`${key} mixes text and \${VAR} substitution; ir replaces the whole value with a literal.`)
    // Copies of the gateway secret in env sources (old installers, hand-made .env files).
    const envName2 = GATEWAY_ENV[key]
    if (envName2) {
      const copies = envLocations(envName2, sources, opts)
      for (const loc of copies.locations) {
        if (loc.fingerprint === fp(raw) && loc.writable) locations.push({...loc, active: false})
        else if (loc.kind === 'process-env')
          base.notes.push(
            `${envName2} is also set in ${loc.path} (not used while the config sets ${key}); remove it where it is exported.`,
          )
        else
          base.notes.push(
            `${loc.path} sets ${envName2} to a different value («sha256:${loc.fingerprint}»), unused while the config sets ${key}; left alone.`,
          )
      }
    }
    return {...base, form: 'plain', fingerprint: fp(raw), resolved: true, locations}
  }
  if (isObject(raw) && typeof raw.source === 'string') {
    const ref: SecretRefValue = {
      source: raw.source as SecretRefValue['source'],
      provider: typeof raw.provider === 'string' ? raw.provider : 'default',
      id: String(raw.id ?? ''),
    }
    const providers = getPath(loaded.value, ['secrets', 'providers'])
    const provider =
      isObject(providers) && isObject(providers[ref.provider]) ? (providers[ref.provider] as JsonObject) : undefined
    if (ref.source === 'env') return fromEnv({...base, envName: ref.id}, ref.id, sources, opts, values, ref)
    if (ref.source === 'store') {
      const dbFile = stateDbPath(opts.stateDir)
      if (!existsSync(dbFile)) {
        return {
          ...base,
          form: 'store',
          ref,
          resolved: false,
          notes: [
            `${dbFile} does not exist (an install from before the SQLite state database?): the store SecretRef cannot resolve.`,
          ],
          locations: [
            {
              kind: 'store',
              path: dbFile,
              where: `secret_store_entries team/${ref.id}`,
              active: true,
              writable: false,
              target: {type: 'none'},
              manual: `Store the new ${key} with \`openclaw secrets store set ${ref.id}\` (value on stdin) on the gateway host, then run \`openclaw secrets reload\`.`,
            },
          ],
        }
      }
      let value: string | undefined
      const notes: string[] = []
      try {
        value = readStoreEntry(opts.stateDir, ref.id)?.value
      } catch (err) {
        notes.push(`${dbFile}: ${(err as Error).message}`)
      }
      if (value === undefined && !notes.length)
        notes.push(`secret store entry ${ref.id} does not exist yet; ir creates it.`)
      if (value !== undefined) values.set(key, value)
      return {
        ...base,
        form: 'store',
        ref,
        fingerprint: fp(value),
        resolved: value !== undefined,
        notes,
        locations: [
          {
            kind: 'store',
            path: dbFile,
            where: `secret_store_entries team/${ref.id}`,
            fingerprint: fp(value),
            active: true,
            writable: true,
            target: {type: 'store', name: ref.id},
          },
        ],
      }
    }
    if (ref.source === 'file') {
      const file =
        typeof provider?.path === 'string' && provider.source === 'file'
          ? path.resolve(expandTilde(provider.path, opts.home))
          : undefined
      if (!file) {
        return {
          ...base,
          form: 'file',
          ref,
          resolved: false,
          notes: [`secrets.providers.${ref.provider} is not a file provider with a path.`],
          locations: [
            {
              kind: 'secret-file',
              path: '(unknown)',
              where: ref.id,
              active: true,
              writable: false,
              target: {type: 'none'},
              manual: `Put the new ${key} where SecretRef file provider "${ref.provider}" reads id ${ref.id}, then run \`openclaw secrets reload\`.`,
            },
          ],
        }
      }
      const mode = provider?.mode === 'singleValue' ? 'singleValue' : 'json'
      const read = readSecretFile(file, mode, ref.id)
      if (read.value !== undefined) values.set(key, read.value)
      return {
        ...base,
        form: 'file',
        ref,
        fingerprint: fp(read.value),
        resolved: read.value !== undefined,
        notes: read.problem ? [read.problem] : [],
        locations: [
          {
            kind: 'secret-file',
            path: file,
            where: mode === 'json' ? `JSON pointer ${ref.id}` : 'whole file (singleValue)',
            fingerprint: fp(read.value),
            active: true,
            writable: read.writable,
            target: read.writable
              ? {type: 'secret-file', file, mode, pointer: mode === 'json' ? ref.id : undefined}
              : {type: 'none'},
            manual: read.writable
              ? undefined
              : `Write the new ${key} into ${file} (${mode === 'json' ? `pointer ${ref.id}` : 'the whole file'}) as a private regular file, then run \`openclaw secrets reload\`.`,
          },
        ],
      }
    }
    // exec: a secret manager ir must not drive (running the provider could act).
    const command = typeof provider?.command === 'string' ? provider.command : '(its command)'
    return {
      ...base,
      form: 'exec',
      ref,
      resolved: false,
      notes: ['exec providers are never run by ir.'],
      locations: [
        {
          kind: 'exec',
          path: command,
          where: `exec provider "${ref.provider}" id ${ref.id}`,
          active: true,
          writable: false,
          target: {type: 'none'},
          manual: `Store the new ${key} in the secret manager behind exec provider "${ref.provider}" (${command}) under id "${ref.id}", then run \`openclaw secrets reload\` (or restart the gateway).`,
        },
      ],
    }
  }
  return undefined
}

function fromEnv(
  base: {key: SecretKeyPath; scope: SecretScope; notes: string[]; envName: string},
  envName: string,
  sources: EnvSources,
  opts: InventoryOptions,
  values: Map<SecretKeyPath, string>,
  ref: SecretRefValue | undefined,
): InventoriedSecret {
  const found = envLocations(envName, sources, opts)
  if (found.value !== undefined) values.set(base.key, found.value)
  const locations = found.locations.length
    ? found.locations
    : [
        {
          kind: 'process-env' as const,
          path: 'the gateway environment',
          where: envName,
          active: true,
          writable: false,
          target: {type: 'none' as const},
          manual: `${envName} is not set in any file ir knows: export the new ${base.key} as ${envName} wherever the gateway gets it (shell profile, container env, supervisor), then restart the gateway.`,
        },
      ]
  return {
    ...base,
    form: 'env',
    ref,
    fingerprint: fp(found.value),
    resolved: found.value !== undefined,
    locations,
    notes: [...base.notes, ...found.notes],
  }
}

function envRef(value: string, secretInput: boolean): string | undefined {
  const m = /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(value) ?? (secretInput ? /^\$([A-Z][A-Z0-9_]*)$/.exec(value) : null)
  return m?.[1]
}

/** Which file holds a config key: the root when it sets it, else the $include that does. */
function fileHolding(loaded: LoadedConfig, keyPath: string[]): string {
  try {
    if (getPath(parseJson5(loaded.text, loaded.path), keyPath) !== undefined) return loaded.path
    for (const inc of [...loaded.includes].reverse()) {
      if (!inc.at.every((k, i) => keyPath[i] === k)) continue
      const raw = parseJson5(readFileSync(inc.file, 'utf8'), inc.file)
      if (getPath(raw, keyPath.slice(inc.at.length)) !== undefined) return inc.file
    }
  } catch {
    /* the root then */
  }
  return loaded.path
}

/** gateway.remote points at this gateway (loopback URL on its port, or no URL in local mode). */
function remotePointsHere(url: string | undefined, config: JsonObject, port: number): boolean {
  if (!url) return getPath(config, ['gateway', 'mode']) !== 'remote'
  try {
    const u = new URL(url)
    const p = Number(u.port || (u.protocol === 'wss:' || u.protocol === 'https:' ? 443 : 80))
    return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(u.hostname) && p === port
  } catch {
    return false
  }
}

// ------------------------------------------------------------------------------------------------
// Environment sources

interface EnvSources {
  envFiles: Array<{file: string; entries: EnvAssignment[]}>
  services: Array<{
    def: ServiceDefinition
    matches: boolean
    entries: EnvAssignment[]
    envFiles: Array<{file: string; entries: EnvAssignment[]}>
  }>
  configVars: Array<{keyPath: string[]; value: string}>
  processEnv?: {pid: number; env: Record<string, string>}
}

function envSources(opts: InventoryOptions, config: JsonObject): EnvSources {
  const envFiles: EnvSources['envFiles'] = []
  const addEnvFile = (file: string) => {
    if (envFiles.some((e) => e.file === file)) return
    const text = safeRead(file)
    if (text !== undefined) envFiles.push({file, entries: parseEnvFile(text)})
  }
  addEnvFile(path.join(opts.stateDir, '.env'))
  const pid = opts.gateway.pid
  if (pid) {
    const cwd = (opts.readProcessCwd ?? processCwd)(pid)
    if (cwd) addEnvFile(path.join(cwd, '.env'))
  }
  const defs = opts.services ?? findServiceDefinitions(opts.home, opts.stateDir)
  const services = defs.map((def) => {
    const text = safeRead(def.file) ?? ''
    const {entries, envFiles: files} =
      def.kind === 'systemd'
        ? parseSystemdEnv(text)
        : def.kind === 'launchd'
          ? {entries: parsePlistEnv(text), envFiles: []}
          : {entries: parseCmdEnv(text), envFiles: []}
    return {
      def,
      matches: serviceMatches(def, opts.stateDir, opts.home, opts.profile),
      entries,
      envFiles: files.flatMap((f) => {
        const t = safeRead(f)
        return t === undefined ? [] : [{file: f, entries: parseEnvFile(t)}]
      }),
    }
  })
  const configVars: EnvSources['configVars'] = []
  const env = config.env
  if (isObject(env)) {
    if (isObject(env.vars))
      for (const [k, v] of Object.entries(env.vars))
        if (typeof v === 'string') configVars.push({keyPath: ['env', 'vars', k], value: v})
    for (const [k, v] of Object.entries(env))
      if (typeof v === 'string' && /^[A-Z_][A-Z0-9_]*$/.test(k)) configVars.push({keyPath: ['env', k], value: v})
  }
  const penv = pid ? (opts.readProcessEnv ?? processEnviron)(pid) : undefined
  return {envFiles, services, configVars, processEnv: pid && penv ? {pid, env: penv} : undefined}
}

/**
 * Every place a variable is set for this gateway, most authoritative first: the service that runs
 * it (its Environment= / EnvironmentFile= / plist), the process environment when nothing ir can
 * write explains it (exported in a shell, a container…), `<state>/.env` and the cwd `.env`
 * (dotenv never overrides), config env.vars. Node-host services only count when they hold the
 * same value (they are clients of this gateway).
 */
function envLocations(
  name: string,
  src: EnvSources,
  opts: InventoryOptions,
): {locations: SecretLocation[]; value?: string; notes: string[]} {
  const names = [name, ...(LEGACY_ENV[name] ? [LEGACY_ENV[name]] : [])]
  const locations: SecretLocation[] = []
  const notes: string[] = []
  const serviceValues: string[] = []
  for (const s of src.services) {
    if (!s.matches && !s.def.nodeHost) continue
    for (const e of s.entries.filter((x) => names.includes(x.name))) {
      serviceValues.push(e.value)
      locations.push({
        kind: 'service',
        path: s.def.file,
        where: `${e.name} (${s.def.kind} ${s.def.name}, line ${e.line})`,
        fingerprint: fp(e.value),
        active: s.matches,
        writable: true,
        target: {
          type: 'service',
          file: s.def.file,
          name: e.name,
          service: s.def.kind,
          unit: s.def.name,
          system: s.def.file.startsWith('/etc/systemd/system'),
        },
      })
    }
    for (const f of s.envFiles) {
      for (const e of f.entries.filter((x) => names.includes(x.name))) {
        serviceValues.push(e.value)
        locations.push({
          kind: 'env-file',
          path: f.file,
          where: `${e.name} (EnvironmentFile of ${s.def.name}, line ${e.line})`,
          fingerprint: fp(e.value),
          active: s.matches,
          writable: true,
          target: {type: 'env-file', file: f.file, name: e.name},
        })
      }
    }
  }
  const procValue = names.map((n) => src.processEnv?.env[n]).find((v) => v !== undefined)
  const fileValues = src.envFiles.flatMap((f) => f.entries.filter((x) => names.includes(x.name)).map((x) => x.value))
  if (
    src.processEnv &&
    procValue !== undefined &&
    fileValues.includes(procValue) &&
    !serviceValues.includes(procValue)
  ) {
    notes.push(
      `${name} is in the gateway's start environment with the value of a .env file: whatever exported it (e.g. \`set -a; . .env\`) picks up the new value at the next start.`,
    )
  }
  if (
    src.processEnv &&
    procValue !== undefined &&
    !serviceValues.includes(procValue) &&
    !fileValues.includes(procValue)
  ) {
    locations.unshift({
      kind: 'process-env',
      path: `pid ${src.processEnv.pid}`,
      where: name,
      fingerprint: fp(procValue),
      active: true,
      writable: false,
      target: {type: 'none'},
      manual: `${name} is exported into the running gateway (pid ${src.processEnv.pid}) from outside any file ir knows: set it to the new value where it is exported (shell profile, container env, supervisor config), then restart the gateway.`,
    })
  }
  for (const f of src.envFiles) {
    for (const e of f.entries.filter((x) => names.includes(x.name))) {
      locations.push({
        kind: 'env-file',
        path: f.file,
        where: `${e.name} (line ${e.line})`,
        fingerprint: fp(e.value),
        active: false,
        writable: true,
        target: {type: 'env-file', file: f.file, name: e.name},
      })
    }
  }
  for (const v of src.configVars.filter((x) => names.includes(x.keyPath.at(-1)!))) {
    locations.push({
      kind: 'config',
      path: opts.configPath,
      where: v.keyPath.join('.'),
      fingerprint: fp(v.value),
      active: false,
      writable: true,
      target: {type: 'config', keyPath: v.keyPath},
    })
  }
  // The value OpenClaw uses: the first location in precedence order (a node-host unit is only a
  // client copy), else ir's own environment.
  let value: string | undefined
  const first = locations.find((l) => l.active) ?? locations.find((l) => l.kind !== 'service')
  if (first) {
    for (const l of locations) l.active = l === first
    value = valueAt(first, src, names)
  }
  if (value === undefined) {
    const own = names.map((n) => opts.env[n]).find((v) => v !== undefined)
    if (own !== undefined && !locations.length) {
      value = own
      locations.push({
        kind: 'process-env',
        path: 'this shell',
        where: name,
        fingerprint: fp(own),
        active: true,
        writable: false,
        target: {type: 'none'},
        manual: `${name} comes from the environment (set in this shell, not in a file ir knows): set it to the new value where it is exported, then restart the gateway.`,
      })
    }
  }
  if (src.processEnv === undefined && opts.gateway.pid)
    notes.push(
      `the environment of the gateway (pid ${opts.gateway.pid}) is not readable: a value exported there would not be seen.`,
    )
  return {locations, value, notes}
}

function valueAt(loc: SecretLocation, src: EnvSources, names: string[]): string | undefined {
  const t = loc.target
  if (loc.kind === 'process-env') return names.map((n) => src.processEnv?.env[n]).find((v) => v !== undefined)
  if (t.type === 'service')
    return src.services.find((s) => s.def.file === t.file)?.entries.find((e) => e.name === t.name)?.value
  if (t.type === 'env-file') {
    const entries = [...src.envFiles, ...src.services.flatMap((s) => s.envFiles)]
      .find((f) => f.file === t.file)
      ?.entries.filter((e) => e.name === t.name)
    return entries?.at(-1)?.value
  }
  if (t.type === 'config') return src.configVars.find((v) => v.keyPath.join('.') === t.keyPath.join('.'))?.value
  return undefined
}

// ------------------------------------------------------------------------------------------------
// Residue: the current value in files OpenClaw does not read any more

function findResidue(opts: InventoryOptions, loaded: LoadedConfig, values: Map<SecretKeyPath, string>): ResidueItem[] {
  const out: ResidueItem[] = []
  if (!values.size) return out
  const skip = new Set([loaded.path, ...loaded.includes.map((i) => i.file)])
  const files = configHistoryFiles(opts.configPath).filter((f) => !skip.has(f))
  const logs = path.join(opts.stateDir, 'logs')
  for (const n of safeReaddir(logs))
    if (/^config-audit\.jsonl(\.migrated(\.\d+)?\.raw)?$/.test(n)) files.push(path.join(logs, n))
  for (const file of files) {
    const text = safeRead(file)
    if (text === undefined) continue
    const keys = [...values].filter(([, v]) => v.length >= 8 && text.includes(v)).map(([k]) => k)
    if (keys.length) {
      out.push({
        path: file,
        keys,
        what: file.includes('config-audit')
          ? 'config write audit log (argv of an old `config set`)'
          : 'config backup/history copy',
      })
    }
  }
  return out
}

const fp = (v: string | undefined) => (v === undefined ? undefined : fingerprint(v))
