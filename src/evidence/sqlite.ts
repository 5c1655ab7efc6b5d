import {createHash} from 'node:crypto'
import {copyFileSync, lstatSync, mkdirSync, renameSync, rmSync} from 'node:fs'
import {open} from 'node:fs/promises'
import path from 'node:path'

import Database from 'better-sqlite3'
import {decompress} from 'fzstd'

import type {SourceRef} from '../detect/finding-types.js'
import {IrError} from '../errors.js'
import {readAuditEvents} from '../openclaw/stores/audit-events.js'
import {
  columns,
  hasTable,
  isSecretMachineStateKey,
  isSecretTable,
  quote,
  tables,
} from '../openclaw/stores/sqlite-schema.js'
import {readSessionWindows} from '../openclaw/stores/session-index.js'
import {type AcquireEnv, type Acquired, type StagedFile, StagedWriter, stagingError} from './acquire.js'
import {meta, type Source} from './discover.js'
import {safeName} from './bundle-paths.js'
import type {Redactor} from './redact.js'
import {jsonSecretValues, KnownSecrets, looksRandom, SECRET_KEY} from './secret-values.js'
import {openSource, readReusing, sourceError} from './source-io.js'
import type {ItemRecord} from './collect-types.js'

/**
 * A SQLite store (openclaw-internals.md §6.3). The source is never opened by SQLite: a read-only
 * connection still creates or writes -wal/-shm (measured: `ir status`' era probe creates them).
 * Its bytes are copied raw with the -wal/-shm/-journal (again, up to 3 times, if a writer changed
 * them meanwhile); a consistent single-file backup is taken from that copy with SQLite's online
 * backup API (the copy recovers the WAL or rolls back a hot journal; the source does not); the
 * backup is scanned; its transcripts are exported to derived/transcripts/<agent>/<session>.jsonl;
 * and unless --include-secrets every known and rule-recognized secret in it is masked in place
 * (search indexes rebuilt, then VACUUM: no slack space with old bytes) while the raw files —
 * auth profiles, device tokens, unredacted prompts — are kept as metadata only.
 */

export interface StoreScanTarget {
  scanSqliteStore(dbPath: string, source: SourceRef): Promise<void>
}

export interface StoreEnv extends AcquireEnv {
  /** Private scratch dir (same filesystem as staging), removed by the caller. */
  work: string
  since?: Date
}

const COPY_ATTEMPTS = 3
/** Page cache of ir's own connections (KiB): the copies are read and rewritten once, in order, so
 * better-sqlite3's default of 16 MB per connection only added to the peak memory (bench/collect-figures.md). */
const CACHE_KIB = 2000

/** One of ir's connections to its private copies (never to a source store). */
function openCopy(file: string, opts: Database.Options): Database.Database {
  const db = new Database(file, opts)
  db.pragma(`cache_size = -${CACHE_KIB}`)
  return db
}
/** Rows are read a page at a time, so memory stays flat and updates can run between pages (2000 rows of
 * large events held 20 MiB in the worker: bench/collect-figures.md). */
const PAGE_ROWS = 500
const ZSTD_MAGIC = 0xfd2fb528
const STORE_REASON =
  'secret-bearing SQLite store (auth profiles, device tokens, unredacted prompts): raw bytes as metadata only; the redacted consistent backup and exported transcripts are in the bundle; raw files with --include-secrets'

export interface StoreSnapshot {
  src: Source
  records: ItemRecord[]
  staged: StagedFile[]
  /**
   * Unredacted consistent backup in the private scratch dir (kept until the bundle is sealed: resume re-learns from
   * it).
   */
  backupPath?: string
  backupRec?: ItemRecord
}

/** Raw copy of the store's set (again if a writer changed it meanwhile) and a consistent backup of that copy. */
export async function snapshotStore(src: Source, env: StoreEnv): Promise<StoreSnapshot> {
  const files = [src, ...(src.sidecars ?? [])]
  const records: ItemRecord[] = []
  const staged: StagedFile[] = []
  const rawDir = path.join(env.work, 'raw')
  let consistent = false
  let copies: Array<{src: Source; rec: ItemRecord; copyPath?: string; staged?: StagedFile}> = []
  for (let attempt = 1; attempt <= COPY_ATTEMPTS && !consistent; attempt++) {
    const before = files.map((f) => fingerprintOf(f.path))
    copies = []
    for (const f of files) copies.push(await rawCopy(f, env, rawDir))
    const after = files.map((f) => fingerprintOf(f.path))
    consistent = before.every((b, i) => b === after[i])
  }
  const main = copies[0]!
  for (const c of copies) {
    if (!consistent && c.rec.outcome !== 'missing') {
      c.rec.changedDuringCopy = true
      c.rec.note = join(
        c.rec.note,
        `the store changed during each of ${COPY_ATTEMPTS} copies (a writer is active): the raw set and the backup reflect the last copy`,
      )
    }
    records.push(c.rec)
    if (c.staged) staged.push(c.staged)
  }
  if (!main.copyPath) return {src, records, staged}

  // consistent backup from a scratch copy of the raw copy (SQLite recovers the WAL / hot journal there)
  const backupBundle = `derived/sqlite/${src.bundlePath.replace(/^evidence\//, '')}`
  const scratch = path.join(env.work, 'scratch', safeName(path.basename(src.path)))
  const backupPath = path.join(env.work, 'backup', backupBundle)
  const sidecarNames = copies
    .slice(1)
    .filter((c) => c.copyPath)
    .map((c) => path.basename(c.src.path).slice(path.basename(src.path).length))
  const how = env.includeSecrets
    ? 'SQLite online backup of a scratch copy of'
    : 'checkpointed raw copy (WAL merged by SQLite) of'
  const backupRec: ItemRecord = {
    path: `${src.path} (consistent backup)`,
    kind: 'sqlite',
    outcome: 'collected',
    method: 'sqlite-backup',
    bundlePath: backupBundle,
    agentId: src.agentId,
    note: `${how} ${path.basename(src.path)}${sidecarNames.length ? ` with its ${sidecarNames.join(', ')}` : ''}${consistent ? '' : ' (taken while a writer was active)'}`,
  }
  try {
    mkdirSync(path.dirname(scratch), {recursive: true, mode: 0o700})
    mkdirSync(path.dirname(backupPath), {recursive: true, mode: 0o700})
    rmSync(backupPath, {force: true})
    // SQLite rewrites what it opens (WAL recovery, checkpoint on close): with --include-secrets the
    // raw copy is bundled and must stay intact, so it opens a scratch copy; otherwise the private raw copy itself
    let open = main.copyPath
    if (env.includeSecrets) {
      copyFileSync(main.copyPath, scratch)
      for (const c of copies.slice(1)) {
        const suffix = /-(wal|journal)$/.exec(c.src.path)?.[0]
        if (suffix && c.copyPath) copyFileSync(c.copyPath, scratch + suffix)
      }
      open = scratch
    } else {
      // the -shm is rebuilt from the -wal: a stale one must not be trusted
      for (const c of copies.slice(1)) if (c.copyPath && c.src.path.endsWith('-shm')) rmSync(c.copyPath, {force: true})
    }
    const db = openCopy(open, {fileMustExist: true, timeout: 2000})
    try {
      if (env.includeSecrets) await db.backup(backupPath)
      else {
        // the private raw copy is not bundled: checkpoint its WAL into it and keep it as the
        // consistent single file (the same pages the backup API would copy, one pass fewer)
        db.pragma('wal_checkpoint(TRUNCATE)')
        db.pragma('journal_mode = DELETE')
      }
    } finally {
      db.close()
    }
    if (!env.includeSecrets) renameSync(open, backupPath)
    const b = openCopy(backupPath, {fileMustExist: true})
    try {
      b.pragma('journal_mode = DELETE')
      backupRec.events = tableCount(b, 'transcript_events')
    } finally {
      b.close()
    }
  } catch (err) {
    rmSync(backupPath, {force: true})
    records.push({
      ...backupRec,
      outcome: 'failed',
      error: `no consistent backup: ${sqliteMessage(err)}`,
      bundlePath: undefined,
    })
    return {src, records, staged}
  } finally {
    for (const s of ['', '-wal', '-shm', '-journal']) rmSync(scratch + s, {force: true})
    if (!env.includeSecrets) for (const c of copies) if (c.copyPath) rmSync(c.copyPath, {force: true})
  }
  learnStoreSecrets(backupPath, env.known)
  return {src, records, staged, backupPath, backupRec}
}

/** Secret values of a kept backup (resume: the store itself is not read again). */
export function relearnStore(backupPath: string, known: KnownSecrets): boolean {
  try {
    lstatSync(backupPath)
  } catch {
    return false
  }
  learnStoreSecrets(backupPath, known)
  return true
}

/** Scan the unredacted backup; stage a copy of it, export its transcripts and mask both in one pass over the rows. */
export async function finishStore(snap: StoreSnapshot, env: StoreEnv, scanner?: StoreScanTarget): Promise<Acquired> {
  const {src, backupPath, backupRec} = snap
  const records = [...snap.records]
  const staged = [...snap.staged]
  if (!backupPath || !backupRec) return {records, staged}
  const backupBundle = backupRec.bundlePath!
  await scanner?.scanSqliteStore(backupPath, {file: backupBundle, rel: src.rel, agentId: src.agentId})
  const target = path.join(env.staging, backupBundle)
  mkdirSync(path.dirname(target), {recursive: true, mode: 0o700})
  try {
    copyFileSync(backupPath, target)
  } catch (err) {
    throw stagingError(target, err)
  }
  let hashed: {sha256: string; size: number} | undefined
  try {
    const r = await exportAndRedact(target, src, env)
    records.push(...r.records)
    staged.push(...r.staged)
    if (!env.includeSecrets) {
      backupRec.redactions = r.count
      if (r.notes.length) backupRec.note = join(backupRec.note, r.notes.join('; '))
    }
    const check = await knownValuesIn(target, env.includeSecrets ? new KnownSecrets() : env.known)
    if (check.found) throw new Error(`a known secret value (${check.found}) is still present after redaction`)
    hashed = {sha256: check.sha256, size: check.size}
  } catch (err) {
    rmSync(target, {force: true})
    if (err instanceof IrError || (err as Error).name === 'AbortError') throw err
    for (const r of records) {
      if (r.kind === 'derived' && r.outcome === 'collected' && r.path.startsWith(`${src.path} transcript_events`)) {
        Object.assign(r, {
          outcome: 'failed',
          error: 'export withheld with its store (see the backup item)',
          bundlePath: undefined,
        })
      }
    }
    for (const st of staged.filter((x) => x.bundlePath.startsWith('derived/transcripts/')))
      rmSync(st.stagedPath, {force: true})
    records.push({
      ...backupRec,
      outcome: 'failed',
      bundlePath: undefined,
      error: `backup and transcript export withheld: the store could not be ${env.includeSecrets ? 'exported' : 'redacted'} (${sqliteMessage(err)})`,
    })
    return {records, staged: staged.filter((x) => !x.bundlePath.startsWith('derived/transcripts/'))}
  }
  records.push({...backupRec, sha256: hashed.sha256, size: hashed.size})
  staged.push({
    bundlePath: backupBundle,
    stagedPath: target,
    size: hashed.size,
    sha256: hashed.sha256,
    mtime: new Date(src.mtimeMs),
    mode: 0o600,
  })
  return {records, staged}
}

/**
 * One pass over transcript_events of the staged backup: each row exported (decoded, redacted) to
 * derived/transcripts/<agent>/<session>.jsonl and, unless --include-secrets, rewritten in place
 * when it held a secret; then every other table and the search indexes are masked.
 */
async function exportAndRedact(
  target: string,
  src: Source,
  env: StoreEnv,
): Promise<{records: ItemRecord[]; staged: StagedFile[]; count: number; notes: string[]}> {
  const redact = !env.includeSecrets
  const db = openCopy(target, {fileMustExist: true})
  let restore: (() => void) | undefined
  try {
    if (redact) restore = prepareRedaction(db)
    const exported = await exportTranscripts(db, src, env, redact)
    let count = exported.count
    const notes: string[] = []
    if (redact) {
      const rest = redactOpenStore(db, env.redactor, env.signal, count, ['transcript_events'])
      count += rest.count
      notes.push(...rest.notes)
      restore!()
      restore = undefined
      vacuum(db, notes)
    }
    const audit = await exportAuditEvents(db, src, env)
    return {
      records: [...exported.records, ...audit.records],
      staged: [...exported.staged, ...audit.staged],
      count,
      notes,
    }
  } finally {
    restore?.()
    db.close()
  }
}

/** One file of the store's set, streamed and hashed: into the bundle (--include-secrets) or a private scratch copy. */
async function rawCopy(
  f: Source,
  env: StoreEnv,
  rawDir: string,
): Promise<{src: Source; rec: ItemRecord; copyPath?: string; staged?: StagedFile}> {
  let opened
  try {
    opened = await openSource(f.path)
  } catch (err) {
    const e = sourceError(err)
    const rec: ItemRecord = {path: f.path, kind: f.kind, outcome: e.outcome, agentId: f.agentId}
    if (e.outcome === 'failed') rec.error = e.message
    else
      rec.reason =
        f.kind === 'sqlite-sidecar' && e.outcome === 'missing'
          ? 'vanished before it could be read (checkpointed by the gateway)'
          : e.message
    return {src: f, rec}
  }
  const {fh, stat} = opened
  const base: ItemRecord = {...meta(f.path, stat), kind: f.kind, outcome: 'collected', agentId: f.agentId}
  const writer = new StagedWriter(env.includeSecrets ? env.staging : rawDir, f.bundlePath)
  try {
    await writer.open()
    for await (const chunk of readReusing(fh, 0, stat.size, env.chunkBytes, env.signal)) {
      env.onBytes?.(chunk.length)
      await writer.write(chunk)
    }
    await writer.close()
  } catch (err) {
    await writer.close().catch(() => undefined)
    if (err instanceof IrError || (err as Error).name === 'AbortError') throw err
    return {src: f, rec: {...base, outcome: 'failed', error: sourceError(err).message}}
  } finally {
    await fh.close()
  }
  if (writer.size !== stat.size) base.note = `read ${writer.size} of ${stat.size} bytes (truncated meanwhile)`
  if (env.includeSecrets) {
    return {
      src: f,
      rec: {...base, bundlePath: f.bundlePath, sha256: writer.sha256, method: 'copy'},
      copyPath: writer.stagedPath,
      staged: writer.staged(base),
    }
  }
  return {
    src: f,
    rec: {...base, outcome: 'skipped', reason: STORE_REASON, method: 'metadata', sha256: writer.sha256},
    copyPath: writer.stagedPath,
  }
}

/** Transcript rows → one JSONL per session (the same JSON as a legacy transcript line), redacted. */
async function exportTranscripts(
  db: Database.Database,
  src: Source,
  env: StoreEnv,
  update: boolean,
): Promise<{records: ItemRecord[]; staged: StagedFile[]; count: number}> {
  const records: ItemRecord[] = []
  const staged: StagedFile[] = []
  let count = 0
  if (!hasTable(db, 'transcript_events')) return {records, staged, count}
  const windows = readSessionWindows(db)
  const agent = safeName(src.agentId ?? path.basename(path.dirname(path.dirname(src.path))))
  let current: string | undefined
  let writer: StagedWriter | undefined
  let rec: ItemRecord | undefined
  let skip = false
  const finish = async () => {
    if (!writer || !rec) return
    await writer.close()
    records.push({...rec, sha256: writer.sha256, size: writer.size})
    staged.push(writer.staged({mtime: new Date(src.mtimeMs).toISOString(), mode: '0600'}))
    writer = undefined
    rec = undefined
  }
  const hasZstd = columns(db, 'transcript_events').includes('event_zstd')
  const sel = `SELECT session_id AS s, seq AS q, CAST(event_json AS BLOB) AS j, ${hasZstd ? 'event_zstd' : 'NULL'} AS z FROM transcript_events`
  const first = db.prepare(`${sel} ORDER BY session_id, seq LIMIT ${PAGE_ROWS}`)
  const next = db.prepare(`${sel} WHERE (session_id, seq) > (?, ?) ORDER BY session_id, seq LIMIT ${PAGE_ROWS}`)
  const set = update
    ? db.prepare(
        `UPDATE transcript_events SET event_json = ?${hasZstd ? ', event_zstd = NULL' : ''} WHERE session_id = ? AND seq = ?`,
      )
    : undefined
  const apply = db.transaction((rows: Array<[string, string, number]>) => {
    for (const [text, s, q] of rows) set!.run(text, s, q)
  })
  let last: {s: string; q: number} | undefined
  for (;;) {
    if (env.signal?.aborted) throw Object.assign(new Error('interrupted by the operator'), {name: 'AbortError'})
    const rows = (last ? next.all(last.s, last.q) : first.all()) as Array<{
      s: string
      q: number
      j: Buffer | null
      z: Buffer | null
    }>
    if (rows.length === 0) break
    last = rows.at(-1)!
    const updates: Array<[string, string, number]> = []
    for (const row of rows) {
      if (row.s !== current) {
        await finish()
        current = row.s
        const w = windows.get(row.s)
        skip = Boolean(env.since && w?.updatedAt !== undefined && w.updatedAt < env.since.getTime())
        if (skip) {
          records.push({
            path: `${src.path} transcript_events session ${row.s}`,
            kind: 'derived',
            outcome: 'skipped',
            agentId: src.agentId,
            sessionId: row.s,
            reason: `session not updated since ${env.since!.toISOString()} (--since)`,
            note: w?.key ? `session key ${w.key}` : undefined,
          })
        } else {
          const bundlePath = `derived/transcripts/${agent}/${safeName(row.s).replace(/\//g, '%2F')}.jsonl`
          writer = new StagedWriter(env.staging, bundlePath)
          await writer.open()
          rec = {
            path: `${src.path} transcript_events session ${row.s}`,
            kind: 'derived',
            outcome: 'collected',
            method: 'export',
            bundlePath,
            agentId: src.agentId,
            sessionId: row.s,
            events: 0,
            redactions: 0,
            note: w?.key ? `session key ${w.key}` : undefined,
          }
        }
      }
      let bytes: Uint8Array
      let decoded = true
      try {
        bytes = row.j ?? (row.z ? decompress(row.z) : new Uint8Array())
      } catch (err) {
        decoded = false
        bytes = Buffer.from(
          JSON.stringify({ir_export_error: `seq ${row.q}: event_zstd does not decompress (${(err as Error).message})`}),
        )
        if (rec) rec.note = join(rec.note, `seq ${row.q} not decompressible`)
      }
      let line = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      if (update && decoded) {
        // a skipped (--since) session is not exported, but the backup still gets masked
        const r = env.redactor.redactBuffer(line)
        if (r) {
          line = Buffer.from(r.text, 'utf8')
          count += r.count
          updates.push([r.text, row.s, row.q])
          if (rec && !skip) rec.redactions = (rec.redactions ?? 0) + r.count
        }
      }
      if (skip || !writer || !rec) continue
      await writer.write(Buffer.concat([line, NL]))
      rec.events = (rec.events ?? 0) + 1
    }
    if (updates.length) apply(updates)
    if (rows.length < PAGE_ROWS) break
  }
  await finish()
  return {records, staged, count}
}

const NL = Buffer.from('\n')

/** The audit ledger, one JSON line per event (UTC time added), from the masked backup: the timeline reads it. */
async function exportAuditEvents(
  db: Database.Database,
  src: Source,
  env: StoreEnv,
): Promise<{records: ItemRecord[]; staged: StagedFile[]}> {
  if (!hasTable(db, 'audit_events')) return {records: [], staged: []}
  const bundlePath = auditExportPath(src.bundlePath)
  const writer = new StagedWriter(env.staging, bundlePath)
  await writer.open()
  let events = 0
  let redactions = 0
  try {
    for (const e of readAuditEvents(db, env.since)) {
      let line = JSON.stringify({time: new Date(e.occurredAt).toISOString(), ...e})
      if (!env.includeSecrets) {
        const r = env.redactor.redactText(line)
        line = r.text
        redactions += r.count
      }
      await writer.write(Buffer.from(line + '\n', 'utf8'))
      events++
    }
  } finally {
    await writer.close()
  }
  const rec: ItemRecord = {
    path: `${src.path} audit_events`,
    kind: 'derived',
    outcome: 'collected',
    method: 'export',
    bundlePath,
    sha256: writer.sha256,
    size: writer.size,
    events,
    redactions: env.includeSecrets ? undefined : redactions,
    note: env.since ? `events since ${env.since.toISOString()} (--since)` : undefined,
  }
  return {records: [rec], staged: [writer.staged({mtime: new Date(src.mtimeMs).toISOString(), mode: '0600'})]}
}

/** derived/audit/<store path in the bundle>.audit_events.jsonl */
export function auditExportPath(storeBundlePath: string): string {
  return `derived/audit/${storeBundlePath.replace(/^evidence\//, '')}.audit_events.jsonl`
}

/**
 * Secret values held in the store's credential-bearing tables (OpenClaw's own list, and older
 * tables whose names say so) and in config_machine_state's credential rows.
 */
function learnStoreSecrets(dbPath: string, known: KnownSecrets): void {
  const db = openCopy(dbPath, {readonly: true, fileMustExist: true})
  try {
    for (const t of tables(db)) {
      if (t.type !== 'table') continue
      if (t.name === 'config_machine_state') {
        learnMachineState(db, known)
        continue
      }
      if (!isSecretTable(t.name)) continue
      const cols = columns(db, t.name)
      for (const row of db.prepare(`SELECT ${cols.map(quote).join(', ')} FROM ${quote(t.name)}`).iterate() as Iterable<
        Record<string, unknown>
      >) {
        const values: string[] = []
        for (const c of cols) {
          const v = row[c]
          if (typeof v !== 'string' || v.length < 8) continue
          if (SECRET_KEY.test(c) || (looksRandom(v, 12) && !IDENTIFIER_COLUMN.test(c) && !UUID.test(v))) values.push(v)
          if (c.endsWith('_json') || /^[[{]/.test(v)) values.push(...jsonValues(v, true))
        }
        known.add(values)
      }
    }
  } catch {
    /* a damaged store: the rule-based redaction still runs */
  } finally {
    db.close()
  }
}

/** Ids, keys of rows, refs and hashes look random and are not secrets (masking them would hide evidence). */
const IDENTIFIER_COLUMN = /(^|_)(id|key|ref|hash|at|ms|kind|type|status)$/i
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** authProfiles.*, nodeHost.*, webPush.vapidKeys: every token-like string of the row is a credential. */
function learnMachineState(db: Database.Database, known: KnownSecrets): void {
  const cols = new Set(columns(db, 'config_machine_state'))
  if (!cols.has('state_key') || !cols.has('value_json')) return
  for (const r of db.prepare('SELECT state_key AS k, value_json AS v FROM config_machine_state').iterate() as Iterable<{
    k: string
    v: unknown
  }>) {
    if (!isSecretMachineStateKey(r.k) || typeof r.v !== 'string') continue
    known.add(jsonValues(r.v, false).filter((s) => s.length >= 16 && !/\s/.test(s)))
  }
}

/** Strings of a JSON cell: under secret keys (and random-looking ones), or all of them. */
function jsonValues(text: string, secretOnly: boolean): string[] {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return []
  }
  if (secretOnly) return jsonSecretValues(v, {randomToo: true})
  const out: string[] = []
  const walk = (x: unknown): void => {
    if (typeof x === 'string') out.push(x)
    else if (x && typeof x === 'object') for (const y of Object.values(x)) walk(y)
  }
  walk(v)
  return out
}

/**
 * Mask secrets in every text cell (and zstd transcript rows) of a backup, in place. Triggers are
 * dropped for the rewrite and recreated after (they would change other rows); FTS5 indexes are
 * rebuilt from the redacted text; VACUUM leaves no slack space with old bytes.
 */
export function redactStore(
  dbPath: string,
  redactor: Redactor,
  signal?: AbortSignal,
): {count: number; notes: string[]} {
  const db = openCopy(dbPath, {fileMustExist: true})
  try {
    const restore = prepareRedaction(db)
    const r = redactOpenStore(db, redactor, signal, 0, [])
    restore()
    vacuum(db, r.notes)
    return r
  } finally {
    db.close()
  }
}

/**
 * Rebuild the file from live rows only. secure_delete zeroes what the rewrite frees, but a store
 * also carries slack space OpenClaw itself left behind (free pages, unused cell space holding
 * deleted or rewritten rows — a deleted message, an old token): unredactable, so dropped here.
 * (The raw copy, with --include-secrets, keeps it for carving.)
 */
function vacuum(db: Database.Database, notes: string[]): void {
  const free = Number(db.pragma('freelist_count', {simple: true}))
  db.exec('VACUUM')
  if (free > 0)
    notes.push(`${free} free page(s) of deleted data dropped by VACUUM (kept in the raw copy with --include-secrets)`)
}

/** Pragmas for an in-place rewrite; returns what recreates the dropped triggers. */
function prepareRedaction(db: Database.Database): () => void {
  db.pragma('journal_mode = DELETE')
  db.pragma('secure_delete = ON')
  db.pragma('foreign_keys = OFF')
  db.pragma('ignore_check_constraints = ON')
  const triggers = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL")
    .all() as Array<{name: string; sql: string}>
  for (const t of triggers) db.exec(`DROP TRIGGER ${quote(t.name)}`)
  let done = false
  return () => {
    if (done) return
    done = true
    for (const t of triggers) db.exec(t.sql)
  }
}

function redactOpenStore(
  db: Database.Database,
  redactor: Redactor,
  signal: AbortSignal | undefined,
  already: number,
  skip: string[],
): {count: number; notes: string[]} {
  const notes: string[] = []
  let count = 0
  const list = tables(db)
  for (const t of list.filter((x) => x.type === 'table' && !skip.includes(x.name))) {
    if (signal?.aborted) throw Object.assign(new Error('interrupted by the operator'), {name: 'AbortError'})
    count += redactTable(db, t.name, t.withoutRowid, redactor)
  }
  const baseCount = already + count
  for (const v of list.filter((x) => x.type === 'virtual')) {
    const sql =
      (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(v.name) as {sql?: string} | undefined)?.sql ?? ''
    if (!/USING\s+fts5/i.test(sql)) {
      notes.push(`virtual table ${v.name} left as is`)
      continue
    }
    const content = /content\s*=\s*'([^']*)'/i.exec(sql)?.[1]
    const cmd = (c: string) => db.prepare(`INSERT INTO ${quote(v.name)}(${quote(v.name)}) VALUES('${c}')`).run()
    if (content === undefined) {
      // the index keeps its own copy of the text: mask it there, then rebuild the terms from it
      const own = redactTable(db, v.name, false, redactor)
      count += own
      if (own > 0) cmd('rebuild')
    } else if (baseCount > 0) {
      // external content changed above: rebuild from it; a contentless index cannot be rebuilt, only emptied
      if (content === '') {
        cmd('delete-all')
        notes.push(`contentless search index ${v.name} emptied (it may have held masked terms)`)
      } else cmd('rebuild')
    }
  }
  return {count, notes}
}

function redactTable(db: Database.Database, table: string, withoutRowid: boolean, redactor: Redactor): number {
  const cols = columns(db, table)
  if (cols.length === 0) return 0
  const pk = withoutRowid
    ? (
        db.prepare(`SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`).all(table) as Array<{name: string}>
      ).map((r) => r.name)
    : ['rowid']
  const keyExpr = (k: string) => (k === 'rowid' ? 'rowid' : quote(k))
  const cells = `${pk.map((k, i) => `${keyExpr(k)} AS k${i}`).join(', ')}, ${cols.map((c, i) => `typeof(${quote(c)}) AS t${i}, CASE WHEN typeof(${quote(c)}) IN ('text', 'blob') THEN CAST(${quote(c)} AS BLOB) END AS v${i}`).join(', ')}`
  const zstdRow = table === 'transcript_events' && cols.includes('event_zstd') && cols.includes('event_json')
  let count = 0
  const pageOf = (rows: Iterable<Record<string, unknown>>): Array<{key: unknown[]; sets: Array<[string, unknown]>}> => {
    const updates: Array<{key: unknown[]; sets: Array<[string, unknown]>}> = []
    for (const row of rows) {
      const sets: Array<[string, unknown]> = []
      cols.forEach((c, i) => {
        const type = row[`t${i}`]
        const v = row[`v${i}`] as Buffer | null
        if (!v) return
        if (type === 'text') {
          const r = redactor.redactBuffer(v)
          if (r) {
            sets.push([c, r.text])
            count += r.count
          }
        } else if (
          type === 'blob' &&
          zstdRow &&
          c === 'event_zstd' &&
          v.length >= 4 &&
          v.readUInt32LE(0) === ZSTD_MAGIC
        ) {
          try {
            const r = redactor.redactBuffer(decompress(v))
            if (r) {
              sets.push(['event_json', r.text], ['event_zstd', null])
              count += r.count
            }
          } catch {
            /* not decompressible: left compressed (not clear text) */
          }
        }
      })
      if (sets.length) updates.push({key: pk.map((_, i) => row[`k${i}`]), sets})
    }
    return updates
  }
  const apply = db.transaction((updates: Array<{key: unknown[]; sets: Array<[string, unknown]>}>) => {
    for (const u of updates) {
      db.prepare(
        `UPDATE ${quote(table)} SET ${u.sets.map(([c]) => `${quote(c)} = ?`).join(', ')} WHERE ${pk.map((k) => `${keyExpr(k)} = ?`).join(' AND ')}`,
      ).run(...u.sets.map(([, v]) => v), ...u.key)
    }
  })
  if (withoutRowid) {
    // no rowid to page by (usually small tables): one pass, then the updates
    apply(pageOf(db.prepare(`SELECT ${cells} FROM ${quote(table)}`).all() as Array<Record<string, unknown>>))
    return count
  }
  const page = db.prepare(`SELECT ${cells} FROM ${quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ${PAGE_ROWS}`)
  let after = -Infinity as number | bigint
  for (;;) {
    const rows = page.all(after === -Infinity ? Number.MIN_SAFE_INTEGER : after) as Array<Record<string, unknown>>
    if (rows.length === 0) break
    after = rows.at(-1)!.k0 as number | bigint
    const updates = pageOf(rows)
    if (updates.length) apply(updates)
    if (rows.length < PAGE_ROWS) break
  }
  return count
}

function tableCount(db: Database.Database, name: string): number | undefined {
  return hasTable(db, name)
    ? Number((db.prepare(`SELECT count(*) AS n FROM ${quote(name)}`).get() as {n: number}).n)
    : undefined
}

/** One pass over a file: its SHA-256, and the first known value (its length, never the value) in its raw bytes. */
export async function knownValuesIn(
  file: string,
  known: KnownSecrets,
  chunkBytes = 1 << 20,
): Promise<{found?: string; sha256: string; size: number}> {
  const values = known.list().map((v) => Buffer.from(v, 'utf8'))
  const overlap = values.length ? Math.max(...values.map((v) => v.length)) : 0
  const h = createHash('sha256')
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    let tail: Buffer = Buffer.alloc(0)
    let found: string | undefined
    for await (const chunk of readReusing(fh, 0, size, chunkBytes)) {
      h.update(chunk)
      if (found || values.length === 0) continue
      // a value across the chunk boundary: the last chunk's tail and this one's head (the chunk's buffer is reused)
      const seam = tail.length ? Buffer.concat([tail, chunk.subarray(0, overlap)]) : undefined
      const hit = values.find((v) => chunk.includes(v) || seam?.includes(v))
      if (hit) found = `${hit.length} bytes long`
      const joined = chunk.length >= overlap ? chunk : Buffer.concat([tail, chunk])
      tail = Buffer.from(joined.subarray(Math.max(0, joined.length - overlap)))
    }
    return {found, sha256: h.digest('hex'), size}
  } finally {
    await fh.close()
  }
}

export async function hashFile(file: string): Promise<{sha256: string; size: number}> {
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const h = createHash('sha256')
    for await (const chunk of readReusing(fh, 0, size)) h.update(chunk)
    return {sha256: h.digest('hex'), size}
  } finally {
    await fh.close()
  }
}

function fingerprintOf(p: string): string {
  try {
    const st = lstatSync(p)
    return `${st.ino}:${st.size}:${st.mtimeMs}`
  } catch {
    return 'missing'
  }
}

function sqliteMessage(err: unknown): string {
  const e = err as {code?: string; message?: string}
  return e.code && e.code.startsWith('SQLITE') ? `${e.code}: ${e.message}` : (e.message ?? String(err))
}

function join(a: string | undefined, b: string): string {
  return a ? `${a}; ${b}` : b
}
