import {errorMessage} from '../errors.js'
import {isObject, type JsonObject, loadConfig, parseJson5} from '../openclaw/config.js'
import type {Install} from '../openclaw/locate.js'
import {readNoAtime} from './source-io.js'

/** The install's config as collect reads it (for paths and secret locations): merged, atime untouched. */

export interface InstallConfig {
  config?: JsonObject
  /** Files its $include pulled in. */
  includes: string[]
  /** Why it could not be read or parsed (raw text is still learned from and masked). */
  error?: string
}

export function readInstallConfig(install: Install, env: NodeJS.ProcessEnv): InstallConfig {
  if (!install.configExists) return {includes: []}
  try {
    // read without moving the atime; a config with $include goes through the full loader
    const text = readNoAtime(install.configPath).toString('utf8')
    const value = text.includes('$include') ? undefined : parseJson5(text, install.configPath)
    if (value !== undefined && isObject(value)) return {config: value, includes: []}
    const loaded = loadConfig(install.configPath, {env})
    return {config: loaded.value, includes: [...new Set(loaded.includes.map((i) => i.file))]}
  } catch (err) {
    return {includes: [], error: errorMessage(err)}
  }
}
