/**
 * Worker-thread side of acquire-worker.ts: finish one SQLite store, or acquire one batch of files,
 * at a time while the main thread copies and scans the other files. Secret values arrive in
 * memory (workerData), never through disk.
 */
import {parentPort, workerData} from 'node:worker_threads'

import {createScanner} from '../detect/scanner.js'
import {IrError} from '../errors.js'
import {acquireBatch, type AcquireWorkerInit, type WorkerJob, type WorkerReply} from './acquire-worker.js'
import {Redactor} from './redact.js'
import {KnownSecrets} from './secret-values.js'
import {finishStore} from './sqlite.js'

const init = workerData as AcquireWorkerInit
const known = new KnownSecrets()
known.add(init.known)
const rules = {...init.rules, rejected: []}
const redactor = new Redactor(rules.rules, known)
const env = {...init.env, since: init.env.since ? new Date(init.env.since) : undefined, known, redactor}

async function run(job: WorkerJob): Promise<WorkerReply> {
  if ('files' in job) return {id: job.id, files: await acquireBatch(job.files, env, rules)}
  const scanner = createScanner(rules)
  const r = await finishStore(job.snap, env, scanner)
  const res = scanner.finish()
  return {
    id: job.id,
    result: {
      records: r.records,
      staged: r.staged,
      findings: res.findings,
      skipped: res.scanned.skipped,
      scanned: res.scanned,
    },
  }
}

parentPort!.on('message', (job: WorkerJob) => {
  run(job).then(
    (reply) => parentPort!.postMessage(reply),
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
      } satisfies WorkerReply)
    },
  )
})
