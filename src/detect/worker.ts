/** Worker-thread side of `scanOnWorkers` (parallel.ts): one scanner, whole inputs, a part per input. */
import {parentPort, workerData} from 'node:worker_threads'

import {errorMessage} from '../errors.js'
import type {WorkerInit, WorkerJob, WorkerReply} from './parallel.js'
import {scanInput} from './input.js'
import {StreamScanner} from './scanner.js'

const init = workerData as WorkerInit
// rejected rules are reported once, by the main thread
const scanner = new StreamScanner({...init.rules, rejected: []}, init.opts)

parentPort!.on('message', (job: WorkerJob) => {
  scanInput(scanner, job.input, init.chunkBytes).then(
    () => parentPort!.postMessage({id: job.id, part: scanner.drain()} satisfies WorkerReply),
    (err: unknown) => {
      scanner.drain()
      parentPort!.postMessage({id: job.id, error: errorMessage(err)} satisfies WorkerReply)
    })
})
