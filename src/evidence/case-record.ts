import os from 'node:os'

import {TOOL_VERSION} from '../case/journal.js'
import type {Finding, SkippedItem} from '../detect/finding-types.js'
import type {Install} from '../openclaw/locate.js'
import {BUNDLE_SCHEMA, type CollectOptions, type ItemRecord} from './collect-types.js'
import type {StoreInfo} from './store-info.js'
import type {VolatileFacts} from './volatile.js'

/** case.json of a bundle: who collected what, when, how, from which install, and every item with its outcome. */

export interface CaseRecordInput {
  caseId: string
  root: string
  startedAt: Date
  acquiredAt?: Date
  endedAt: Date
  options: CollectOptions
  install: Install
  stateDir?: string
  configError?: string
  era: string
  stores: StoreInfo[]
  volatile?: VolatileFacts
  scanned: {files: number; events: number; bytes: number}
  rules?: {count: number; files: unknown}
  notScanned: SkippedItem[]
  records: ItemRecord[]
  resumed: number
  bytesRead: number
  findings: Finding[]
  knownSecretValues: number
}

export function caseRecord(i: CaseRecordInput): Record<string, unknown> {
  const count = (o: string) => i.records.filter((r) => r.outcome === o).length
  const v = i.volatile
  return {
    schema: BUNDLE_SCHEMA,
    case: i.caseId,
    bundle: i.root,
    tool: TOOL_VERSION,
    operator: {user: v?.host.user.name ?? os.userInfo().username, uid: v?.host.user.uid, host: os.hostname()},
    startedAt: i.startedAt.toISOString(),
    acquiredAt: i.acquiredAt?.toISOString(),
    endedAt: i.endedAt.toISOString(),
    options: {
      since: i.options.since?.toISOString(),
      format: i.options.format,
      includeSecrets: i.options.includeSecrets,
      rules: i.options.rules,
    },
    host: v?.host,
    install: {
      stateDir: i.stateDir,
      configPath: i.install.configPath,
      profile: i.install.profile,
      source: i.install.source,
      configError: i.configError,
      era: i.era,
      stores: i.stores,
      versions: {...v?.versions, stateDb: i.stores.find((s) => s.appVersion)?.appVersion},
    },
    gateway: v?.gateway,
    consistency:
      v?.gateway.state === 'up'
        ? `the gateway was running (pid ${v.gateway.pid ?? '?'}): files were copied as they were when opened; SQLite stores were copied with their -wal/-shm (again when they changed meanwhile) and backed up from the copy — see items with changedDuringCopy`
        : 'the gateway was not running: the copies are a consistent snapshot',
    // inputs the scanner did not (fully) read: empty files, lines that are not JSON, truncated last lines, rejected
    // rules
    scan: {...i.scanned, rules: i.rules?.count, ruleFiles: i.rules?.files, notScanned: i.notScanned},
    summary: {
      items: i.records.length,
      collected: count('collected'),
      skipped: count('skipped'),
      missing: count('missing'),
      failed: count('failed'),
      resumed: i.resumed,
      bytesRead: i.bytesRead,
      redactions: i.records.reduce((n, r) => n + (r.redactions ?? 0), 0),
      findings: i.findings.length,
      knownSecretValues: i.knownSecretValues,
    },
    items: i.records,
  }
}
