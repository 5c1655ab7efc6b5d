/** Worker-thread side of `scanOnWorkers` (parallel.ts): one scanner, whole inputs, a part per input. */
import {parentPort, workerData} from 'node:worker_threads'

import {errorMessage} from '../errors.js'
import type {WorkerData, WorkerReply} from './parallel.js'
import {scanInput} from './input.js'
import {StreamScanner} from './scanner.js'

const data = workerData as WorkerData
const next = new Int32Array(data.next)
// rejected rules are reported once, by the main thread
const scanner = new StreamScanner({...data.rules, rejected: []}, data.opts)
const post = (m: WorkerReply) => parentPort!.postMessage(m)

for (let id = Atomics.add(next, 0, 1); id < data.inputs.length; id = Atomics.add(next, 0, 1)) {
  try {
    await scanInput(scanner, data.inputs[id]!, data.chunkBytes)
    post({id, part: scanner.drain()})
  } catch (err) {
    scanner.drain()
    post({id, error: errorMessage(err)})
  }
}
post({done: true})
