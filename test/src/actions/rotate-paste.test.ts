import {readFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {rotateChecklist} from '../../../src/actions/rotate-checklist.js'
import {rotatePaste} from '../../../src/actions/rotate-paste.js'
import {fingerprint} from '../../../src/openclaw/config-edit.js'
import {loadConfig} from '../../../src/openclaw/config.js'
import {scriptedPrompter, tempDir} from '../../helpers/temp.js'
import {closedPort, stateWithConfig, actionContext} from './rotate-fixtures.js'

const BOT = '123456:AAE-telegram-bot-token-old-0123456789'

const ctx = actionContext

describe('pasted replacements for what ir cannot rotate', () => {
  it('writes a pasted replacement (hidden input) where the config keeps it, journaled as fingerprints only', async () => {
    // Given a config holding a Telegram bot token the operator has revoked at BotFather
    const state = tempDir('ir-paste-')
    const {configPath} = stateWithConfig(
      `{\n  // bot\n  "gateway": {"port": ${await closedPort()}},\n  "channels": {"telegram": {"botToken": "${BOT}"}}\n}\n`,
      state,
    )
    const NEW = '654321:AAE-telegram-bot-token-new-9876543210'
    const prompter = scriptedPrompter([true, NEW])
    const c = ctx(state, configPath, prompter)
    // When the checklist step lists it (the install is not touched) and the paste step runs
    await rotateChecklist.apply(c, {}, await rotateChecklist.plan(c, {}))
    expect(readFileSync(configPath, 'utf8')).toContain(BOT)
    const plan = await rotatePaste.plan(c, {})
    expect(plan.noop).toBe(false)
    const applied = await rotatePaste.apply(c, {}, plan)
    // Then the operator was asked, and the value went where the config keeps it, comments kept
    expect(prompter.asked).toEqual([
      'Paste a replacement for channels.telegram.botToken now? (rotate it at the provider first)',
      'New value for channels.telegram.botToken (hidden)',
    ])
    expect(loadConfig(configPath).value).toMatchObject({channels: {telegram: {botToken: NEW}}})
    expect(readFileSync(configPath, 'utf8')).toContain('// bot')
    expect(applied.detail).toMatch(/1 item\(s\) replaced from pasted values/)
    const journal = readFileSync(c.case.journal.file, 'utf8')
    expect(journal).toContain(fingerprint(NEW))
    const checklist = readFileSync(path.join(c.case.dir, 'rotation-checklist.md'), 'utf8')
    for (const text of [journal, checklist, JSON.stringify(applied)]) {
      expect(text).not.toContain(NEW)
      expect(text).not.toContain(BOT)
    }
  })

  it('offers nothing without a TTY: the paste step is a no-op and the install is unchanged', async () => {
    // Given the same kind of config, and a run with nobody to ask (--yes or no TTY)
    const state = tempDir('ir-paste-')
    const {configPath} = stateWithConfig(
      `{"gateway": {"port": ${await closedPort()}}, "channels": {"telegram": {"botToken": "${BOT}"}}}\n`,
      state,
    )
    const before = readFileSync(configPath, 'utf8')
    const c = ctx(state, configPath)
    await rotateChecklist.apply(c, {}, await rotateChecklist.plan(c, {}))
    // When the paste step plans
    const plan = await rotatePaste.plan(c, {})
    // Then it is a no-op that says why, and the config bytes are unchanged
    expect(plan).toMatchObject({noop: true, summary: expect.stringMatching(/interactive run/)})
    expect(readFileSync(configPath, 'utf8')).toBe(before)
  })
})
