import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'

import {collect, type CollectRequest, type CollectResult} from '../../../src/collect.js'
import type {ItemRecord} from '../../../src/evidence/collect-types.js'
import {verifyBundle} from '../../../src/evidence/verify.js'
import {
  extract,
  fileEraState,
  filesContaining,
  noRunner,
  prompter,
  SECRETS,
  SESSION_A,
  SESSION_B,
  readNoAtime,
  snapshot,
  sqliteEraState,
  T_NEW,
  T_OLD,
  tmp,
  withoutDirAtimes,
} from './helpers.js'

const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, {recursive: true, force: true})
})

function setup() {
  const root = tmp()
  roots.push(root)
  const home = path.join(root, 'home')
  mkdirSync(home, {recursive: true})
  return {root, home, irHome: path.join(root, 'irhome'), out: path.join(root, 'out')}
}

function run(
  stateDir: string,
  env: ReturnType<typeof setup>,
  extra: Partial<CollectRequest> = {},
): Promise<CollectResult> {
  return collect({
    target: {stateDir},
    dryRun: false,
    prompter,
    mayChange: true,
    runner: noRunner,
    out: env.out,
    irHome: env.irHome,
    host: {env: {}, homedir: env.home, uid: process.getuid?.() ?? 0},
    includeSecrets: false,
    ...extra,
    seams: {home: env.home, tmpDir: path.join(env.root, 'tmp'), ...extra.seams},
  })
}

function caseJson(bundleRoot: string): {
  items: ItemRecord[]
  summary: Record<string, number>
  install: {era: string}
  consistency: string
} {
  return JSON.parse(readFileSync(path.join(bundleRoot, 'case.json'), 'utf8'))
}

const item = (items: ItemRecord[], suffix: string) => items.find((i) => i.path.endsWith(suffix))

describe('ir collect on a file-era state dir', () => {
  it('bundles every source with an outcome, verifies, never leaks a planted secret, and leaves the source byte-identical', async () => {
    // Given a file-era install with planted injection, a pattern-shaped exec, fake secrets, a symlink to /etc/shadow
    // and a FIFO
    const env = setup()
    const {stateDir} = fileEraState(env.root)
    const before = snapshot(stateDir)

    // When it is collected with the defaults
    const r = await run(stateDir, env)

    // Then the bundle exists (0600, sibling hash), verifies, and sha256sum -c accepts the manifest
    expect(r.exitCode).toBe(0)
    expect(r.verified).toBe(true)
    expect(statSync(r.bundle).mode & 0o777).toBe(0o600)
    expect(readFileSync(`${r.bundle}.sha256`, 'utf8')).toBe(`${r.bundleSha256}  ${path.basename(r.bundle)}\n`)
    expect((await verifyBundle(r.bundle)).ok).toBe(true)
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    execFileSync('sha256sum', ['--quiet', '-c', 'manifest-sha256.txt'], {cwd: x})

    // And every source has an outcome; transcripts incl. .deleted./.reset. are in, with their mtimes
    const c = caseJson(x)
    const items = c.items
    expect(c.install.era).toBe('file')
    for (const i of items) expect(['collected', 'missing', 'skipped', 'failed']).toContain(i.outcome)
    const live = item(items, `${SESSION_A}.jsonl`)!
    expect(live).toMatchObject({outcome: 'collected', kind: 'transcript', agentId: 'main', sessionId: SESSION_A})
    expect(live.sha256).toBe(sha(path.join(stateDir, 'agents/main/sessions', `${SESSION_A}.jsonl`)))
    expect(item(items, '.jsonl.deleted.2026-11-18T09-00-00.000Z')).toMatchObject({
      outcome: 'collected',
      method: 'redacted-copy',
    })
    expect(item(items, '.jsonl.reset.2026-11-17T09-00-00.000Z')).toMatchObject({outcome: 'collected', method: 'copy'})
    const tarList = execFileSync('tar', ['tzvf', r.bundle, '--full-time'], {encoding: 'utf8'})
    const resetLine = tarList.split('\n').find((l) => l.includes(`${SESSION_B}.jsonl.reset`))!
    expect(resetLine).toContain(`${T_OLD.getFullYear()}-11-01 ${String(T_OLD.getHours()).padStart(2, '0')}:00:00`)
    for (const name of [
      'credentials/telegram-allowFrom.json',
      'devices/paired.json',
      'logs/config-audit.jsonl',
      'workspace/SOUL.md',
      'skills/weather/SKILL.md',
    ]) {
      expect(item(items, name), name).toMatchObject({outcome: 'collected'})
      expect(existsSync(path.join(x, 'evidence/state', name)), name).toBe(true)
    }
    // the symlink is recorded with its target, never followed; the FIFO and node_modules are skipped with reasons
    expect(item(items, 'sessions/x.jsonl')).toMatchObject({
      outcome: 'skipped',
      reason: 'symlink: recorded, not followed',
      linkTarget: '/etc/shadow',
    })
    expect(existsSync(path.join(x, 'evidence/state/agents/main/sessions/x.jsonl'))).toBe(false)
    expect(item(items, 'sessions/pipe.jsonl')).toMatchObject({outcome: 'skipped', reason: 'not a regular file (FIFO)'})
    expect(item(items, 'skills/weather/node_modules')).toMatchObject({outcome: 'skipped', kind: 'directory'})
    // secret stores: metadata only, with the real hash
    const envItem = item(items, 'state/.env')!
    expect(envItem).toMatchObject({outcome: 'skipped', method: 'metadata', mode: '0600'})
    expect(envItem.sha256).toBe(sha(path.join(stateDir, '.env')))
    expect(existsSync(path.join(x, 'evidence/state/.env'))).toBe(false)
    expect(item(items, 'credentials/whatsapp/default/creds.json')).toMatchObject({
      outcome: 'skipped',
      method: 'metadata',
    })
    // the config is masked but keeps its structure and comments; the paired device keeps its scopes
    const cfg = readFileSync(path.join(x, 'evidence/state/openclaw.json'), 'utf8')
    expect(cfg).toContain('// OpenClaw config (JSON5)')
    expect(cfg).toMatch(/token: "«sha256:[0-9a-f]{12}»"/)
    expect(readFileSync(path.join(x, 'evidence/state/devices/paired.json'), 'utf8')).toContain('operator.admin')

    // And the planted items are in the findings; the report is written
    const cats = new Set(r.findings.map((f) => f.category))
    expect(cats.has('prompt-injection')).toBe(true)
    expect(cats.has('secret-exposure')).toBe(true)
    expect(r.findings.some((f) => f.source.file === `evidence/state/agents/main/sessions/${SESSION_A}.jsonl`)).toBe(
      true,
    )
    expect(readFileSync(path.join(x, 'findings/findings.jsonl'), 'utf8').trim().split('\n').length).toBe(
      r.findings.length,
    )
    const report = readFileSync(path.join(x, 'findings/report.md'), 'utf8')
    expect(report).toContain('## What was not collected, and why')
    expect(report).toContain('/etc/shadow')

    // And no planted secret is in clear anywhere in the bundle (nor in the printed summary)
    expect(filesContaining(x, Object.values(SECRETS))).toEqual([])
    expect(JSON.stringify(r)).not.toMatch(new RegExp(Object.values(SECRETS).map(escape).join('|')))

    // And the source is byte-identical: content, modes, mtimes, file atimes
    expect(withoutDirAtimes(snapshot(stateDir))).toEqual(withoutDirAtimes(before))
    // And the staging area and the scratch (unredacted backups) are gone once the bundle is verified
    const caseDir = path.join(env.irHome, 'cases', r.case)
    expect(existsSync(path.join(caseDir, 'collect', 'staging'))).toBe(false)
    expect(existsSync(path.join(caseDir, 'collect', 'work'))).toBe(false)
    // And what the case keeps (journal, index of the run) holds no planted secret in clear either
    expect(filesContaining(caseDir, Object.values(SECRETS))).toEqual([])
  })

  it('writes a zip on request that verifies the same way', async () => {
    const env = setup()
    const {stateDir} = fileEraState(env.root)
    const r = await run(stateDir, env, {format: 'zip'})
    expect(r.bundle.endsWith('.zip')).toBe(true)
    expect(r.verified).toBe(true)
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    execFileSync('sha256sum', ['--quiet', '-c', 'manifest-sha256.txt'], {cwd: x})
    expect(filesContaining(x, Object.values(SECRETS))).toEqual([])
  })

  it('includes secret contents byte-exact with --include-secrets', async () => {
    const env = setup()
    const {stateDir} = fileEraState(env.root)
    const r = await run(stateDir, env, {includeSecrets: true})
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    expect(readFileSync(path.join(x, 'evidence/state/.env'))).toEqual(readFileSync(path.join(stateDir, '.env')))
    expect(readFileSync(path.join(x, 'evidence/state/openclaw.json'))).toEqual(
      readFileSync(path.join(stateDir, 'openclaw.json')),
    )
    expect(readFileSync(path.join(x, `evidence/state/agents/main/sessions/${SESSION_A}.jsonl`))).toEqual(
      readFileSync(path.join(stateDir, `agents/main/sessions/${SESSION_A}.jsonl`)),
    )
    expect(readFileSync(path.join(x, 'findings/report.md'), 'utf8')).toContain('**included**')
  })

  it('narrows by --since: old files are skipped, a big log is read from the first line at or after the time', async () => {
    // Given a log of 4000 lines over 40 days, and an old transcript
    const env = setup()
    const {stateDir} = fileEraState(env.root)
    const lines: string[] = []
    for (let i = 0; i < 4000; i++) {
      const t = new Date(Date.parse('2026-10-10T00:00:00Z') + i * 864_000).toISOString()
      lines.push(JSON.stringify({0: `line ${i}`, _meta: {date: t}, time: t}))
    }
    const big = path.join(stateDir, 'logs', 'gateway-big.log')
    writeFileSync(big, lines.join('\n') + '\n')
    utimesSync(big, T_NEW, T_NEW)
    const since = '2026-11-15T00:00:00Z'
    // When collected with --since and a small trim threshold
    const r = await run(stateDir, env, {since, seams: {trimMinBytes: 1000}})
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    const items = caseJson(x).items
    // Then the old .reset transcript is skipped with the reason, and the log starts at the first line ≥ since
    expect(item(items, '.jsonl.reset.2026-11-17T09-00-00.000Z')).toMatchObject({
      outcome: 'skipped',
      reason: `not modified since 2026-11-15T00:00:00.000Z (--since)`,
    })
    const log = item(items, 'logs/gateway-big.log')!
    expect(log.range?.start).toBeGreaterThan(0)
    const copied = readFileSync(path.join(x, 'evidence/state/logs/gateway-big.log'), 'utf8').trim().split('\n')
    const first = JSON.parse(copied[0]!) as {time: string}
    expect(Date.parse(first.time)).toBe(Date.parse(since))
    expect(copied.length).toBe(
      lines.filter((l) => Date.parse((JSON.parse(l) as {time: string}).time) >= Date.parse(since)).length,
    )
    expect(log.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(path.join(x, 'evidence/state/logs/gateway-big.log')))
        .digest('hex'),
    )
    // config and secret stores are never narrowed
    expect(item(items, 'state/openclaw.json')).toMatchObject({outcome: 'collected'})
  })

  it('records a file that vanishes mid-run as missing and still seals a verified bundle', async () => {
    const env = setup()
    const {stateDir} = fileEraState(env.root)
    const victim = path.join(stateDir, 'workspace', 'SOUL.md')
    const r = await run(stateDir, env, {
      seams: {
        afterSource: (src) => {
          if (src.rel === 'cron/jobs.json') rmSync(victim)
        },
      },
    })
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    expect(item(caseJson(x).items, 'workspace/SOUL.md')).toMatchObject({
      outcome: 'missing',
      reason: 'vanished before it could be read',
    })
    expect(r.verified).toBe(true)
  })

  it('resumes an interrupted case without reading already-copied files again', async () => {
    // Given a run interrupted (Ctrl-C) after the first transcript was copied
    const env = setup()
    const {stateDir} = fileEraState(env.root)
    const ac = new AbortController()
    const live = path.join(stateDir, 'agents/main/sessions', `${SESSION_A}.jsonl`)
    const first = run(stateDir, env, {
      caseId: 'IR-resume-test',
      signal: ac.signal,
      seams: {
        batchFiles: 1,
        afterSource: (src) => {
          if (src.path === live) ac.abort()
        },
      },
    })
    await expect(first).rejects.toMatchObject({code: 'INTERRUPTED', exitCode: 4})
    expect(existsSync(env.out) ? readdirSync(env.out) : []).toEqual([])
    // When the transcript is rewritten with the same size and mtime (so a re-read would show), and the case re-run
    const original = readFileSync(live)
    const st = statSync(live)
    writeFileSync(live, Buffer.alloc(original.length, 0x20))
    utimesSync(live, st.atime, st.mtime)
    const r = await run(stateDir, env, {caseId: 'IR-resume-test'})
    // Then the bundle holds the bytes hashed by the first run: the file was not read again
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    const rec = item(caseJson(x).items, `${SESSION_A}.jsonl`)!
    expect(rec.resumed).toBe(true)
    expect(rec.sha256).toBe(createHash('sha256').update(original).digest('hex'))
    expect(r.verified).toBe(true)
    // And the journal holds both runs, chained
    const journal = readFileSync(path.join(x, 'journal.jsonl'), 'utf8')
    expect(journal).toContain('interrupted')
    expect((await verifyBundle(r.bundle)).ok).toBe(true)
  })

  it('does a dry run without copying anything', async () => {
    const env = setup()
    const {stateDir} = fileEraState(env.root)
    const r = await run(stateDir, env, {dryRun: true})
    expect(r.steps.map((s) => s.status)).toEqual(['planned', 'planned', 'planned', 'planned', 'planned'])
    expect(r.steps[0]!.detail).toMatch(/source\(s\)/)
    expect(existsSync(env.out)).toBe(false)
  })
})

describe('ir collect on a SQLite-era state dir (2026.9.6 schema)', () => {
  it('copies stores raw, backs them up from the copy, exports every transcript event, masks secrets, changes nothing', async () => {
    // Given stores with a zstd row, a row only in the -wal, a device token and an unredacted prompt
    const env = setup()
    const s = sqliteEraState(env.root)
    expect(statSync(`${s.agentDb}-wal`).size).toBeGreaterThan(0)
    const before = snapshot(s.stateDir)

    // When collected
    const r = await run(s.stateDir, env)
    expect(r.verified).toBe(true)
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    const c = caseJson(x)
    expect(c.install.era).toBe('sqlite')

    // Then the raw store set is hashed (metadata only by default) and the consistent backup is bundled
    expect(item(c.items, 'agent/openclaw-agent.sqlite')).toMatchObject({
      outcome: 'skipped',
      method: 'metadata',
      sha256: sha(s.agentDb),
    })
    expect(item(c.items, 'agent/openclaw-agent.sqlite-wal')).toMatchObject({
      outcome: 'skipped',
      method: 'metadata',
      sha256: sha(`${s.agentDb}-wal`),
    })
    const backup = path.join(x, 'derived/sqlite/state/agents/main/agent/openclaw-agent.sqlite')
    const db = new Database(backup, {readonly: true})
    try {
      expect(db.pragma('integrity_check', {simple: true})).toBe('ok')
      expect(db.pragma('journal_mode', {simple: true})).toBe('delete')
      // the WAL row is in the backup
      expect(db.prepare('SELECT count(*) AS n FROM transcript_events WHERE session_id = ?').get(SESSION_B)).toEqual({
        n: s.counts[SESSION_B],
      })
    } finally {
      db.close()
    }
    // And each session's export has exactly the store's event count, the zstd row decoded
    for (const [id, n] of Object.entries(s.counts)) {
      const lines = readFileSync(path.join(x, `derived/transcripts/main/${id}.jsonl`), 'utf8')
        .trim()
        .split('\n')
      expect(lines.length, id).toBe(n)
      for (const l of lines) JSON.parse(l)
    }
    expect(readFileSync(path.join(x, `derived/transcripts/main/${SESSION_A}.jsonl`), 'utf8')).toContain(
      'compressed row with ghp_',
    )
    expect(readFileSync(path.join(x, `derived/transcripts/main/${SESSION_B}.jsonl`), 'utf8')).toContain(
      'row only in the WAL',
    )

    // And findings come from the store (injection in the transcript, the unredacted task prompt)
    expect(r.findings.some((f) => f.category === 'prompt-injection' && f.source.sessionId === SESSION_A)).toBe(true)
    expect(r.findings.some((f) => f.source.table === 'task_runs')).toBe(true)

    // And no planted secret is in clear in any bundled byte (SQLite files included), nor left in the case dir
    // (the unredacted backups of the scratch dir are gone with it)
    expect(filesContaining(x, Object.values(SECRETS))).toEqual([])
    expect(filesContaining(path.join(env.irHome, 'cases', r.case), Object.values(SECRETS))).toEqual([])

    // And the source is untouched: no -wal/-shm created or changed, no mtime moved
    expect(withoutDirAtimes(snapshot(s.stateDir))).toEqual(withoutDirAtimes(before))
  })

  it('keeps the raw store set byte-exact with --include-secrets', async () => {
    const env = setup()
    const s = sqliteEraState(env.root)
    // (stores finished on this thread here: the other tests cover the worker thread)
    const r = await run(s.stateDir, env, {includeSecrets: true, seams: {storesInThread: true}})
    const x = extract(r.bundle)
    roots.push(path.dirname(x))
    for (const f of ['', '-wal']) {
      expect(readFileSync(path.join(x, `evidence/state/agents/main/agent/openclaw-agent.sqlite${f}`))).toEqual(
        readFileSync(`${s.agentDb}${f}`),
      )
    }
    expect(readFileSync(path.join(x, `derived/transcripts/main/${SESSION_A}.jsonl`), 'utf8')).toContain(
      SECRETS.sqliteUserSecret,
    )
  })

  it('collects a consistent copy while a writer holds the store and keeps writing', async () => {
    // Given a gateway-like writer with an open transaction lock and rows arriving
    const env = setup()
    const s = sqliteEraState(env.root)
    const w = new Database(s.agentDb)
    w.pragma('journal_mode = WAL')
    w.pragma('wal_autocheckpoint = 0')
    let seq = 1000
    const insert = () =>
      w
        .prepare('INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?,?,?,?)')
        .run(
          SESSION_A,
          seq++,
          JSON.stringify({type: 'message', id: `r${seq}`, message: {role: 'assistant', content: 'x'.repeat(2000)}}),
          Date.now(),
        )
    const timer = setInterval(() => {
      for (let i = 0; i < 5; i++) insert()
    }, 5)
    const locker = new Database(s.stateDb)
    locker.exec('BEGIN EXCLUSIVE')
    try {
      // When collected
      const r = await run(s.stateDir, env)
      // Then the bundle verifies and the backup is a sound database
      expect(r.verified).toBe(true)
      const x = extract(r.bundle)
      roots.push(path.dirname(x))
      for (const f of [
        'derived/sqlite/state/agents/main/agent/openclaw-agent.sqlite',
        'derived/sqlite/state/state/openclaw.sqlite',
      ]) {
        const db = new Database(path.join(x, f), {readonly: true})
        try {
          expect(db.pragma('integrity_check', {simple: true})).toBe('ok')
        } finally {
          db.close()
        }
      }
      const c = caseJson(x)
      const exported = readFileSync(path.join(x, `derived/transcripts/main/${SESSION_A}.jsonl`), 'utf8')
        .trim()
        .split('\n').length
      const backup = new Database(path.join(x, 'derived/sqlite/state/agents/main/agent/openclaw-agent.sqlite'), {
        readonly: true,
      })
      expect(backup.prepare('SELECT count(*) AS n FROM transcript_events WHERE session_id = ?').get(SESSION_A)).toEqual(
        {n: exported},
      )
      backup.close()
      expect(c.items.some((i) => i.changedDuringCopy) || exported > s.counts[SESSION_A]!).toBe(true)
    } finally {
      clearInterval(timer)
      locker.exec('ROLLBACK')
      locker.close()
      w.close()
    }
  })
})

describe('ir collect on a full output disk', () => {
  const canMount = (() => {
    if (process.getuid?.() !== 0) return false
    const d = tmp('ir-ev-mnt-')
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d], {stdio: 'ignore'})
      execFileSync('umount', [d])
      return true
    } catch {
      return false
    } finally {
      rmSync(d, {recursive: true, force: true})
    }
  })()

  it.skipIf(!canMount)(
    'fails with a clear error, leaves no bundle under its name, and resumes on a bigger disk',
    async () => {
      // Given --out on a 64 KiB filesystem
      const env = setup()
      const {stateDir} = fileEraState(env.root)
      const padding = path.join(stateDir, 'workspace', 'big.md')
      writeFileSync(
        padding,
        Array.from(
          {length: 20_000},
          (_, i) => `line ${i} ${createHash('sha256').update(String(i)).digest('hex')}`,
        ).join('\n'),
      )
      const small = path.join(env.root, 'small')
      mkdirSync(small)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small])
      try {
        // When collected there
        const failed = run(stateDir, {...env, out: small}, {caseId: 'IR-disk-full'})
        // Then: a DISK_FULL error naming the fix, and nothing left in --out
        await expect(failed).rejects.toMatchObject({code: 'DISK_FULL'})
        expect(readdirSync(small)).toEqual([])
      } finally {
        execFileSync('umount', [small])
      }
      // And a rerun with the same case on a bigger disk reuses the copies
      const r = await run(stateDir, env, {caseId: 'IR-disk-full'})
      expect(r.verified).toBe(true)
      const x = extract(r.bundle)
      roots.push(path.dirname(x))
      expect(caseJson(x).summary.resumed).toBeGreaterThan(0)
    },
  )
})

function sha(file: string): string {
  return createHash('sha256').update(readNoAtime(file)).digest('hex')
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
