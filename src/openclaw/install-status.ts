import path from 'node:path'

import {errorMessage} from '../errors.js'
import {ConfigError, loadConfig, rawGatewayPort, type JsonObject} from './config.js'
import {affectingAdvisories, loadAdvisories, type AdvisoryMatch} from './advisories.js'
import {indicatorHits, loadIndicators, skillDirs, type IndicatorCheck, type IndicatorHit} from './indicators.js'
import {detectEra, type EraInfo} from './era.js'
import {showsOpenClawSign} from './install-check.js'
import {bySeverity, installExposure, type ExposureItem} from './exposure.js'
import {probeGateway, type GatewayProbeSeams, type GatewayState} from './gateway.js'
import {
  findInstalls,
  openclawHome,
  realHost,
  resolveInstall,
  type HostEnv,
  type Install,
  type Target,
} from './locate.js'
import {findServiceDefinitions, serviceMatches, serviceRuntime, type ServiceDefinition} from './services.js'
import {locateOpenClawCli, type CliSource} from './openclaw-cli.js'
import {configVersion, type VersionFacts} from './version.js'
import {packageAsset} from '../system/package-assets.js'
import {safeRead} from '../system/safe-fs.js'
import {realRunner, type ProcessRunner} from '../system/process-runner.js'

/**
 * The triage of OpenClaw installs behind `ir status` and the contain/respond records: installs found,
 * era, version, gateway, exposure, advisories. Read-only: never changes anything, never starts OpenClaw.
 */

export interface InstallStatus {
  stateDir: string
  configPath: string
  profile?: string
  source: Install['source']
  stateDirExists: boolean
  /** The state dir holds something only OpenClaw writes; false: an existing folder that is not an install. */
  isOpenClaw: boolean
  config: {ok: boolean; error?: string; line?: number; column?: number; includes: string[]}
  /** The openclaw CLI that runs this install, how it was found (openclaw-cli.ts), and its version. */
  cli?: {source: CliSource; from: string; version?: string}
  era: Omit<EraInfo, 'agentStores' | 'stateDb'> & {
    stores: Array<{path: string; agentId?: string; userVersion?: number; problem?: string}>
  }
  version: VersionFacts
  gateway: Omit<GatewayState, 'locks'> & {locks: string[]; services: ServiceDefinition[]}
  exposure: ExposureItem[]
  /** Known advisories the version is affected by (playbooks/data/advisories.yaml), and which version was judged. */
  advisories: {version?: string; source?: keyof VersionFacts; updated: string; affected: AdvisoryMatch[]}
  /** Installed skills matching a known-malicious indicator (playbooks/data/indicators.yaml). */
  indicators: IndicatorHit[]
  /** What the indicator check covered: the list's date, skills and files read, files skipped. */
  indicatorCheck: IndicatorCheck
}

export interface StatusResult {
  installs: InstallStatus[]
  /** Highest severity over all installs ('none' when nothing is exposed). */
  worst: ExposureItem['severity'] | 'none'
  /** Some install's config exists but cannot be read: its exposure is unknown (exit 3). */
  exposureUnknown: boolean
}

export interface StatusDeps {
  host?: HostEnv
  runner?: ProcessRunner
  gatewaySeams?: GatewayProbeSeams
}

export async function triageInstalls(target: Target, deps: StatusDeps = {}): Promise<StatusResult> {
  const host = deps.host ?? realHost()
  const runner = deps.runner ?? realRunner
  const home = openclawHome(host)
  const definitions = findServiceDefinitions(home)
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
        seams: deps.gatewaySeams,
      }),
    )
  }
  const all = installs
    .flatMap((i) => i.exposure)
    .filter((e) => e.severity !== 'info')
    .sort(bySeverity)
  const exposureUnknown = installs.some((i) => i.exposure.some((e) => e.checkId === 'config.unreadable'))
  return {installs, worst: all[0]?.severity ?? 'none', exposureUnknown}
}

async function installStatus(
  install: Install,
  ctx: {
    host: HostEnv
    runner: ProcessRunner
    home: string
    definitions: ServiceDefinition[]
    seams?: GatewayProbeSeams
  },
): Promise<InstallStatus> {
  let config: JsonObject | undefined
  let probeConfig: JsonObject | undefined
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
      // The gateway may still run on the port the broken text names: probe that one.
      const port = rawGatewayPort(safeRead(install.configPath) ?? '')
      if (port) probeConfig = {gateway: {port}}
    }
  }
  const eraInfo = detectEra(install.stateDir)
  const gw = await probeGateway(
    install.stateDir,
    install.configPath,
    config ?? probeConfig,
    ctx.host.env,
    install.profile,
    ctx.seams,
  )
  const services: ServiceDefinition[] = []
  for (const def of ctx.definitions) {
    if (!serviceMatches(def, install.stateDir, ctx.home, install.profile)) continue
    services.push({...def, ...(await serviceRuntime(def, ctx.runner, ctx.host.uid))})
  }
  const exposure = installExposure({
    stateDir: install.stateDir,
    configPath: install.configPath,
    stateDirExists: install.stateDirExists,
    config,
    configError: install.configExists ? configStatus.error : undefined,
    services,
  })
  const cli = await locateOpenClawCli({
    env: ctx.host.env,
    gatewayPid: gw.state === 'up' ? gw.pid : undefined,
    services,
    procRoot: ctx.seams?.procRoot,
  })
  const storeVersion =
    eraInfo.stateDb?.schemaMeta?.appVersion ??
    eraInfo.agentStores.find((s) => s.schemaMeta?.appVersion)?.schemaMeta?.appVersion
  const {agentStores, stateDb, ...eraRest} = eraInfo
  const version: VersionFacts = {
    config: configVersion(config),
    stateDb: storeVersion,
    installed: cli?.version,
    running: gw.startupz?.version,
  }
  return {
    stateDir: install.stateDir,
    configPath: install.configPath,
    profile: install.profile,
    source: install.source,
    stateDirExists: install.stateDirExists,
    isOpenClaw: install.stateDirExists && showsOpenClawSign(install),
    config: configStatus,
    ...(cli ? {cli: {source: cli.source, from: cli.from, version: cli.version}} : {}),
    era: {
      ...eraRest,
      stores: [...agentStores, ...(stateDb ? [stateDb] : [])].map((s) => ({
        path: path.relative(install.stateDir, s.path),
        agentId: s.agentId,
        userVersion: s.userVersion,
        problem: s.problem,
      })),
    },
    version,
    gateway: {...gw, locks: gw.locks.map((l) => l.path), services},
    exposure,
    ...knownBad(install.stateDir, config, version, ctx.home),
  }
}

/** The version that runs (else installed, else last wrote the state) vs the advisories; skills vs the indicators. */
function knownBad(
  stateDir: string,
  config: JsonObject | undefined,
  v: VersionFacts,
  home: string,
): Pick<InstallStatus, 'advisories' | 'indicators' | 'indicatorCheck'> {
  const data = loadAdvisories(packageAsset('playbooks', 'data', 'advisories.yaml'))
  const source = (['running', 'installed', 'stateDb', 'config'] as const).find((k) => v[k])
  const version = source ? v[source] : undefined
  const ioc = indicatorHits(
    skillDirs(stateDir, config, home),
    loadIndicators(packageAsset('playbooks', 'data', 'indicators.yaml')),
  )
  return {
    advisories: {version, source, updated: data.updated, affected: affectingAdvisories(version, data)},
    indicators: ioc.hits,
    indicatorCheck: ioc.check,
  }
}
