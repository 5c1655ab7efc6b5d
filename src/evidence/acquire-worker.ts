import os from 'node:os'
import {Worker} from 'node:worker_threads'

import type {RuleSet} from '../detect/rules.js'
import {createScanner} from '../detect/scanner.js'
import type {Finding, SkippedItem} from '../detect/finding-types.js'
import {type ExitCode, IrError} from '../errors.js'
import {acquireFile, type StagedFile} from './acquire.js'
import type {Source} from './discover.js'
import {finishStore, type StoreEnv, type StoreSnapshot} from './sqlite.js'
import type {ItemRecord} from './collect-types.js'

/**
 * The second core of a collection: a worker thread finishes the SQLite stores (scan, transcript
 * export, redaction), then takes batches of the remaining files off the main thread's queue and
 * acquires them (copy, hash, scan, redact) while the main thread does the same from the other
 * end. Measured on a 2-core machine: one thread alone left the other core idle for most of the
 * run. Falls back to this thread when a worker cannot start or dies (its batch comes back).
 */

export interface AcquireWorkerInit {
  rules: RuleSet
  known: string[]
  env: {staging: string; work: string; includeSecrets: boolean; since?: string}
}

export type WorkerJob = {id: number; snap: StoreSnapshot} | {id: number; files: Source[]}

/** What a store or a batch of files gave: the same shape the main thread's own batches commit. */
export interface AcquireOutcome {
  records: ItemRecord[]
  staged: StagedFile[]
  findings: Finding[]
  skipped: SkippedItem[]
  scanned: {files: number; events: number; bytes: number}
}

/** A batch of files: each file's records and staged copies, and the batch's scan (findings across its files). */
export interface FileBatchOutcome {
  items: Array<{records: ItemRecord[]; staged: StagedFile[]; bytesRead: number}>
  findings: Finding[]
  skipped: SkippedItem[]
  scanned: {files: number; events: number; bytes: number}
}

export type WorkerReply =
  | {id: number; result: AcquireOutcome}
  | {id: number; files: FileBatchOutcome}
  | {id: number; error: {name: string; message: string; code?: string; exitCode?: number; suggestions?: string[]}}

/** Files the worker may take off the queue, and where their outcome goes. */
export interface FileFeed {
  /** The next batch (from the far end of the main thread's queue), or undefined when none is left. */
  take(): Source[] | undefined
  onDone(files: Source[], o: FileBatchOutcome): void | Promise<void>
  /** A batch the worker could not finish (it died): the main thread acquires it. */
  giveBack(files: Source[]): void
}

const FROM_SOURCE = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(`./acquire-worker-thread${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url)

function tsxApi(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api')
  } catch {
    return undefined
  }
}

function newWorker(init: AcquireWorkerInit): Worker | undefined {
  if (os.availableParallelism() < 2) return undefined
  if (!FROM_SOURCE) return new Worker(WORKER_URL, {workerData: init})
  const api = tsxApi()
  if (!api) return undefined
  // from TypeScript source: register tsx in the worker before its entry loads
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(boot, {eval: true, workerData: init})
}

/** A batch of files acquired with one scanner (on whichever thread runs it). */
export async function acquireBatch(files: Source[], env: StoreEnv, rules: RuleSet): Promise<FileBatchOutcome> {
  const scanner = createScanner(rules)
  const items: FileBatchOutcome['items'] = []
  for (const src of files) {
    let bytesRead = 0
    const r = await acquireFile(src, {...env, onBytes: (n) => (bytesRead += n)}, scanner)
    items.push({records: r.records, staged: r.staged, bytesRead})
  }
  const res = scanner.finish()
  return {items, findings: res.findings, skipped: res.scanned.skipped, scanned: res.scanned}
}

/**
 * Finish every snapshot, then files from `files` until it has none left; `onDone` gets each
 * store's outcome as soon as it is ready, so its files can go into the archive at once. Resolves
 * when all are done; rejects with the first fatal error (disk full, Ctrl-C).
 */
export function runAcquireWorker(
  snaps: StoreSnapshot[],
  rules: RuleSet,
  env: StoreEnv,
  onDone: (snap: StoreSnapshot, o: AcquireOutcome) => void | Promise<void>,
  opts: {inThread?: boolean; files?: FileFeed} = {},
): {done: Promise<void>; stop: () => void} {
  let worker: Worker | undefined
  const inThread = async (snap: StoreSnapshot) => {
    const scanner = createScanner(rules)
    const r = await finishStore(snap, env, scanner)
    const res = scanner.finish()
    await onDone(snap, {
      records: r.records,
      staged: r.staged,
      findings: res.findings,
      skipped: res.scanned.skipped,
      scanned: res.scanned,
    })
  }
  const done = (async () => {
    if (snaps.length === 0 && !opts.files) return
    if (!opts.inThread) {
      try {
        worker = newWorker({
          rules,
          known: env.known.list(),
          env: {
            staging: env.staging,
            work: env.work,
            includeSecrets: env.includeSecrets,
            since: env.since?.toISOString(),
          },
        })
      } catch {
        worker = undefined
      }
    }
    if (!worker) {
      for (const s of snaps) await inThread(s)
      return
    }
    const w = worker
    const left = new Map(snaps.map((s, i) => [i, s]))
    const batches = new Map<number, Source[]>()
    await new Promise<void>((resolve, reject) => {
      let failed = false
      const next = (id: number) => {
        if (id < snaps.length) return w.postMessage({id, snap: snaps[id]!} satisfies WorkerJob)
        const files = opts.files?.take()
        if (!files) return resolve()
        batches.set(id, files)
        w.postMessage({id, files} satisfies WorkerJob)
      }
      const settle = (id: number, p: void | Promise<void>) =>
        Promise.resolve(p).then(
          () => next(id + 1),
          (err: unknown) => {
            failed = true
            reject(err)
          },
        )
      w.on('message', (m: WorkerReply) => {
        if (failed) return
        if ('error' in m) {
          failed = true
          const e = m.error
          reject(
            e.name === 'AbortError'
              ? Object.assign(new Error(e.message), {name: 'AbortError', code: 'ABORT_ERR'})
              : new IrError(e.message, (e.exitCode ?? 1) as ExitCode, e.suggestions ?? [], e.code ?? 'STORE_FAILED'),
          )
          return
        }
        if ('files' in m) {
          const files = batches.get(m.id)!
          batches.delete(m.id)
          return settle(m.id, opts.files!.onDone(files, m.files))
        }
        left.delete(m.id)
        settle(m.id, onDone(snaps[m.id]!, m.result))
      })
      // a worker that dies (or cannot load) leaves its stores and its batch to this thread
      const died = () => {
        if (!failed) resolve()
      }
      w.on('error', died)
      w.on('exit', died)
      next(0)
    })
    void w.terminate()
    for (const files of batches.values()) opts.files?.giveBack(files)
    for (const s of [...left.values()]) await inThread(s)
  })()
  return {done, stop: () => void worker?.terminate()}
}
