import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {Case} from '../case/case-store.js'
import {loadRules, type RuleSet} from '../detect/rules.js'
import {createScanner, type Scanner} from '../detect/scanner.js'
import type {Finding, ScanResult, SkippedItem} from '../detect/finding-types.js'
import type {JsonObject} from '../openclaw/config.js'
import type {GatewayProbeSeams} from '../openclaw/gateway.js'
import {type Install, openclawHome, realHost} from '../openclaw/locate.js'
import type {ProcessRunner} from '../system/process-runner.js'
import {acquireFile, type StagedFile, StagedWriter} from './acquire.js'
import {type FileBatchOutcome, runAcquireWorker} from './acquire-worker.js'
import {BundleAssembly} from './bundle-seal.js'
import type {SealedArchive} from './bundle-write.js'
import {caseRecord} from './case-record.js'
import {type Discovery, discoverSources, type Source} from './discover.js'
import {dedupeSkipped, writeFindingsFiles} from './findings-files.js'
import {readInstallConfig} from './install-config.js'
import {learnFromProcess, learnFromSources} from './learn-secrets.js'
import {AcquisitionIndex, fromStaged, identityOf, type IndexEntry, stagedIntact, toStaged} from './index-store.js'
import {ProgressMeter} from './collect-progress.js'
import {Redactor} from './redact.js'
import {KnownSecrets} from './secret-values.js'
import {abortError} from './source-io.js'
import {hashFile, relearnStore, snapshotStore, type StoreEnv, type StoreSnapshot} from './sqlite.js'
import {collectedEra, type StoreInfo, storeInfoOf} from './store-info.js'
import type {CollectOptions, CollectSummary, ItemRecord, Progress} from './collect-types.js'
import {preStopText, type VolatileFacts, volatileFacts} from './volatile.js'
import {volatileFiles} from './volatile-files.js'

/**
 * `ir collect`, one run: the state the playbook steps share (discover → volatile → acquire →
 * scan/report → bundle), and the order of the work; the pieces live beside it (install-config,
 * volatile-files, acquire, sqlite/stores, findings-files, case-record, bundle-seal). Work lives
 * in the case: `collect/index.jsonl` (what is already copied), `collect/staging/` (the bundle
 * layout, 0700), `collect/work/` (scratch: raw store copies, unredacted backups, the audit
 * mirror). The staging and work dirs are removed once the bundle is sealed and verified; until
 * then a rerun with the same --case picks up where this one stopped.
 */

export interface SessionInit {
  install: Install
  case: Case
  env: NodeJS.ProcessEnv
  runner: ProcessRunner
  now: () => Date
  options: CollectOptions
  seams?: {
    home?: string
    uid?: number
    tmpDir?: string
    gateway?: GatewayProbeSeams
    trimMinBytes?: number
    auditTimeoutMs?: number
    batchFiles?: number
    batchBytes?: number
    gzipLevel?: number
    /** Finish SQLite stores on this thread instead of a worker. */
    storesInThread?: boolean
    /** Called after each acquired source (tests: faults at a chosen point). */
    afterSource?: (src: Source) => void | Promise<void>
  }
}

interface Batch {
  scanner: Scanner
  items: BatchItem[]
  bytes: number
}

interface BatchItem {
  src: Source
  identity: string
  records: ItemRecord[]
  staged: StagedFile[]
}

/** What the worker takes off the file queue at a time (its scan covers the batch, as the main thread's does). */
const WORKER_BATCH_FILES = 32
const WORKER_BATCH_BYTES = 32 << 20

export class CollectSession {
  readonly dir: string
  readonly staging: string
  readonly work: string
  readonly index: AcquisitionIndex
  readonly startedAt: Date
  config?: JsonObject
  includes: string[] = []
  configError?: string
  discovery?: Discovery
  volatile?: VolatileFacts
  records: ItemRecord[] = []
  staged: StagedFile[] = []
  findings: Finding[] = []
  skipped: SkippedItem[] = []
  scanned = {files: 0, events: 0, bytes: 0}
  readonly known = new KnownSecrets()
  rules?: RuleSet
  redactor?: Redactor
  resumed = 0
  acquiredAt?: Date
  /** The archive is written while sources are still being copied (compression overlaps the scan). */
  private readonly assembly: BundleAssembly
  storeInfo: StoreInfo[] = []
  /** Source bytes read in this run (resumed sources are not read). */
  bytesRead = 0
  private readonly meter: ProgressMeter

  constructor(readonly init: SessionInit) {
    this.dir = path.join(init.case.dir, 'collect')
    this.staging = path.join(this.dir, 'staging')
    this.work = path.join(this.dir, 'work')
    for (const d of [this.dir, this.staging, this.work]) mkdirSync(d, {recursive: true, mode: 0o700})
    this.index = new AcquisitionIndex(path.join(this.dir, 'index.jsonl'))
    this.startedAt = init.now()
    this.meter = new ProgressMeter(init.options.onProgress)
    this.assembly = new BundleAssembly({
      caseId: init.case.id,
      outDir: init.options.out ?? init.case.dir,
      startedAt: this.startedAt,
      format: init.options.format,
      recipients: init.options.encryptTo,
      level: init.seams?.gzipLevel,
      onBytes: (processed) => {
        if (this.meter.phaseName === 'bundle') this.meter.emit({bytesDone: processed})
      },
    })
  }

  get sealed(): SealedArchive | undefined {
    return this.assembly.sealed
  }

  get options(): CollectOptions {
    return this.init.options
  }

  private get home(): string {
    return this.init.seams?.home ?? openclawHome({...realHost(), env: this.init.env})
  }

  /** Step 1: the config (merged, for paths) and every source. Read-only. */
  discover(): Discovery {
    if (this.discovery) return this.discovery
    this.phase('discover', 0, 0)
    const {install} = this.init
    const read = readInstallConfig(install, this.init.env)
    this.config = read.config
    this.includes = read.includes
    this.configError = read.error
    this.discovery = discoverSources({
      stateDir: install.stateDir,
      configPath: install.configPath,
      config: this.config,
      includes: this.includes,
      env: this.init.env,
      home: this.home,
      uid: this.init.seams?.uid,
      tmpDir: this.init.seams?.tmpDir,
      profile: install.profile,
      since: this.options.since,
      includeSecrets: this.options.includeSecrets,
      trimMinBytes: this.init.seams?.trimMinBytes,
    })
    learnFromSources(this.discovery.sources, this.known)
    return this.discovery
  }

  async loadRules(): Promise<RuleSet> {
    this.rules ??= await loadRules(this.options.rules)
    this.redactor ??= new Redactor(this.rules.rules, this.known)
    return this.rules
  }

  /** Step 2: volatile facts, before anything is copied. */
  async captureVolatile(): Promise<VolatileFacts> {
    if (this.volatile) return this.volatile
    this.discover()
    await this.loadRules()
    this.phase('volatile', 0, 0)
    const scratch = path.join(this.work, 'audit-mirror')
    rmSync(scratch, {recursive: true, force: true})
    try {
      this.volatile = await volatileFacts({
        stateDir: this.discovery!.stateDir,
        configPath: this.init.install.configPath,
        config: this.config,
        configError: this.configError,
        env: this.init.env,
        home: this.home,
        profile: this.init.install.profile,
        runner: this.init.runner,
        scratch,
        now: this.init.now,
        seams: this.init.seams?.gateway,
        auditTimeoutMs: this.init.seams?.auditTimeoutMs,
        redact: (s) => this.redactor!.redactText(s).text,
        onGateway: (gw) => learnFromProcess(gw.pid, this.known),
      })
    } finally {
      rmSync(scratch, {recursive: true, force: true})
    }
    const v = this.volatile
    // what `ir respond` recorded before its contain phase stopped the gateway goes in byte for byte
    for (const f of volatileFiles(v, preStopText(this.init.case.dir))) {
      const staged = await this.writeGenerated(f.bundlePath, f.text)
      this.records.push({...f.record, sha256: staged.sha256, size: staged.size})
    }
    return v
  }

  /** Step 3: copy + hash + scan + redact every source; resume from the index. */
  async acquire(): Promise<void> {
    try {
      await this.acquireAll()
    } catch (err) {
      this.assembly.discard()
      throw err
    }
  }

  private async acquireAll(): Promise<void> {
    const d = this.discover()
    await this.loadRules()
    this.records.push(...d.records)
    const prior = this.index.load()
    const env: StoreEnv = {
      staging: this.staging,
      work: this.work,
      includeSecrets: this.options.includeSecrets,
      known: this.known,
      redactor: this.redactor!,
      signal: this.options.signal,
      onBytes: (n) => this.bytes(n),
      since: this.options.since,
    }
    const small = d.sources.filter((s) => s.policy === 'metadata' || s.policy.startsWith('masked'))
    const stores_ = d.sources.filter((s) => s.policy === 'sqlite')
    this.phase('acquire', d.sources.length, d.bytes)

    // A: secret stores and configs first (small): their values mask everything after. Always
    // re-read on resume: secret values are never written to disk, so they must be learned again.
    for (const src of small) {
      this.current(src)
      const r = await acquireFile(src, env)
      this.records.push(...r.records)
      this.staged.push(...r.staged)
      await this.done(src)
    }
    const phaseAStaged = this.staged.length
    // everything staged from here on is final: it goes into the archive at once
    this.assembly.open()

    // B: SQLite stores: raw set + consistent backup of every store (learning their secrets), then scan/export/redact
    const snaps: Array<{snap?: StoreSnapshot; src: Source; identity: string; reused?: IndexEntry}> = []
    for (const src of stores_) {
      const identity = identityOf([src.path, ...(src.sidecars ?? []).map((s) => s.path)])
      const e = prior.get(src.path)
      const backup = path.join(this.work, 'backup', `derived/sqlite/${src.bundlePath.replace(/^evidence\//, '')}`)
      if (e && this.reusable(e, identity) && (this.options.includeSecrets || relearnStore(backup, this.known))) {
        snaps.push({src, identity, reused: e})
        continue
      }
      this.current(src)
      snaps.push({src, identity, snap: await snapshotStore(src, env)})
    }
    for (const s of snaps) {
      if (!s.reused) continue
      this.reuse(s.reused)
      await this.done(s.src, true)
    }
    // C: everything else; resumed files first, the rest is a queue this thread takes from the head
    const queue: Source[] = []
    for (const src of d.sources.filter((x) => !small.includes(x) && !stores_.includes(x))) {
      const e = prior.get(src.path)
      if (e && this.reusable(e, identityOf([src.path]))) {
        this.reuse(e)
        await this.done(src, true)
      } else queue.push(src)
    }
    // the stores' scan, export and redaction run on a worker thread while this one copies the files;
    // then the worker takes batches of files from the queue's tail
    const pending = snaps.filter((s) => s.snap)
    let storeError: unknown
    const givenBack: Source[] = []
    const taken = new Map<Source, string>()
    const stores = runAcquireWorker(
      pending.map((s) => s.snap!),
      this.rules!,
      env,
      async (snap, o) => {
        const s = pending.find((p) => p.snap === snap)!
        this.take(o.records, o.staged, o.findings, o.skipped, o.scanned)
        this.assembly.add(o.staged)
        const unchanged = identityOf([s.src.path, ...(s.src.sidecars ?? []).map((x) => x.path)]) === s.identity
        if (unchanged && o.records.every((x) => x.outcome !== 'failed' && !x.changedDuringCopy)) {
          this.index.append([this.entry(s.src, s.identity, o.records, o.staged, o.findings, o.skipped, o.scanned)])
        }
        await this.done(s.src)
      },
      {
        inThread: this.init.seams?.storesInThread,
        files:
          pending.length || queue.reduce((n, x) => n + x.size, 0) >= WORKER_BATCH_BYTES
            ? {
                take: () => {
                  const files = takeTail(queue)
                  for (const f of files ?? []) taken.set(f, identityOf([f.path]))
                  return files
                },
                onDone: (files, o) => this.commitWorkerBatch(files, o, taken),
                giveBack: (files) => givenBack.push(...files),
              }
            : undefined,
      },
    )
    stores.done.catch((err: unknown) => {
      storeError = err
    })
    try {
      await this.acquireFiles(queue, env, () => storeError)
      await stores.done
      // a batch the worker could not finish (it died) is done here
      if (givenBack.length) await this.acquireFiles(givenBack, env, () => undefined)
    } finally {
      stores.stop()
    }
    this.skipped.push(...this.rules!.rejected)
    // values learned from stores after the first files were staged: check those files again
    if (!this.options.includeSecrets) await this.recheck(this.staged.slice(0, phaseAStaged))
    this.acquiredAt = this.init.now()
  }

  /** C: files from the head of the queue, scanned in batches (a batch commits its findings with its files). */
  private async acquireFiles(queue: Source[], env: StoreEnv, storeError: () => unknown): Promise<void> {
    let batch: Batch = {scanner: createScanner(this.rules!), items: [], bytes: 0}
    const flush = () => {
      if (batch.items.length) this.commitBatch(batch.items, batch.scanner.finish())
      batch = {scanner: createScanner(this.rules!), items: [], bytes: 0}
    }
    const maxFiles = this.init.seams?.batchFiles ?? 256
    const maxBytes = this.init.seams?.batchBytes ?? 256 << 20
    for (let src = queue.shift(); src; src = queue.shift()) {
      if (this.options.signal?.aborted) throw abortError()
      if (storeError()) throw storeError()
      const identity = identityOf([src.path])
      this.current(src)
      const r = await acquireFile(src, env, batch.scanner)
      batch.items.push({src, identity, records: r.records, staged: r.staged})
      batch.bytes += src.size
      if (batch.items.length >= maxFiles || batch.bytes >= maxBytes) flush()
      await this.done(src)
    }
    flush()
  }

  /** A batch the worker acquired: committed as this thread's own batches are. */
  private async commitWorkerBatch(files: Source[], o: FileBatchOutcome, taken: Map<Source, string>): Promise<void> {
    const items = files.map((src, i) => ({
      src,
      identity: taken.get(src) ?? '',
      records: o.items[i]!.records,
      staged: o.items[i]!.staged,
    }))
    this.commitBatch(items, {findings: o.findings, scanned: {...o.scanned, skipped: o.skipped}})
    for (const [i, src] of files.entries()) {
      taken.delete(src)
      this.bytes(o.items[i]!.bytesRead)
      await this.done(src)
    }
  }

  /** A scanned batch: findings and skips to the file they came from, files into the archive, the index appended. */
  private commitBatch(items: BatchItem[], res: ScanResult): void {
    const owner = new Map<string, number>()
    items.forEach((it, i) => {
      for (const s of it.staged) owner.set(s.bundlePath, i)
      owner.set(it.src.path, i)
    })
    const perItem = items.map(() => ({findings: [] as Finding[], skipped: [] as SkippedItem[]}))
    for (const f of res.findings) perItem[owner.get(f.source.file) ?? 0]!.findings.push(f)
    for (const k of res.scanned.skipped) perItem[owner.get(k.path) ?? 0]!.skipped.push(k)
    const entries: IndexEntry[] = []
    items.forEach((it, i) => {
      const p = perItem[i]!
      this.take(it.records, it.staged, p.findings, p.skipped)
      this.assembly.add(it.staged)
      if (
        identityOf([it.src.path]) === it.identity &&
        it.records.every((r) => r.outcome !== 'failed' && !r.changedDuringCopy)
      ) {
        entries.push(
          this.entry(
            it.src,
            it.identity,
            it.records,
            it.staged,
            p.findings,
            p.skipped,
            i === 0 ? res.scanned : undefined,
          ),
        )
      }
    })
    this.scanned.files += res.scanned.files
    this.scanned.events += res.scanned.events
    this.scanned.bytes += res.scanned.bytes
    this.index.append(entries)
  }

  /** Step 4: findings.jsonl, report.md and report.html (through the redactor: no known secret in clear). */
  async writeFindings(): Promise<void> {
    try {
      this.phase('scan', 0, 0)
      const out = await writeFindingsFiles({
        report: {
          caseId: this.init.case.id,
          host: os.hostname(),
          startedAt: this.startedAt,
          endedAt: this.init.now(),
          stateDir: this.discovery!.stateDir,
          configPath: this.init.install.configPath,
          era: this.era(),
          versions: {...this.volatile?.versions, stateDb: this.storeInfo.find((s) => s.appVersion)?.appVersion},
          gateway: this.volatile?.gateway,
          exposure: this.volatile?.exposure ?? [],
          audit: this.volatile?.audit,
          records: this.records,
          includeSecrets: this.options.includeSecrets,
          since: this.options.since,
          notScanned: dedupeSkipped(this.skipped),
        },
        findings: this.findings,
        auditFiles: this.staged.filter((x) => x.bundlePath.startsWith('derived/audit/')).map((x) => x.stagedPath),
        config: this.config,
        redact: this.options.includeSecrets ? undefined : (text) => this.redactor!.redactText(text).text,
        writeGenerated: (name, text) => this.writeGenerated(name, text),
      })
      this.findings = out.findings
      this.records.push(...out.records)
    } catch (err) {
      this.assembly.discard()
      throw err
    }
  }

  /**
   * Step 5: the rest of the files, case.json, the journal, the manifest; seal (temp name → rename) with its .sha256.
   */
  async bundle(): Promise<CollectSummary> {
    try {
      const writer = this.assembly.open()
      const endedAt = this.init.now()
      this.init.case.journal.append({
        playbook: 'collect',
        step: 'bundle',
        action: 'collect-bundle',
        status: 'sealing',
        detail: `${this.staged.length} file(s) into ${path.basename(writer.final)}`,
      })
      const journal = readFileSync(this.init.case.journal.file)
      const caseJson = Buffer.from(JSON.stringify(this.caseJson(writer.root, endedAt), null, 2) + '\n')
      this.phase(
        'bundle',
        this.staged.length,
        this.staged.reduce((n, s) => n + s.size, 0),
      )
      await this.assembly.seal({
        staged: this.staged,
        generated: [
          {name: 'case.json', data: caseJson},
          {name: 'journal.jsonl', data: journal},
        ],
        endedAt,
        signal: this.options.signal,
      })
      return this.summary()
    } catch (err) {
      this.assembly.discard()
      throw err
    }
  }

  /** The sealed bundle read back (see BundleAssembly.verify). */
  verifySealed(): Promise<{ok: boolean; detail: string; checked: number}> {
    return this.assembly.verify()
  }

  /** After a verified bundle: staging and scratch go, the index is kept as a record of the run. */
  cleanup(): void {
    rmSync(this.staging, {recursive: true, force: true})
    rmSync(this.work, {recursive: true, force: true})
    if (existsSync(this.index.file))
      renameSync(this.index.file, path.join(this.dir, `index.sealed-${Date.now()}.jsonl`))
  }

  summary(): CollectSummary {
    const notCollected = this.records
      .filter((r) => r.outcome !== 'collected')
      .map((r) => ({
        path: r.path,
        reason: r.outcome === 'skipped' ? (r.reason ?? 'skipped') : `${r.outcome}: ${r.error ?? r.reason ?? ''}`.trim(),
      }))
    return {
      case: this.init.case.id,
      bundle: this.sealed?.path ?? '',
      bundleSha256: this.sealed?.sha256 ?? '',
      manifestSha256: this.assembly.manifestSha256,
      encrypted: Boolean(this.options.encryptTo?.length),
      files: this.staged.length + 3,
      findings: this.findings,
      skipped: notCollected,
    }
  }

  era(): string {
    return collectedEra(this.storeInfo, this.discovery?.sources ?? [])
  }

  private caseJson(root: string, endedAt: Date): Record<string, unknown> {
    return caseRecord({
      caseId: this.init.case.id,
      root,
      startedAt: this.startedAt,
      acquiredAt: this.acquiredAt,
      endedAt,
      options: this.options,
      install: this.init.install,
      stateDir: this.discovery?.stateDir,
      configError: this.configError,
      era: this.era(),
      stores: this.storeInfo,
      volatile: this.volatile,
      scanned: this.scanned,
      rules: this.rules && {count: this.rules.rules.length, files: this.rules.files},
      notScanned: dedupeSkipped(this.skipped),
      records: this.records,
      resumed: this.resumed,
      bytesRead: this.bytesRead,
      findings: this.findings,
      knownSecretValues: this.known.size,
    })
  }

  // --- helpers --------------------------------------------------------------------------------

  private reusable(e: IndexEntry, identity: string): boolean {
    return e.identity === identity && e.includeSecrets === this.options.includeSecrets && stagedIntact(e)
  }

  private reuse(e: IndexEntry): void {
    this.resumed++
    const staged = e.staged.map(toStaged)
    this.take(
      e.records.map((r) => ({...r, resumed: true})),
      staged,
      e.findings,
      e.skipped,
      e.scanned,
    )
    this.assembly.add(staged)
  }

  private take(
    records: ItemRecord[],
    staged: StagedFile[],
    findings: Finding[],
    skipped: SkippedItem[],
    scanned?: {files: number; events: number; bytes: number},
  ): void {
    this.records.push(...records)
    this.staged.push(...staged)
    this.findings.push(...findings)
    this.skipped.push(...skipped)
    if (scanned) {
      this.scanned.files += scanned.files
      this.scanned.events += scanned.events
      this.scanned.bytes += scanned.bytes
    }
    for (const s of staged) {
      const info = s.bundlePath.startsWith('derived/sqlite/') ? storeInfoOf(s) : undefined
      if (info) this.storeInfo.push(info)
    }
  }

  private entry(
    src: Source,
    identity: string,
    records: ItemRecord[],
    staged: StagedFile[],
    findings: Finding[],
    skipped: SkippedItem[],
    scanned?: IndexEntry['scanned'],
  ): IndexEntry {
    return {
      v: 1,
      key: src.path,
      identity,
      includeSecrets: this.options.includeSecrets,
      records,
      staged: staged.map(fromStaged),
      // the index sits in the case dir: a finding's excerpt is masked there as in findings.jsonl
      findings: this.options.includeSecrets
        ? findings
        : findings.map((f) => JSON.parse(this.redactor!.redactText(JSON.stringify(f)).text) as Finding),
      skipped,
      scanned,
    }
  }

  /** Files staged before the last secret values were learned: mask those values there too. */
  private async recheck(files: StagedFile[]): Promise<void> {
    const values = this.known.list()
    if (values.length === 0) return
    for (const s of files) {
      const text = readFileSync(s.stagedPath, 'utf8')
      if (!values.some((v) => text.includes(v))) continue
      const r = this.redactor!.redactText(text)
      writeFileSync(s.stagedPath, r.text, {mode: 0o600})
      const {sha256: h, size} = await hashFile(s.stagedPath)
      s.sha256 = h
      s.size = size
      const rec = this.records.find((x) => x.bundlePath === s.bundlePath)
      if (rec)
        Object.assign(rec, {
          bundleSha256: h,
          bundleSize: size,
          redactions: (rec.redactions ?? 0) + r.count,
          method: rec.method === 'copy' ? 'redacted-copy' : rec.method,
        })
    }
  }

  private async writeGenerated(bundlePath: string, text: string): Promise<StagedFile> {
    const w = new StagedWriter(this.staging, bundlePath)
    await w.open()
    await w.write(Buffer.from(text, 'utf8'))
    await w.close()
    const s = w.staged({mtime: this.init.now().toISOString(), mode: '0600'})
    this.staged = this.staged.filter((x) => x.bundlePath !== bundlePath)
    this.staged.push(s)
    return s
  }

  private phase(phase: Progress['phase'], filesTotal: number, bytesTotal: number): void {
    this.meter.phase(phase, filesTotal, bytesTotal)
  }

  private bytes(n: number): void {
    this.bytesRead += n
    this.meter.bytes(n)
  }

  private current(src: Source): void {
    this.meter.current(src)
  }

  private async done(src: Source, reused = false): Promise<void> {
    this.meter.fileDone(src, reused)
    await this.init.seams?.afterSource?.(src)
    if (this.options.signal?.aborted) throw abortError()
  }
}

/** Up to a worker batch of files off the queue's tail (at least one), or undefined when it is empty. */
function takeTail(queue: Source[]): Source[] | undefined {
  if (queue.length === 0) return undefined
  let n = 0
  let bytes = 0
  while (
    n < queue.length &&
    n < WORKER_BATCH_FILES &&
    (n === 0 || bytes + queue[queue.length - 1 - n]!.size <= WORKER_BATCH_BYTES)
  ) {
    bytes += queue[queue.length - 1 - n]!.size
    n++
  }
  return queue.splice(queue.length - n, n)
}
