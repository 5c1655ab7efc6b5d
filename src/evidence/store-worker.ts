/**
 * Worker-thread side of the SQLite store phase (stores.ts): scan, export and redact one store at
 * a time while the main thread copies and scans the files. Secret values arrive in memory
 * (workerData), never through disk.
 */
import {parentPort, workerData} from 'node:worker_threads'

import {createScanner} from '../detect/scanner.js'
import {IrError} from '../errors.js'
import {Redactor} from './redact.js'
import {KnownSecrets} from './secret-values.js'
import {finishStore} from './sqlite.js'
import type {StoreJob, StoreReply, StoreWorkerInit} from './stores.js'

const init = workerData as StoreWorkerInit
const known = new KnownSecrets()
known.add(init.known)
const rules = {...init.rules, rejected: []}
const redactor = new Redactor(rules.rules, known)
const env = {...init.env, since: init.env.since ? new Date(init.env.since) : undefined, known, redactor}

parentPort!.on('message', (job: StoreJob) => {
  const scanner = createScanner(rules)
  finishStore(job.snap, env, scanner).then(
    (r) => {
      const res = scanner.finish()
      parentPort!.postMessage({
        id: job.id,
        result: {
          records: r.records,
          staged: r.staged,
          findings: res.findings,
          skipped: res.scanned.skipped,
          scanned: res.scanned,
        },
      } satisfies StoreReply)
    },
    (err: unknown) => {
      const e = err as Error & {code?: string}
      parentPort!.postMessage({
        id: job.id,
        error: {
          name: e.name,
          message: e.message,
          code: e.code,
          exitCode: err instanceof IrError ? err.exitCode : undefined,
          suggestions: err instanceof IrError ? err.suggestions : undefined,
        },
      } satisfies StoreReply)
    },
  )
})
