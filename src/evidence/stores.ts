import os from 'node:os'
import {Worker} from 'node:worker_threads'

import type {RuleSet} from '../detect/rules.js'
import {createScanner} from '../detect/scanner.js'
import type {Finding, SkippedItem} from '../detect/finding-types.js'
import {type ExitCode, IrError} from '../errors.js'
import type {StagedFile} from './acquire.js'
import {finishStore, type StoreEnv, type StoreSnapshot} from './sqlite.js'
import type {ItemRecord} from './collect-types.js'

/**
 * The SQLite stores' heavy part (scan, transcript export, redaction) on a worker thread, so it
 * overlaps with the file copies on the main thread and the archive's compression (measured on a
 * 2-core machine: stores and files each take about a third of the CPU of a collection). Falls back
 * to this thread when a worker cannot start or dies.
 */

export interface StoreWorkerInit {
  rules: RuleSet
  known: string[]
  env: {staging: string; work: string; includeSecrets: boolean; since?: string}
}

export interface StoreJob {
  id: number
  snap: StoreSnapshot
}

export interface StoreOutcome {
  records: ItemRecord[]
  staged: StagedFile[]
  findings: Finding[]
  skipped: SkippedItem[]
  scanned: {files: number; events: number; bytes: number}
}

export type StoreReply =
  | {id: number; result: StoreOutcome}
  | {id: number; error: {name: string; message: string; code?: string; exitCode?: number; suggestions?: string[]}}

const FROM_SOURCE = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(`./store-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url)

function tsxApi(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api')
  } catch {
    return undefined
  }
}

function newWorker(init: StoreWorkerInit): Worker | undefined {
  if (os.availableParallelism() < 2) return undefined
  if (!FROM_SOURCE) return new Worker(WORKER_URL, {workerData: init})
  const api = tsxApi()
  if (!api) return undefined
  // from TypeScript source: register tsx in the worker before its entry loads
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(boot, {eval: true, workerData: init})
}

/**
 * Finish every snapshot; `onDone` gets each outcome as soon as it is ready (in any order), so
 * its files can go into the archive at once. Resolves when all are done; rejects with the first
 * fatal error (disk full, Ctrl-C).
 */
export function finishStores(
  snaps: StoreSnapshot[],
  rules: RuleSet,
  env: StoreEnv,
  onDone: (snap: StoreSnapshot, o: StoreOutcome) => void | Promise<void>,
  opts: {inThread?: boolean} = {},
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
    if (snaps.length === 0) return
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
    await new Promise<void>((resolve, reject) => {
      let failed = false
      const next = (id: number) => {
        if (id < snaps.length) w.postMessage({id, snap: snaps[id]!} satisfies StoreJob)
        else resolve()
      }
      w.on('message', (m: StoreReply) => {
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
        left.delete(m.id)
        Promise.resolve(onDone(snaps[m.id]!, m.result)).then(
          () => next(m.id + 1),
          (err: unknown) => {
            failed = true
            reject(err)
          },
        )
      })
      // a worker that dies (or cannot load) leaves its stores to this thread
      const died = () => {
        if (!failed) resolve()
      }
      w.on('error', died)
      w.on('exit', died)
      next(0)
    })
    void w.terminate()
    for (const s of [...left.values()]) await inThread(s)
  })()
  return {done, stop: () => void worker?.terminate()}
}
