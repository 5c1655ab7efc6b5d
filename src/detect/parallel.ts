import os from 'node:os'
import {Worker} from 'node:worker_threads'

import type {RuleSet} from './rules.js'
import type {ScanPart, ScannerOptions} from './scanner.js'
import type {Input} from './sources.js'

/**
 * Whole inputs (files, SQLite stores) spread over a small pool of worker threads. Correlation is
 * per session and a session never spans two inputs, so each worker closes its sessions itself and
 * sends back final findings; the caller merges the parts in input order (same result as one
 * thread). Workers take the next input from a shared counter, never waiting for this thread.
 * Memory: one scanner per worker, each holding one chunk (or one long line) at a time.
 */

export interface WorkerInit {
  rules: RuleSet
  opts: ScannerOptions
  chunkBytes: number
}

/** What a worker is given: the inputs in the order to take them, and the shared counter. */
export interface WorkerData extends WorkerInit {
  inputs: Input[]
  /** Int32 [0]: the next index into `inputs` to take. */
  next: SharedArrayBuffer
}

export type WorkerReply = {id: number; part: ScanPart} | {id: number; error: string} | {done: true}

/** Below this many bytes in all, starting threads costs more than it saves. */
export const PARALLEL_MIN_BYTES = 16 << 20

/**
 * Worker threads worth starting for these inputs (sizes in bytes), besides this thread, which
 * scans too: 0 when one thread will do.
 */
export function workerCount(inputs: Input[], sizes: number[], requested?: number): number {
  if (requested !== undefined) return Math.max(0, Math.min(requested, inputs.length - 1))
  if (inputs.length < 2 || sizes.reduce((a, b) => a + b, 0) < PARALLEL_MIN_BYTES || !workerRunnable()) return 0
  const cores = os.availableParallelism()
  return cores < 2 ? 0 : Math.min(cores, 4, inputs.length) - 1
}

const WORKER_URL = new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)

const FROM_SOURCE = import.meta.url.endsWith('.ts')

/** From the build, always; from TypeScript source (tests, bin/dev.js) only when tsx is there to load the worker. */
function workerRunnable(): boolean {
  return !FROM_SOURCE || tsxApi() !== undefined
}

function tsxApi(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api')
  } catch {
    return undefined
  }
}

/**
 * The build runs worker.js itself; from source a small bootstrap registers tsx first (a bare `--import tsx` races the
 * worker's own entry on Node 20).
 */
function newWorker(data: WorkerData): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, {workerData: data})
  const boot = `import(${JSON.stringify(tsxApi())}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(boot, {eval: true, workerData: data})
}

/**
 * Scan `inputs` on `n` worker threads and on this one (`here`, while the workers start);
 * `onPart(index, part)` gets each input's part (any order). Inputs a worker could not finish (it
 * died) go to `fallback`, run on this thread.
 */
export async function scanOnWorkers(
  inputs: Input[],
  n: number,
  init: WorkerInit,
  sizes: number[],
  onPart: (index: number, part: ScanPart) => void,
  fallback: (index: number) => Promise<void>,
  here?: (index: number) => Promise<ScanPart>,
): Promise<void> {
  // biggest first: a large store started last would leave the other threads idle
  const order = inputs.map((_, i) => i).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0) || a - b)
  const next = new SharedArrayBuffer(4)
  const received = new Set<number>()
  const run = (): Promise<void> =>
    new Promise((resolve) => {
      const w = newWorker({...init, inputs: order.map((i) => inputs[i]!), next})
      w.on('message', (m: WorkerReply) => {
        if ('done' in m) void w.terminate()
        else if ('part' in m) {
          received.add(order[m.id]!)
          onPart(order[m.id]!, m.part)
        }
      })
      w.on('error', () => resolve())
      w.on('exit', () => resolve())
    })
  const workers = Array.from({length: n}, run)
  if (here) {
    const taken = new Int32Array(next)
    for (let id = Atomics.add(taken, 0, 1); id < order.length; id = Atomics.add(taken, 0, 1)) {
      const i = order[id]!
      try {
        onPart(i, await here(i))
        received.add(i)
      } catch {
        // left to fallback, as for a worker
      }
    }
  }
  await Promise.all(workers)
  // an input whose scan failed, or that a dying worker left unfinished or untaken, runs on this thread
  for (let i = 0; i < inputs.length; i++) if (!received.has(i)) await fallback(i)
}
