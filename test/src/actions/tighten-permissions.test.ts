import {chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {tightenPermissions} from '../../../src/actions/tighten-permissions.js'
import {readChanges, undoChanges} from '../../../src/case/case-store.js'
import {sqliteEraStateDir} from '../../fixtures/state-dirs.js'
import {tempDir} from '../../helpers/temp.js'
import {contextFor} from './contain-helpers.js'

const mode = (p: string) => statSync(p).mode & 0o777
const params = tightenPermissions.params.parse({})

describe('tighten-permissions', () => {
  it('removes group/world access from state dir, config, credentials, agent stores; records each mode; undo restores', async () => {
    // Given a SQLite-era state dir left wide open (the weak case of openclaw-live.md §6)
    const state = sqliteEraStateDir(tempDir('ir-perm-'))
    const config = path.join(state, 'openclaw.json')
    mkdirSync(path.join(state, 'credentials'))
    writeFileSync(path.join(state, 'credentials', 'telegram-allowFrom.json'), '{}')
    writeFileSync(`${config}.bak`, '{"gateway": {"auth": {"token": "old"}}}')
    const store = path.join(state, 'agents', 'main', 'agent', 'openclaw-agent.sqlite')
    for (const [p, m] of [
      [state, 0o777],
      [config, 0o644],
      [`${config}.bak`, 0o644],
      [path.join(state, 'credentials'), 0o755],
      [path.join(state, 'credentials', 'telegram-allowFrom.json'), 0o644],
      [store, 0o644],
      [path.join(state, 'agents'), 0o755],
    ] as const)
      chmodSync(p, m)
    const ctx = contextFor(state)
    // When planned
    const plan = await tightenPermissions.plan(ctx, params)
    // Then the plan lists every chmod with the mode it replaces
    expect(plan.lines).toContain(`chmod 700 ${state}   (now 777)`)
    expect(plan.lines).toContain(`chmod 600 ${config}   (now 644)`)
    expect(plan.lines).toContain(`chmod 600 ${config}.bak   (now 644)`)
    expect(plan.lines).toContain(`chmod 600 ${store}   (now 644)`)
    // When applied and verified
    const applied = await tightenPermissions.apply(ctx, params, plan)
    const verdict = await tightenPermissions.verify!(ctx, params, plan, applied)
    // Then modes are 700/600 and the before/after of each is in the case
    expect([
      mode(state),
      mode(config),
      mode(path.join(state, 'credentials')),
      mode(path.join(state, 'credentials', 'telegram-allowFrom.json')),
      mode(store),
    ]).toEqual([0o700, 0o600, 0o700, 0o600, 0o600])
    expect(verdict.ok).toBe(true)
    expect(readChanges(ctx.case).find((c) => c.path === state)).toMatchObject({
      kind: 'mode',
      modeBefore: 0o777,
      modeAfter: 0o700,
      step: 'permissions',
    })
    // And undo puts every mode back
    undoChanges(ctx.case)
    expect([mode(state), mode(config), mode(store)]).toEqual([0o777, 0o644, 0o644])
  })

  it('only removes bits: a read-only config stays read-only, and symlinks are never followed', async () => {
    // Given a 0400 config and a symlink in credentials/ pointing outside the state dir
    const state = tempDir('ir-perm-')
    chmodSync(state, 0o700)
    writeFileSync(path.join(state, 'openclaw.json'), '{}', {mode: 0o400})
    const outside = path.join(tempDir('ir-outside-'), 'secret.json')
    writeFileSync(outside, '{}', {mode: 0o644})
    mkdirSync(path.join(state, 'credentials'), {mode: 0o700})
    symlinkSync(outside, path.join(state, 'credentials', 'link.json'))
    const ctx = contextFor(state)
    // When planned
    const plan = await tightenPermissions.plan(ctx, params)
    // Then nothing is to change, the link is reported and its target untouched
    expect(plan.noop).toBe(true)
    expect(plan.lines).toEqual([`left alone: ${path.join(state, 'credentials', 'link.json')} (symlink, not followed)`])
    expect(mode(outside)).toBe(0o644)
    expect(mode(path.join(state, 'openclaw.json'))).toBe(0o400)
  })
})
