import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Database from 'better-sqlite3'

import type {Case} from '../case/case-store.js'
import {TOOL_VERSION, verifyChain} from '../case/journal.js'
import {loadRules, type RuleSet} from '../detect/rules.js'
import {createScanner, type Scanner, sortFindings} from '../detect/scanner.js'
import type {Finding, SkippedItem} from '../detect/finding-types.js'
import {errorMessage} from '../errors.js'
import {isObject, type JsonObject, loadConfig, parseJson5} from '../openclaw/config.js'
import {eraOf} from '../openclaw/era.js'
import type {GatewayProbeSeams} from '../openclaw/gateway.js'
import {type Install, openclawHome, realHost} from '../openclaw/locate.js'
import {readSchemaMeta} from '../openclaw/stores/sqlite-schema.js'
import type {ProcessRunner} from '../system/process-runner.js'
import {acquireFile, type StagedFile, StagedWriter} from './acquire.js'
import {BundleWriter, type SealedArchive} from './bundle-write.js'
import {type Discovery, discoverSources, type Source} from './discover.js'
import {learnFromProcess, learnFromSources} from './learn-secrets.js'
import {AcquisitionIndex, fromStaged, identityOf, type IndexEntry, stagedIntact, toStaged} from './index-store.js'
import {MANIFEST, manifestText} from './manifest.js'
import {bundleName} from './bundle-paths.js'
import {ProgressMeter} from './collect-progress.js'
import {Redactor} from './redact.js'
import {buildIncident, readAuditExports, rotationScopes} from './incident.js'
import {renderHtml} from './report-html.js'
import {renderMarkdown} from './report-markdown.js'
import {KnownSecrets} from './secret-values.js'
import {abortError, readNoAtime} from './source-io.js'
import {hashFile, relearnStore, snapshotStore, type StoreEnv, type StoreSnapshot} from './sqlite.js'
import {finishStores} from './stores.js'
import {
  BUNDLE_SCHEMA,
  type CollectOptions,
  type CollectSummary,
  type ItemRecord,
  type Progress,
} from './collect-types.js'
import {PRE_STOP_BUNDLE_PATH, preStopText, type VolatileFacts, volatileFacts} from './volatile.js'

/**
 * `ir collect`, one run: the state the playbook steps share (discover → volatile → acquire →
 * scan/report → bundle). Work lives in the case: `collect/index.jsonl` (what is already copied),
 * `collect/staging/` (the bundle layout, 0700), `collect/work/` (scratch: raw store copies,
 * unredacted backups, the audit mirror). The staging and work dirs are removed once the bundle is
 * sealed and verified; until then a rerun with the same --case picks up where this one stopped.
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
  items: Array<{src: Source; identity: string; records: ItemRecord[]; staged: StagedFile[]}>
  bytes: number
}

/** The consistent backup of a per-agent store (a doctor's .bak copy is not one). */
const AGENT_STORE_BACKUP = /openclaw-agent\.sqlite$/

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
  sealed?: SealedArchive
  /** The archive is written while sources are still being copied (compression overlaps the scan). */
  private writer?: BundleWriter
  private readonly archived = new Set<string>()
  private bundledJournal?: Buffer
  private manifestSha256?: string
  storeInfo: Array<{
    path: string
    agentId?: string
    userVersion?: number
    schemaVersion?: number
    appVersion?: string
    role?: string
  }> = []
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
    if (install.configExists) {
      try {
        // read without moving the atime; a config with $include goes through the full loader
        const text = readNoAtime(install.configPath).toString('utf8')
        const value = text.includes('$include') ? undefined : parseJson5(text, install.configPath)
        if (value !== undefined && isObject(value)) this.config = value
        else {
          const loaded = loadConfig(install.configPath, {env: this.init.env})
          this.config = loaded.value
          this.includes = [...new Set(loaded.includes.map((i) => i.file))]
        }
      } catch (err) {
        this.configError = errorMessage(err)
      }
    }
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
    const files: Array<[string, unknown]> = [
      ['evidence/volatile/host.json', v.host],
      ['evidence/volatile/gateway.json', v.gateway],
      ['evidence/volatile/exposure.json', {exposure: v.exposure, versions: v.versions}],
      [
        'evidence/volatile/openclaw-security-audit.json',
        v.audit.json ?? {
          ran: v.audit.ran,
          reason: v.audit.reason,
          exitCode: v.audit.exitCode,
          timedOut: v.audit.timedOut,
          output: v.audit.stderrTail,
        },
      ],
    ]
    // What `ir respond` recorded before its contain phase stopped the gateway, byte for byte (its journal hash).
    const before = preStopText(this.init.case.dir)
    if (before !== undefined) files.push([PRE_STOP_BUNDLE_PATH, before])
    for (const [name, value] of files) {
      const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n'
      const staged = await this.writeGenerated(name, text)
      const audit = name.endsWith('audit.json')
      this.records.push({
        path: audit ? 'openclaw security audit --deep --json (scratch mirror)' : name.replace(/^.*\//, 'volatile: '),
        kind: 'volatile',
        outcome: audit && !v.audit.ran ? 'skipped' : 'collected',
        reason: audit && !v.audit.ran ? v.audit.reason : undefined,
        bundlePath: name,
        method: 'command',
        sha256: staged.sha256,
        size: staged.size,
      })
    }
    return v
  }

  /** Step 3: copy + hash + scan + redact every source; resume from the index. */
  async acquire(): Promise<void> {
    try {
      await this.acquireAll()
    } catch (err) {
      this.discardArchive()
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
    this.openArchive()

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
    // the stores' scan, export and redaction run on a worker thread while this one copies the files
    const pending = snaps.filter((s) => s.snap)
    let storeError: unknown
    const stores = finishStores(
      pending.map((s) => s.snap!),
      this.rules!,
      env,
      async (snap, o) => {
        const s = pending.find((p) => p.snap === snap)!
        this.take(o.records, o.staged, o.findings, o.skipped, o.scanned)
        this.toArchive(o.staged)
        const unchanged = identityOf([s.src.path, ...(s.src.sidecars ?? []).map((x) => x.path)]) === s.identity
        if (unchanged && o.records.every((x) => x.outcome !== 'failed' && !x.changedDuringCopy)) {
          this.index.append([this.entry(s.src, s.identity, o.records, o.staged, o.findings, o.skipped, o.scanned)])
        }
        await this.done(s.src)
      },
      {inThread: this.init.seams?.storesInThread},
    )
    stores.done.catch((err: unknown) => {
      storeError = err
    })
    try {
      await this.acquireFiles(
        d.sources.filter((x) => !small.includes(x) && !stores_.includes(x)),
        env,
        prior,
        () => storeError,
      )
      await stores.done
    } finally {
      stores.stop()
    }
    this.skipped.push(...this.rules!.rejected)
    // values learned from stores after the first files were staged: check those files again
    if (!this.options.includeSecrets) await this.recheck(this.staged.slice(0, phaseAStaged))
    this.acquiredAt = this.init.now()
  }

  /** C: everything else, scanned in batches (a batch's findings are committed with its files). */
  private async acquireFiles(
    rest: Source[],
    env: StoreEnv,
    prior: Map<string, IndexEntry>,
    storeError: () => unknown,
  ): Promise<void> {
    let batch: Batch = {scanner: createScanner(this.rules!), items: [], bytes: 0}
    const flush = () => {
      if (batch.items.length === 0) return
      const res = batch.scanner.finish()
      const owner = new Map<string, number>()
      batch.items.forEach((it, i) => {
        for (const s of it.staged) owner.set(s.bundlePath, i)
        owner.set(it.src.path, i)
      })
      const perItem = batch.items.map(() => ({findings: [] as Finding[], skipped: [] as SkippedItem[]}))
      for (const f of res.findings) perItem[owner.get(f.source.file) ?? 0]!.findings.push(f)
      for (const k of res.scanned.skipped) perItem[owner.get(k.path) ?? 0]!.skipped.push(k)
      const entries: IndexEntry[] = []
      batch.items.forEach((it, i) => {
        const p = perItem[i]!
        this.take(it.records, it.staged, p.findings, p.skipped)
        this.toArchive(it.staged)
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
      batch = {scanner: createScanner(this.rules!), items: [], bytes: 0}
    }
    const maxFiles = this.init.seams?.batchFiles ?? 256
    const maxBytes = this.init.seams?.batchBytes ?? 256 << 20
    for (const src of rest) {
      if (this.options.signal?.aborted) throw abortError()
      if (storeError()) throw storeError()
      const identity = identityOf([src.path])
      const e = prior.get(src.path)
      if (e && this.reusable(e, identity)) {
        this.reuse(e)
        await this.done(src, true)
        continue
      }
      this.current(src)
      const r = await acquireFile(src, env, batch.scanner)
      batch.items.push({src, identity, records: r.records, staged: r.staged})
      batch.bytes += src.size
      if (batch.items.length >= maxFiles || batch.bytes >= maxBytes) flush()
      await this.done(src)
    }
    flush()
  }

  /** Step 4: findings.jsonl and report.md (through the redactor: no known secret in clear). */
  async writeFindings(): Promise<void> {
    try {
      await this.writeFindingsFiles()
    } catch (err) {
      this.discardArchive()
      throw err
    }
  }

  private async writeFindingsFiles(): Promise<void> {
    const seen = new Set<string>()
    const unique: Finding[] = []
    for (const f of sortFindings(this.findings)) {
      if (seen.has(f.fingerprint)) continue
      seen.add(f.fingerprint)
      unique.push(
        this.options.includeSecrets ? f : (JSON.parse(this.redactor!.redactText(JSON.stringify(f)).text) as Finding),
      )
    }
    this.findings = unique
    this.phase('scan', unique.length, 0)
    const jsonl = unique.map((f) => JSON.stringify(f)).join('\n') + (unique.length ? '\n' : '')
    const a = await this.writeGenerated('findings/findings.jsonl', jsonl)
    this.records.push({
      path: 'findings',
      kind: 'report',
      outcome: 'collected',
      method: 'generated',
      bundlePath: 'findings/findings.jsonl',
      sha256: a.sha256,
      size: a.size,
    })
    const incident = buildIncident(
      {
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
        findings: unique,
        records: this.records,
        includeSecrets: this.options.includeSecrets,
        since: this.options.since,
        notScanned: dedupe(this.skipped),
      },
      await readAuditExports(
        this.staged.filter((x) => x.bundlePath.startsWith('derived/audit/')).map((x) => x.stagedPath),
      ),
      rotationScopes(this.config),
    )
    // one Incident, two renderings; both through the redactor (no known value in clear)
    for (const [name, text] of [
      ['findings/report.md', renderMarkdown(incident)],
      ['findings/report.html', renderHtml(incident)],
    ] as const) {
      const b = await this.writeGenerated(
        name,
        this.options.includeSecrets ? text : this.redactor!.redactText(text).text,
      )
      this.records.push({
        path: name.endsWith('.html') ? 'report (HTML)' : 'report',
        kind: 'report',
        outcome: 'collected',
        method: 'generated',
        bundlePath: name,
        sha256: b.sha256,
        size: b.size,
      })
    }
  }

  /**
   * Step 5: the rest of the files, case.json, the journal, the manifest; seal (temp name → rename) with its .sha256.
   */
  async bundle(): Promise<CollectSummary> {
    try {
      this.openArchive()
      const writer = this.writer!
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
      const generated: Array<{name: string; data: Buffer}> = [
        {name: 'case.json', data: caseJson},
        {name: 'journal.jsonl', data: journal},
      ]
      const manifest = Buffer.from(
        manifestText([
          ...this.staged.map((s) => ({bundlePath: s.bundlePath, sha256: s.sha256})),
          ...generated.map((g) => ({bundlePath: g.name, sha256: sha256(g.data)})),
        ]),
      )
      const total = this.staged.reduce((n, s) => n + s.size, 0)
      this.phase('bundle', this.staged.length, total)
      const onAbort = () => this.discardArchive()
      this.options.signal?.addEventListener('abort', onAbort, {once: true})
      try {
        this.toArchive(this.staged)
        for (const g of [...generated, {name: MANIFEST, data: manifest}])
          writer.add({
            name: g.name,
            data: g.data,
            mtime: endedAt,
            mode: 0o600,
            sha256: g.name === MANIFEST ? undefined : sha256(g.data),
          })
        this.bundledJournal = journal
        this.manifestSha256 = sha256(manifest)
        this.sealed = await writer.seal()
      } finally {
        this.options.signal?.removeEventListener('abort', onAbort)
      }
      this.writer = undefined
      if (this.options.signal?.aborted) throw abortError()
      return this.summary()
    } catch (err) {
      this.discardArchive()
      throw err
    }
  }

  /**
   * Proof that the sealed bundle is what the manifest says, without another decompression pass:
   * every file was hashed again as it went into the archive, the archive file on disk is re-read
   * and matches its .sha256, and the bundled journal's hash chain is intact. (`ir verify` re-reads
   * the whole archive independently.)
   */
  async verifySealed(): Promise<{ok: boolean; detail: string; checked: number}> {
    const s = this.sealed
    if (!s) return {ok: false, detail: 'no bundle was written', checked: 0}
    const problems: string[] = []
    if (s.mismatches.length)
      problems.push(
        `${s.mismatches.length} file(s) changed between hashing and archiving: ${s.mismatches.slice(0, 3).join(', ')}`,
      )
    const onDisk = await hashFile(s.path)
    if (onDisk.sha256 !== s.sha256) problems.push('the archive on disk differs from the bytes written')
    const sibling = readFileSync(s.sibling, 'utf8')
    if (!sibling.startsWith(`${s.sha256}  `))
      problems.push(`${path.basename(s.sibling)} does not hold the archive hash`)
    const chain = verifyChain(this.bundledJournal?.toString('utf8') ?? '')
    if (chain.length) problems.push(`journal: ${chain.map((c) => `line ${c.line}: ${c.problem}`).join('; ')}`)
    return problems.length
      ? {ok: false, detail: problems.join('; '), checked: s.entries}
      : {
          ok: true,
          detail: `${s.entries} file(s) hashed again as archived and equal to the manifest; the archive re-read matches its .sha256; journal chain intact`,
          checked: s.entries,
        }
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
      manifestSha256: this.manifestSha256,
      encrypted: Boolean(this.options.encryptTo?.length),
      files: this.staged.length + 3,
      findings: this.findings,
      skipped: notCollected,
    }
  }

  era(): string {
    const sources = this.discovery?.sources ?? []
    return eraOf({
      agentStores: this.storeInfo.filter((s) => s.role !== 'global' && AGENT_STORE_BACKUP.test(s.path)),
      fileEraData: sources.some(
        (s) => s.kind === 'transcript' || s.rel?.startsWith('agents/') || s.rel?.startsWith('credentials/'),
      ),
      anyStore: sources.length > 0,
    })
  }

  private caseJson(root: string, endedAt: Date): Record<string, unknown> {
    const count = (o: string) => this.records.filter((r) => r.outcome === o).length
    const v = this.volatile
    return {
      schema: BUNDLE_SCHEMA,
      case: this.init.case.id,
      bundle: root,
      tool: TOOL_VERSION,
      operator: {user: v?.host.user.name ?? os.userInfo().username, uid: v?.host.user.uid, host: os.hostname()},
      startedAt: this.startedAt.toISOString(),
      acquiredAt: this.acquiredAt?.toISOString(),
      endedAt: endedAt.toISOString(),
      options: {
        since: this.options.since?.toISOString(),
        format: this.options.format,
        includeSecrets: this.options.includeSecrets,
        rules: this.options.rules,
      },
      host: v?.host,
      install: {
        stateDir: this.discovery?.stateDir,
        configPath: this.init.install.configPath,
        profile: this.init.install.profile,
        source: this.init.install.source,
        configError: this.configError,
        era: this.era(),
        stores: this.storeInfo,
        versions: {...v?.versions, stateDb: this.storeInfo.find((s) => s.appVersion)?.appVersion},
      },
      gateway: v?.gateway,
      consistency:
        v?.gateway.state === 'up'
          ? `the gateway was running (pid ${v.gateway.pid ?? '?'}): files were copied as they were when opened; SQLite stores were copied with their -wal/-shm (again when they changed meanwhile) and backed up from the copy — see items with changedDuringCopy`
          : 'the gateway was not running: the copies are a consistent snapshot',
      // inputs the scanner did not (fully) read: empty files, lines that are not JSON, truncated last lines, rejected
      // rules
      scan: {
        ...this.scanned,
        rules: this.rules?.rules.length,
        ruleFiles: this.rules?.files,
        notScanned: dedupe(this.skipped),
      },
      summary: {
        items: this.records.length,
        collected: count('collected'),
        skipped: count('skipped'),
        missing: count('missing'),
        failed: count('failed'),
        resumed: this.resumed,
        bytesRead: this.bytesRead,
        redactions: this.records.reduce((n, r) => n + (r.redactions ?? 0), 0),
        findings: this.findings.length,
        knownSecretValues: this.known.size,
      },
      items: this.records,
    }
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
    this.toArchive(staged)
  }

  /** The archive under its temp name in --out; stale partials of this case from a killed run are removed. */
  private openArchive(): void {
    if (this.writer) return
    const out = path.resolve(this.options.out ?? this.init.case.dir)
    mkdirSync(out, {recursive: true, mode: 0o700})
    for (const f of readdirSync(out))
      if (f.startsWith(`.${this.init.case.id}-`) && f.includes('.partial-')) rmSync(path.join(out, f), {force: true})
    const root = bundleName(this.init.case.id, os.hostname(), this.startedAt)
    this.writer = new BundleWriter(out, root, this.options.format, {
      level: this.init.seams?.gzipLevel,
      recipients: this.options.encryptTo,
      onBytes: (_c, processed) => {
        if (this.meter.phaseName === 'bundle') this.meter.emit({bytesDone: processed})
      },
    })
  }

  private toArchive(files: StagedFile[]): void {
    if (!this.writer) return
    for (const f of files) {
      if (this.archived.has(f.bundlePath)) continue
      this.writer.add({name: f.bundlePath, stagedPath: f.stagedPath, mtime: f.mtime, mode: f.mode, sha256: f.sha256})
      this.archived.add(f.bundlePath)
    }
  }

  private discardArchive(): void {
    this.writer?.discard()
    this.writer = undefined
    this.archived.clear()
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
    for (const s of staged) if (s.bundlePath.startsWith('derived/sqlite/')) this.noteStore(s)
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
      findings,
      skipped,
      scanned,
    }
  }

  private noteStore(s: StagedFile): void {
    try {
      const db = new Database(s.stagedPath, {readonly: true, fileMustExist: true})
      try {
        const m = readSchemaMeta(db)
        this.storeInfo.push({
          path: s.bundlePath,
          userVersion: db.pragma('user_version', {simple: true}) as number,
          ...m,
        })
      } finally {
        db.close()
      }
    } catch {
      /* unreadable backup: its record says so */
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

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

function dedupe(items: SkippedItem[]): SkippedItem[] {
  const seen = new Set<string>()
  return items.filter((i) => {
    const k = `${i.path}\0${i.reason}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
