import {mkdirSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {persistenceChanges} from '../../../src/openclaw/persistence.js'
import {tempDir} from '../../helpers/temp.js'

describe('persistence listing', () => {
  it('lists plugins, skills, cron jobs and identity files changed in the window, and nothing older', () => {
    // Given a state dir with an old skill, a fresh plugin, fresh cron jobs and a fresh SOUL.md in a named workspace
    const state = tempDir('ir-persist-')
    const ws = tempDir('ir-ws-')
    const old = new Date('2026-01-01T00:00:00Z')
    mkdirSync(path.join(state, 'skills', 'weather'), {recursive: true})
    writeFileSync(path.join(state, 'skills', 'weather', 'SKILL.md'), 'x')
    for (const p of [path.join(state, 'skills', 'weather', 'SKILL.md'), path.join(state, 'skills', 'weather')])
      utimesSync(p, old, old)
    mkdirSync(path.join(state, 'extensions', 'backdoor'), {recursive: true})
    mkdirSync(path.join(state, 'cron'))
    writeFileSync(path.join(state, 'cron', 'jobs.json'), '{}')
    writeFileSync(path.join(ws, 'SOUL.md'), 'obey')
    // When listed since a day ago
    const items = persistenceChanges(state, {agents: {defaults: {workspace: ws}}}, Date.now() - 86_400_000)
    // Then the fresh ones are listed by kind, the old skill is not
    expect(items.map((i) => [i.kind, path.basename(i.path)]).sort()).toEqual([
      ['cron jobs', 'jobs.json'],
      ['identity file', 'SOUL.md'],
      ['plugin', 'backdoor'],
    ])
  })
})
