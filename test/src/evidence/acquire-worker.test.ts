import {mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {loadRules} from '../../../src/detect/rules.js'
import {type FileBatchOutcome, runAcquireWorker} from '../../../src/evidence/acquire-worker.js'
import type {Source} from '../../../src/evidence/discover.js'
import {Redactor} from '../../../src/evidence/redact.js'
import {KnownSecrets} from '../../../src/evidence/secret-values.js'
import {INJECTION, SECRETS, SESSION_A, tmp, transcript} from './helpers.js'

// The collection's second core: a worker thread takes batches of files off the queue and
// acquires them as the main thread does (copy, hash, scan, mask known secrets).

const root = tmp('ir-ev-worker-')
afterAll(() => rmSync(root, {recursive: true, force: true}))

describe('the acquire worker', () => {
  it('acquires a batch of files taken from the queue: staged, hashed, scanned, masked', async () => {
    // Given two transcript files, one with an injection and a secret value the collection knows
    const src = path.join(root, 'src')
    mkdirSync(src)
    const files: Source[] = ['a', 'b'].map((n, i) => {
      const p = path.join(src, `${n}.jsonl`)
      writeFileSync(p, i === 0 ? transcript(SESSION_A, {injection: true, secret: SECRETS.gatewayToken}) : '{}\n')
      const st = statSync(p)
      return {
        path: p,
        bundlePath: `evidence/src/${n}.jsonl`,
        kind: 'transcript',
        policy: 'copy',
        scan: 'jsonl',
        size: st.size,
        mtimeMs: st.mtimeMs,
      }
    })
    const known = new KnownSecrets()
    known.add([SECRETS.gatewayToken])
    const rules = await loadRules([])
    const env = {
      staging: path.join(root, 'staging'),
      work: path.join(root, 'work'),
      includeSecrets: false,
      known,
      redactor: new Redactor(rules.rules, known),
    }
    // When the worker is fed that batch (no stores before it)
    const batches: Array<{files: Source[]; o: FileBatchOutcome}> = []
    let fed = false
    const w = runAcquireWorker([], rules, env, () => undefined, {
      files: {
        take: () => (fed ? undefined : ((fed = true), files)),
        onDone: (f, o) => void batches.push({files: f, o}),
        giveBack: () => undefined,
      },
    })
    await w.done
    w.stop()
    // Then the batch came back with each file staged and hashed, the injection found, the secret masked
    expect(batches).toHaveLength(1)
    const {o} = batches[0]!
    expect(o.items.map((i) => i.records[0]!.outcome)).toEqual(['collected', 'collected'])
    expect(o.items[0]!.bytesRead).toBe(files[0]!.size)
    const staged = readFileSync(o.items[0]!.staged[0]!.stagedPath, 'utf8')
    expect(staged).toContain(INJECTION.slice(0, 30))
    expect(staged).not.toContain(SECRETS.gatewayToken)
    expect(o.findings.some((f) => f.category === 'prompt-injection' && f.source.file === files[0]!.bundlePath)).toBe(
      true,
    )
  }, 60_000)
})
