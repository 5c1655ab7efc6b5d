import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {open} from 'node:fs/promises'
import path from 'node:path'

import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'

import {loadRules} from '../../../src/detect/rules.js'
import {lineTime, offsetSince} from '../../../src/evidence/acquire.js'
import {BundleFormatError, readTar} from '../../../src/evidence/bundle-read.js'
import {manifestText, parseManifest} from '../../../src/evidence/manifest.js'
import {evidencePath, safeName} from '../../../src/evidence/bundle-paths.js'
import {classify, directoryRule} from '../../../src/evidence/policy.js'
import {Redactor} from '../../../src/evidence/redact.js'
import {envSecretValues, KnownSecrets, maskConfigText, maskJsonText} from '../../../src/evidence/secret-values.js'
import {readReusing, sourceError} from '../../../src/evidence/source-io.js'
import {knownValuesIn, redactStore} from '../../../src/evidence/sqlite.js'
import {tmp} from './helpers.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

async function redactor(known: string[] = []): Promise<Redactor> {
  const k = new KnownSecrets()
  k.add(known)
  return new Redactor((await loadRules([])).rules, k)
}

describe('bundle names', () => {
  it('keeps printable ASCII and percent-encodes what sha256sum -c would escape', () => {
    expect(safeName('agents/main/sessions/a b.jsonl')).toBe('agents/main/sessions/a b.jsonl')
    expect(safeName('we\\ird\nname%é')).toBe('we%5Cird%0Aname%25%C3%A9')
    expect(evidencePath('/s/agents/x.jsonl', '/s')).toBe('evidence/state/agents/x.jsonl')
    expect(evidencePath('/tmp/openclaw/openclaw-2026-11-20.log', '/s')).toBe(
      'evidence/external/tmp/openclaw/openclaw-2026-11-20.log',
    )
  })
})

describe('collection policy', () => {
  it.each([
    ['openclaw.json', true, 'masked-config'],
    ['.env', false, 'metadata'],
    ['credentials/telegram-allowFrom.json', false, 'masked-json'],
    ['credentials/whatsapp/default/creds.json', false, 'metadata'],
    ['devices/paired.json', false, 'masked-json'],
    ['identity/device.json', false, 'metadata'],
    ['agents/main/agent/auth-profiles.json', false, 'metadata'],
    ['agents/main/agent/openclaw-agent.sqlite', false, 'sqlite'],
    ['agents/main/agent/openclaw-agent.sqlite-wal', false, 'sqlite'],
    ['agents/main/agent/openclaw-agent.sqlite.generation-lock.sqlite', false, 'copy'],
    ['agents/main/sessions/abc.jsonl.deleted.2026-11-18T09-00-00.000Z', false, 'copy'],
    ['agents/main/sessions/abc.jsonl.zst', false, 'zst'],
    ['logs/config-audit.jsonl', false, 'copy'],
    ['workspace/SOUL.md', false, 'copy'],
  ])('%s → %s', (rel, isConfig, policy) => {
    expect(classify(rel, isConfig).policy).toBe(policy)
  })

  it('skips directories that are not evidence, and secret ones unless asked', () => {
    expect(directoryRule('skills/x/node_modules', 'node_modules')?.secret).toBeFalsy()
    expect(directoryRule('browser/default/user-data', 'user-data')?.secret).toBe(true)
    expect(directoryRule('agents/main/sessions', 'sessions')).toBeUndefined()
  })
})

describe('secret masking', () => {
  it('masks a JSON5 config: values of secret keys, whatever their length, comments kept', () => {
    const text = `// comment kept\n{\n  gateway: {auth: {token: "tok-0123456789abcdef"}},\n  channels: {x: {password: 'hunter2'}},\n  other: "tok-0123456789abcdef appears here too",\n}\n`
    const m = maskConfigText(text)
    expect(m.text).toContain('// comment kept')
    expect(m.text).not.toContain('tok-0123456789abcdef')
    expect(m.text).not.toContain('hunter2')
    expect(m.values).toEqual(expect.arrayContaining(['tok-0123456789abcdef', 'hunter2']))
    expect(m.count).toBeGreaterThanOrEqual(3)
  })

  it('masks a config that does not parse, line by line', () => {
    const m = maskConfigText('{ gateway: { auth: { token: "tok-abcdef0123456789" } ')
    expect(m.unparsed).toBe(true)
    expect(m.text).not.toContain('tok-abcdef0123456789')
  })

  it('keeps the structure of JSON stores and masks random tokens', () => {
    const m = maskJsonText(
      JSON.stringify({devices: [{id: 'dev-1', scopes: ['operator.admin'], token: 'dvc_0123456789abcdefABCDEF'}]}),
    )
    expect(m.text).toContain('operator.admin')
    expect(m.text).not.toContain('dvc_0123456789abcdefABCDEF')
  })

  it('reads secrets of .env files and unit files', () => {
    expect(
      envSecretValues('OPENAI_API_KEY=sk-abc123def456\nexport GITHUB_TOKEN="ghp_x1y2z3"\nLOG_LEVEL=info\n'),
    ).toEqual(['sk-abc123def456', 'ghp_x1y2z3'])
    expect(envSecretValues('Environment="OPENCLAW_GATEWAY_TOKEN=tok-1234567890" "HOME=/x"')).toEqual(['tok-1234567890'])
  })
})

describe('streaming redaction', () => {
  it('masks a known value and rule-recognized secrets split across chunks; untouched bytes pass through', async () => {
    const r = await redactor(['tok-KNOWN-0123456789abcdef'])
    const line1 = '{"text":"clean line"}\n'
    const line2 = '{"text":"token tok-KNOWN-0123456789abcdef and ghp_AbCdEf0123456789AbCdEf0123456789AbCd"}\n'
    const all = Buffer.from(line1 + line2 + line1)
    const out: Buffer[] = []
    const lr = r.stream()
    for (let i = 0; i < all.length; i += 7) out.push(...lr.push(all.subarray(i, i + 7)))
    out.push(...lr.end())
    const text = Buffer.concat(out).toString('utf8')
    expect(text).not.toContain('tok-KNOWN-0123456789abcdef')
    expect(text).not.toContain('ghp_AbCdEf0123456789AbCdEf0123456789AbCd')
    expect(text).toMatch(/tok-…«sha256:[0-9a-f]{12}»/)
    expect(text.startsWith(line1)).toBe(true)
    expect(text.endsWith(line1)).toBe(true)
    expect(lr.count).toBe(2)
    // nothing to mask: the same bytes come back
    const clean = Buffer.from(line1.repeat(3))
    const lr2 = r.stream()
    expect(Buffer.concat([...lr2.push(clean), ...lr2.end()])).toEqual(clean)
  })

  it('also finds a known value in its JSON-escaped form', async () => {
    const r = await redactor(['pa"ss\\word-0123456789'])
    expect(r.redactText(JSON.stringify({v: 'pa"ss\\word-0123456789'})).count).toBe(1)
  })

  it('does not mask names that the generic keyword=value rule matches', async () => {
    const r = await redactor()
    expect(
      r.redactText(
        '{"skillKey":"browser-automation","packageName":"@openclaw/onepassword","packageVersion":"2026.9.6"}',
      ).count,
    ).toBe(0)
  })

  it('masks prose passwords but keeps placeholders and plain words', async () => {
    const r = await redactor()
    // Given passwords written as prose or as a key, in text and in JSON
    const lines = [
      'db password: Zq8#vLp2!rT9wXy4',
      'PASSWD=hunter22',
      'the secret is s3cr3t-Val',
      '{"password":"hunter22"}',
    ]
    // Then each value is masked, the key kept
    for (const l of lines) {
      const out = r.redactText(l).text
      expect(out, l).toMatch(/«sha256:[0-9a-f]{12}»/)
      expect(out, l).not.toMatch(/Zq8#vLp2!rT9wXy4|hunter22|s3cr3t-Val/)
    }
    // And placeholders, words after `is` and already masked values stay as they are
    const kept = [
      'password: <your-password>',
      'passwd=${DB_PASS}',
      'password=$DB_PASSWORD',
      'password: xxxx',
      'password: changeme',
      'secret: your-secret-key',
      'the secret is that we never',
      '"passwordHash": "abc"',
      'db password: Zq8#…«sha256:20b897e809a6»',
    ]
    for (const l of kept) expect(r.redactText(l).text, l).toBe(l)
  })

  it('masks a well-known token prefix of any length, and not an id that only looks random', async () => {
    const r = await redactor()
    const out = r.redactText(
      'gh ghp_TRIALabcdefghijklmnopqrstuvwxyz0123 xoxb-FAKE0123456789abcdefgh sess 8555a0a4-0b79-459d',
    ).text
    expect(out).toMatch(/^gh ghp_…«sha256:[0-9a-f]{12}» xoxb…«sha256:[0-9a-f]{12}» sess 8555a0a4-0b79-459d$/)
  })

  it('masks what the rules find behind JSON-escaped quotes, once or twice escaped, in linear time', async () => {
    const r = await redactor()
    const inner = '{"token":"trialGWtok-9f8e7d6c5b4a39281706f5e4"}'
    // Given the token in a JSON string, and in a JSON string inside a JSON string
    for (const line of [JSON.stringify({text: inner}), JSON.stringify({m: JSON.stringify({text: inner})})]) {
      const out = r.redactText(line)
      // Then it is masked and the line is still the same JSON around the mark
      expect(out.text).not.toContain('trialGWtok-9f8e7d6c5b4a39281706f5e4')
      expect(() => JSON.parse(out.text)).not.toThrow()
      expect(out.count).toBeGreaterThan(0)
    }
    // And hostile lines (MiBs of escaped quotes, keys and separators) end, with every value masked
    const hostile = ['\\"password\\":'.repeat(1 << 16), 'password: '.repeat(1 << 17), 'ghp_'.repeat(1 << 18)]
    for (const h of hostile) expect(r.redactText(`{"t":"${h}"}`).text.length).toBeGreaterThan(0)
  })
})

describe('--since on big logs', () => {
  it('finds the first line at or after the time by binary search, or gives up on lines without time', async () => {
    const dir = tmp()
    dirs.push(dir)
    const f = path.join(dir, 'a.log')
    const lines = Array.from({length: 1000}, (_, i) =>
      JSON.stringify({time: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(), i}),
    )
    writeFileSync(f, lines.join('\n') + '\n')
    const fh = await open(f, 'r')
    try {
      const size = (await fh.stat()).size
      const off = await offsetSince(fh, size, new Date(Date.UTC(2026, 10, 1) + 500 * 60_000 + 1))
      expect(readFileSync(f).subarray(off).toString().split('\n')[0]).toBe(lines[501])
      expect(await offsetSince(fh, size, new Date(Date.UTC(2020, 0, 1)))).toBe(0)
      expect(await offsetSince(fh, size, new Date(Date.UTC(2030, 0, 1)))).toBe(size)
    } finally {
      await fh.close()
    }
    writeFileSync(f, 'plain\ntext\n')
    const fh2 = await open(f, 'r')
    expect(await offsetSince(fh2, 11, new Date())).toBeUndefined()
    await fh2.close()
    expect(lineTime('{"_meta":{"date":"2026-11-19T07:57:00.000Z"}}')).toBe(Date.parse('2026-11-19T07:57:00.000Z'))
    expect(lineTime('2026-11-19T07:57:00Z gateway started')).toBe(Date.parse('2026-11-19T07:57:00Z'))
  })
})

describe('manifest and tar reader', () => {
  it('writes sha256sum lines and reports malformed ones', () => {
    const text = manifestText([
      {bundlePath: 'b', sha256: 'b'.repeat(64)},
      {bundlePath: 'a', sha256: 'a'.repeat(64)},
    ])
    expect(text).toBe(`${'a'.repeat(64)}  a\n${'b'.repeat(64)}  b\n`)
    const p = parseManifest(`${text}garbage\n`)
    expect(p.entries.size).toBe(2)
    expect(p.problems).toEqual([{line: 3, problem: 'not a "<sha256>  <path>" line'}])
  })

  it('rejects a tar header whose checksum does not match', async () => {
    const h = Buffer.alloc(512)
    h.write('x.txt')
    h.write('0000000', 124)
    h.write('0000000', 148)
    async function* src() {
      yield h
    }
    await expect(readTar(src(), async () => undefined)).rejects.toBeInstanceOf(BundleFormatError)
  })
})

describe('source errors', () => {
  it('maps read errors to item outcomes', () => {
    expect(sourceError(Object.assign(new Error('x'), {code: 'ENOENT'})).outcome).toBe('missing')
    expect(sourceError(Object.assign(new Error('x'), {code: 'EACCES'}))).toMatchObject({
      outcome: 'failed',
      message: 'not readable by this user (EACCES)',
    })
    expect(sourceError(Object.assign(new Error('x'), {code: 'ELOOP'})).outcome).toBe('skipped')
  })
})

describe('reads that reuse one buffer', () => {
  it('gives the range in chunks of one buffer, each valid until the next is read', async () => {
    // Given a file of 10 KiB
    const dir = tmp()
    const file = path.join(dir, 'f')
    const data = Buffer.from(Array.from({length: 10_240}, (_, i) => i % 251))
    writeFileSync(file, data)
    const fh = await open(file, 'r')
    try {
      // When [100, 9000) is read in 4 KiB chunks, each copied out before the next read
      const parts: Buffer[] = []
      const buffers = new Set<ArrayBufferLike>()
      for await (const c of readReusing(fh, 100, 9000, 4096)) {
        buffers.add(c.buffer)
        parts.push(Buffer.from(c))
      }
      // Then the chunks are that range, read into one buffer
      expect(Buffer.concat(parts).equals(data.subarray(100, 9000))).toBe(true)
      expect(parts.map((p) => p.length)).toEqual([4096, 4096, 708])
      expect(buffers.size).toBe(1)
    } finally {
      await fh.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('finds a known value across a chunk boundary and hashes the whole file', async () => {
    // Given a file where a known value straddles the 4 KiB boundary, and one without it
    const dir = tmp()
    const value = 'sk-live-0123456789abcdefghij'
    const hit = path.join(dir, 'hit')
    writeFileSync(hit, `${'x'.repeat(4096 - 10)}${value}${'y'.repeat(5000)}`)
    const miss = path.join(dir, 'miss')
    writeFileSync(miss, 'z'.repeat(9000))
    const known = new KnownSecrets()
    known.add([value])
    try {
      // When both are checked in 4 KiB chunks
      const a = await knownValuesIn(hit, known, 4096)
      const b = await knownValuesIn(miss, known, 4096)
      // Then the value is found (by its length only) where it is, and each hash is the file's
      expect(a.found).toBe(`${value.length} bytes long`)
      expect(a.sha256).toBe(createHash('sha256').update(readFileSync(hit)).digest('hex'))
      expect(b.found).toBeUndefined()
      expect(b.size).toBe(9000)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('SQLite redaction', () => {
  it('masks text cells and FTS5 content, keeps triggers, leaves no old bytes (nor deleted rows) in the file', async () => {
    const dir = tmp()
    dirs.push(dir)
    mkdirSync(dir, {recursive: true})
    const f = path.join(dir, 'x.sqlite')
    const secret = 'ghp_AbCdEf0123456789AbCdEf0123456789AbCd'
    const db = new Database(f)
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT, n INTEGER);
      CREATE TABLE log (msg TEXT);
      CREATE TRIGGER t_upd AFTER UPDATE ON t BEGIN INSERT INTO log VALUES ('updated'); END;
      CREATE VIRTUAL TABLE fts USING fts5(text);
      CREATE TABLE w (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;`)
    db.prepare('INSERT INTO t (body, n) VALUES (?, 1)').run(`hello ${secret}`)
    db.prepare('INSERT INTO fts (text) VALUES (?)').run(`indexed ${secret}`)
    db.prepare('INSERT INTO w VALUES (?, ?)').run('k1', `v ${secret}`)
    // a row the application deleted: its bytes stay in the file's slack space
    db.pragma('secure_delete = OFF')
    const deleted = 'ghp_DeLeTeD0123456789DeLeTeD0123456789AB'
    db.prepare('INSERT INTO log VALUES (?)').run(`old ${deleted} ${'x'.repeat(3000)}`)
    db.prepare('DELETE FROM log').run()
    db.close()
    expect(readFileSync(f).includes(Buffer.from('DeLeTeD0123456789DeLeTeD'))).toBe(true)
    const r = redactStore(f, await redactor())
    expect(r.count).toBe(3)
    expect(readFileSync(f).includes(Buffer.from('AbCdEf0123456789AbCdEf0123456789'))).toBe(false)
    expect(readFileSync(f).includes(Buffer.from('DeLeTeD0123456789DeLeTeD'))).toBe(false)
    const after = new Database(f, {readonly: true})
    try {
      expect((after.prepare('SELECT body FROM t').get() as {body: string}).body).toMatch(/^hello ghp_…«sha256:/)
      expect(after.prepare('SELECT count(*) AS n FROM log').get()).toEqual({n: 0})
      expect(after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger'").get()).toEqual({n: 1})
      expect(after.prepare("SELECT count(*) AS n FROM fts WHERE fts MATCH 'indexed'").get()).toEqual({n: 1})
    } finally {
      after.close()
    }
  })
})
