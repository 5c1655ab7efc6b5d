import {processEnviron} from '../openclaw/secrets/process-env.js'
import type {Source} from './discover.js'
import {
  environSecretValues,
  envSecretValues,
  jsonSecretValues,
  keyedSecretValues,
  type KnownSecrets,
  storeTextSecretValues,
} from './secret-values.js'
import {readNoAtime} from './source-io.js'

/**
 * Every secret value the install keeps, learned before anything is copied or recorded, so that no
 * copy of one anywhere (a transcript, a log, a SQLite row, the gateway's command line) stays in
 * clear: the config's raw text (even when it does not parse), its history and includes, .env
 * files, service units, secret stores and SecretRef files (discovery lists them all), and the
 * gateway's process environment. Files are read without moving their access time; values stay in
 * memory; nothing here writes.
 */

/** Files read whole for their values up to this size (larger ones are learned while copied). */
const LEARN_MAX = 4 << 20

/** The secret values in one file's text, by how the collector treats the file. */
export function secretValuesOf(src: Pick<Source, 'policy' | 'kind'>, text: string): string[] {
  switch (src.policy) {
    case 'masked-config':
      return [...configValues(text), ...envSecretValues(text)]
    case 'masked-env':
      return envSecretValues(text)
    case 'masked-json':
    case 'metadata':
      return src.kind === 'env' ? envSecretValues(text) : storeTextSecretValues(text)
    default:
      return []
  }
}

function configValues(text: string): string[] {
  const out = keyedSecretValues(text)
  try {
    out.push(...jsonSecretValues(JSON.parse(text)))
  } catch {
    /* JSON5 or broken: the keyed values above are read from the text */
  }
  return out
}

/** The secret-bearing sources discovery found (config and history, .env, stores, units), read without atime. */
export function learnFromSources(sources: Source[], known: KnownSecrets): void {
  for (const src of sources) {
    if (src.policy === 'copy' || src.policy === 'sqlite' || src.policy === 'zst' || src.size > LEARN_MAX) continue
    try {
      known.add(secretValuesOf(src, readNoAtime(src.path).toString('utf8')))
    } catch {
      /* unreadable now: its acquisition records why */
    }
  }
}

/** The gateway's process environment (OPENCLAW_GATEWAY_TOKEN and the provider keys it was started with). */
export function learnFromProcess(pid: number | undefined, known: KnownSecrets): void {
  if (!pid) return
  const environ = processEnviron(pid)
  if (environ) known.add(environSecretValues(environ))
}
