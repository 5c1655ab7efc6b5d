import {appendFileSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'

import {collectUnder, extract, fileEraState, filesContaining, SESSION_A, sqliteEraState, tmp} from './helpers.js'

// Secrets as a new user's trial left them, none known to the install's config: a gateway token pasted
// JSON-escaped into a tool result, a password in prose, a GitHub token of a length the exact rule does not
// match (in a transcript and in a task_runs row). None may stay in clear anywhere ir wrote: the bundle's
// members, the case dir, the scratch dir; placeholders stay as they were.

const GATEWAY = 'trialGWtok-9f8e7d6c5b4a39281706f5e4'
const PASSWORD = 'Zq8#vLp2!rT9wXy4'
const GITHUB = 'ghp_TRIALabcdefghijklmnopqrstuvwxyz0123'
const CLEAR = [GATEWAY, PASSWORD, GITHUB]
const PLACEHOLDERS = 'password: <your-password> and passwd=${DB_PASS}'

const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, {recursive: true, force: true})
})

/** A tool result holding the pasted token (JSON inside the text), the password, the GitHub token and placeholders. */
function toolResult(seq: number): Record<string, unknown> {
  return {
    type: 'message',
    id: `t000000${seq}`,
    timestamp: '2026-11-19T08:01:00.000Z',
    message: {
      role: 'toolResult',
      toolCallId: 'call_9',
      toolName: 'read',
      content: [
        {
          type: 'text',
          text: `config dump: {"token":"${GATEWAY}"}\ndb password: ${PASSWORD}\ngh ${GITHUB}\n${PLACEHOLDERS}`,
        },
      ],
      isError: false,
    },
  }
}

/** Every file under root but the install's own (the bundle extracted, the case dir, out, scratch). */
function clearOutsideState(root: string, stateDir: string, bundle: string): Array<{file: string; value: string}> {
  const state = path.relative(root, stateDir)
  return [
    ...filesContaining(root, CLEAR).filter((h) => !h.file.startsWith(`${state}/`)),
    ...filesContaining(extract(bundle), CLEAR),
  ]
}

describe('ir collect masks what a new user pastes, as ir scan finds it', () => {
  it('file era: JSON-escaped token, prose password and a GitHub token are masked in the transcript copy', async () => {
    // Given a file-era install whose transcript holds the trial's tool result
    const root = tmp()
    roots.push(root)
    const s = fileEraState(root)
    const file = path.join(s.stateDir, 'agents', 'main', 'sessions', `${SESSION_A}.jsonl`)
    appendFileSync(file, JSON.stringify(toolResult(1)) + '\n')
    expect(readFileSync(file, 'utf8')).toContain(`{\\"token\\":\\"${GATEWAY}\\"}`)

    // When it is collected with the defaults
    const r = await collectUnder(root, s.stateDir)

    // Then the bundle verifies, and no value is in clear in it nor in anything else ir wrote
    expect(r.verified).toBe(true)
    expect(clearOutsideState(root, s.stateDir, r.bundle)).toEqual([])
    // and the transcript copy keeps its shape: marks where the secrets were, placeholders as they were
    const copy = readFileSync(path.join(extract(r.bundle), `evidence/state/agents/main/sessions/${SESSION_A}.jsonl`))
    const event = copy
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {id?: string; message?: {content?: Array<{text?: string}>}})
      .find((e) => e.id === 't0000001')
    const text = event?.message?.content?.[0]?.text ?? ''
    expect(text).toMatch(/\{"token":"tria…«sha256:[0-9a-f]{12}»"\}/)
    expect(text).toMatch(/db password: Zq8#…«sha256:[0-9a-f]{12}»/)
    expect(text).toMatch(/gh ghp_…«sha256:[0-9a-f]{12}»/)
    expect(text).toContain(PLACEHOLDERS)
  })

  it('SQLite era: the same in a transcript row, and the GitHub token in a task_runs row of the backup', async () => {
    // Given a SQLite-era install with the tool result in its agent store and the token in a task's prompt
    const root = tmp()
    roots.push(root)
    const s = sqliteEraState(root)
    const db = new Database(s.agentDb)
    db.prepare('INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?,?,?,?)').run(
      SESSION_A,
      600,
      JSON.stringify(toolResult(2)),
      1795600060000,
    )
    db.close()
    const st = new Database(s.stateDb)
    st.prepare(
      `INSERT INTO task_runs (task_id, runtime, owner_key, scope_kind, task, status, delivery_status, notify_policy,
       created_at) VALUES ('t9','agent','main','session',?,'done','none','silent',1795600000000)`,
    ).run(`push with ${GITHUB} then ${PLACEHOLDERS}`)
    st.pragma('wal_checkpoint(TRUNCATE)')
    st.close()

    // When it is collected with the defaults
    const r = await collectUnder(root, s.stateDir)

    // Then no value is in clear in the bundle (the redacted backups included) nor in anything else ir wrote
    expect(r.verified).toBe(true)
    expect(clearOutsideState(root, s.stateDir, r.bundle)).toEqual([])
    // and the task row of the redacted backup keeps its text around the mark
    const x = extract(r.bundle)
    const backup = new Database(path.join(x, 'derived/sqlite/state/state/openclaw.sqlite'), {readonly: true})
    const task = backup.prepare("SELECT task FROM task_runs WHERE task_id = 't9'").get() as {task: string}
    backup.close()
    expect(task.task).toMatch(/^push with ghp_…«sha256:[0-9a-f]{12}» then /)
    expect(task.task).toContain(PLACEHOLDERS)
  })
})
