import path from 'node:path'

import {errorMessage} from './errors.js'
import {ConfigError, loadConfig, type JsonObject} from './openclaw/config.js'
import {
  affectingAdvisories,
  indicatorHits,
  loadAdvisories,
  skillDirs,
  type AdvisoryMatch,
  type IndicatorHit,
} from './openclaw/advisories.js'
import {detectEra, type EraInfo} from './openclaw/era.js'
import {bySeverity, configExposure, permissionExposure, type ExposureItem} from './openclaw/exposure.js'
import {probeGateway, type GatewayProbeSeams, type GatewayState} from './openclaw/gateway.js'
import {
  findInstalls,
  openclawHome,
  realHost,
  resolveInstall,
  type HostEnv,
  type Install,
  type Target,
} from './openclaw/locate.js'
import {findServiceDefinitions, serviceMatches, serviceRuntime, type ServiceDefinition} from './openclaw/services.js'
import {configVersion, findOpenClawCli, type VersionFacts} from './openclaw/version.js'
import {playbooksDir} from './playbook/loader.js'
import {realRunner, type ProcessRunner} from './system/process-runner.js'

/** `ir status`: read-only triage of every install. Never changes anything, never starts OpenClaw. */

export interface InstallStatus {
  stateDir: string
  configPath: string
  profile?: string
  source: Install['source']
  stateDirExists: boolean
  config: {ok: boolean; error?: string; line?: number; column?: number; includes: string[]}
  era: Omit<EraInfo, 'agentStores' | 'stateDb'> & {
    stores: Array<{path: string; agentId?: string; userVersion?: number; problem?: string}>
  }
  version: VersionFacts
  gateway: Omit<GatewayState, 'locks'> & {locks: string[]; services: ServiceDefinition[]}
  exposure: ExposureItem[]
  /** Known advisories the version is affected by (playbooks/data/advisories.yaml), and which version was judged. */
  advisories: {version?: string; source?: keyof VersionFacts; updated: string; affected: AdvisoryMatch[]}
  /** Installed skills matching a known-malicious indicator. */
  indicators: IndicatorHit[]
}

export interface StatusResult {
  installs: InstallStatus[]
  /** Highest severity over all installs ('none' when nothing is exposed). */
  worst: ExposureItem['severity'] | 'none'
}

export interface StatusDeps {
  host?: HostEnv
  runner?: ProcessRunner
  gatewaySeams?: GatewayProbeSeams
}

export async function status(target: Target, deps: StatusDeps = {}): Promise<StatusResult> {
  const host = deps.host ?? realHost()
  const runner = deps.runner ?? realRunner
  const home = openclawHome(host)
  const definitions = findServiceDefinitions(home)
  const cli = findOpenClawCli(host.env)
  const installs: InstallStatus[] = []
  const found = findInstalls(target, host)
  // Service definitions name state dirs too (OPENCLAW_STATE_DIR in a unit or plist).
  if (!target.stateDir && !target.configPath) {
    for (const def of definitions) {
      if (!def.stateDir || def.nodeHost || found.some((i) => path.resolve(i.stateDir) === path.resolve(def.stateDir!)))
        continue
      found.push({
        ...resolveInstall(
          {stateDir: def.stateDir, configPath: def.configPath, profile: def.profile},
          {...host, env: {}},
        ),
        source: 'found',
      })
    }
  }
  for (const install of found) {
    installs.push(
      await installStatus(install, {
        host,
        runner,
        home,
        definitions,
        installed: cli?.version,
        seams: deps.gatewaySeams,
      }),
    )
  }
  const all = installs
    .flatMap((i) => i.exposure)
    .filter((e) => e.severity !== 'info')
    .sort(bySeverity)
  return {installs, worst: all[0]?.severity ?? 'none'}
}

async function installStatus(
  install: Install,
  ctx: {
    host: HostEnv
    runner: ProcessRunner
    home: string
    definitions: ServiceDefinition[]
    installed?: string
    seams?: GatewayProbeSeams
  },
): Promise<InstallStatus> {
  let config: JsonObject | undefined
  const configStatus: InstallStatus['config'] = {ok: false, includes: []}
  if (!install.configExists) configStatus.error = `${install.configPath} does not exist`
  else {
    try {
      const loaded = loadConfig(install.configPath, {env: ctx.host.env})
      config = loaded.value
      Object.assign(configStatus, {ok: true, includes: [...new Set(loaded.includes.map((i) => i.file))]})
    } catch (err) {
      configStatus.error = errorMessage(err)
      if (err instanceof ConfigError) Object.assign(configStatus, {line: err.line, column: err.column})
    }
  }
  const eraInfo = detectEra(install.stateDir)
  const gw = await probeGateway(install.stateDir, install.configPath, config, ctx.host.env, install.profile, ctx.seams)
  const services: ServiceDefinition[] = []
  for (const def of ctx.definitions) {
    if (!serviceMatches(def, install.stateDir, ctx.home, install.profile)) continue
    services.push({...def, ...(await serviceRuntime(def, ctx.runner, ctx.host.uid))})
  }
  const exposure = [
    ...(config ? configExposure(config) : []),
    ...(install.stateDirExists ? permissionExposure(install.stateDir, install.configPath) : []),
    ...services
      .filter((s) => s.embedsToken)
      .map((s) => ({
        checkId: 'service.embedded_token',
        severity: 'high' as const,
        title: `${s.name} embeds the gateway secret in clear (old installer)`,
        where: s.file,
      })),
  ].sort(bySeverity)
  const storeVersion =
    eraInfo.stateDb?.schemaMeta?.appVersion ??
    eraInfo.agentStores.find((s) => s.schemaMeta?.appVersion)?.schemaMeta?.appVersion
  const {agentStores, stateDb, ...eraRest} = eraInfo
  return {
    stateDir: install.stateDir,
    configPath: install.configPath,
    profile: install.profile,
    source: install.source,
    stateDirExists: install.stateDirExists,
    config: configStatus,
    era: {
      ...eraRest,
      stores: [...agentStores, ...(stateDb ? [stateDb] : [])].map((s) => ({
        path: path.relative(install.stateDir, s.path),
        agentId: s.agentId,
        userVersion: s.userVersion,
        problem: s.problem,
      })),
    },
    version: {
      config: configVersion(config),
      stateDb: storeVersion,
      installed: ctx.installed,
      running: gw.startupz?.version,
    },
    gateway: {...gw, locks: gw.locks.map((l) => l.path), services},
    exposure,
    ...knownBad(install.stateDir, config, {
      running: gw.startupz?.version,
      installed: ctx.installed,
      stateDb: storeVersion,
      config: configVersion(config),
    }),
  }
}

/** The version that runs (else installed, else last wrote the state) vs the advisories; skills vs the indicators. */
function knownBad(
  stateDir: string,
  config: JsonObject | undefined,
  v: VersionFacts,
): Pick<InstallStatus, 'advisories' | 'indicators'> {
  const data = loadAdvisories(path.join(playbooksDir(), 'data', 'advisories.yaml'))
  const source = (['running', 'installed', 'stateDb', 'config'] as const).find((k) => v[k])
  const version = source ? v[source] : undefined
  return {
    advisories: {version, source, updated: data.updated, affected: affectingAdvisories(version, data)},
    indicators: indicatorHits(skillDirs(stateDir, config), data),
  }
}
