import type {ItemRecord} from './collect-types.js'
import {PRE_STOP_BUNDLE_PATH, type VolatileFacts} from './volatile.js'

/** The volatile facts as bundle files (evidence/volatile/*.json), each with the record case.json lists it under. */

export interface VolatileFile {
  bundlePath: string
  text: string
  record: Omit<ItemRecord, 'sha256' | 'size'>
}

/** `preStop`: what `ir respond` recorded before it stopped the gateway (its journal holds the hash), kept as is. */
export function volatileFiles(v: VolatileFacts, preStop?: string): VolatileFile[] {
  const files: Array<[string, unknown]> = [
    ['evidence/volatile/host.json', v.host],
    ['evidence/volatile/gateway.json', v.gateway],
    ['evidence/volatile/exposure.json', {exposure: v.exposure, versions: v.versions}],
    [
      'evidence/volatile/openclaw-security-audit.json',
      v.audit.json ?? {
        ran: v.audit.ran,
        reason: v.audit.reason,
        exitCode: v.audit.exitCode,
        timedOut: v.audit.timedOut,
        output: v.audit.stderrTail,
      },
    ],
  ]
  if (preStop !== undefined) files.push([PRE_STOP_BUNDLE_PATH, preStop])
  return files.map(([bundlePath, value]) => {
    const audit = bundlePath.endsWith('audit.json')
    return {
      bundlePath,
      text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n',
      record: {
        path: audit
          ? 'openclaw security audit --deep --json (scratch mirror)'
          : bundlePath.replace(/^.*\//, 'volatile: '),
        kind: 'volatile',
        outcome: audit && !v.audit.ran ? 'skipped' : 'collected',
        reason: audit && !v.audit.ran ? v.audit.reason : undefined,
        bundlePath,
        method: 'command',
      },
    }
  })
}
