import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'

import {checklistItems} from '../../../src/actions/rotate-checklist.js'
import {fingerprint} from '../../../src/openclaw/config-edit.js'
import {stateDbPath} from '../../../src/openclaw/secrets/store.js'
import {fileEraStateDir} from '../../fixtures/state-dirs.js'
import {tempDir} from '../../helpers/temp.js'
import {closedPort, stateWithConfig, actionContext} from './rotate-fixtures.js'

const BOT = '123456:AAE-telegram-bot-token-old-0123456789'

const ctx = actionContext

describe('what ir cannot rotate', () => {
  it('lists file-era auth profiles, channel tokens, the WhatsApp session and paired devices/nodes with the commands that revoke them', async () => {
    // Given a file-era state dir with a provider profile, a Telegram bot, a WhatsApp session, a paired device and node
    const state = fileEraStateDir(tempDir('ir-fe-'))
    const port = await closedPort()
    const {configPath} = stateWithConfig(
      {
        gateway: {port, auth: {mode: 'token', token: 'x'.repeat(40)}},
        channels: {telegram: {botToken: BOT, accounts: {work: {tokenFile: '/etc/tg.token'}}}},
        models: {providers: {openai: {apiKey: '${OPENAI_API_KEY}'}}},
      },
      state,
    )
    mkdirSync(path.join(state, 'agents', 'main', 'agent'), {recursive: true})
    writeFileSync(
      path.join(state, 'agents', 'main', 'agent', 'auth-profiles.json'),
      JSON.stringify({
        version: 1,
        profiles: {
          'anthropic:default': {type: 'token', provider: 'anthropic', token: 'sk-ant-oat-secret'},
          'openai:default': {type: 'api_key', provider: 'openai', key: 'sk-secret'},
        },
      }),
    )
    mkdirSync(path.join(state, 'credentials', 'whatsapp', 'default'), {recursive: true})
    writeFileSync(path.join(state, 'credentials', 'whatsapp', 'default', 'creds.json'), '{}')
    writeFileSync(
      path.join(state, 'devices', 'paired.json'),
      JSON.stringify({dev1: {deviceId: 'dev1', displayName: 'Laptop', platform: 'macos', roles: ['operator']}}),
    )
    mkdirSync(path.join(state, 'nodes'))
    writeFileSync(
      path.join(state, 'nodes', 'paired.json'),
      JSON.stringify({node1: {displayName: 'build-box', platform: 'linux'}}),
    )
    // When the checklist is built
    const items = checklistItems(ctx(state, configPath))
    // Then each item says where it is stored and how to rotate it, without values
    const by = (what: string) => items.find((i) => i.what === what)
    expect(by('models.providers.openai.apiKey')).toMatchObject({
      category: 'model-provider',
      where: `${configPath} (env \${OPENAI_API_KEY})`,
      replaceKey: 'models.providers.openai.apiKey',
    })
    expect(by('auth profile anthropic:default (token) of agent main')).toMatchObject({
      where: path.join(state, 'agents', 'main', 'agent', 'auth-profiles.json'),
      how: 'revoke it at anthropic, then `openclaw models auth paste-token --provider anthropic --agent main`',
    })
    expect(by('channels.telegram.botToken')).toMatchObject({
      category: 'channel',
      where: `${configPath} (plain, «sha256:${fingerprint(BOT)}»)`,
      how: expect.stringMatching(/BotFather/),
      replaceKey: 'channels.telegram.botToken',
    })
    expect(by('channels.telegram.accounts.work.tokenFile')).toMatchObject({
      how: 'rotate at telegram, write the new token into /etc/tg.token',
      replaceKey: undefined,
    })
    expect(by('WhatsApp web session (account default)')?.how).toMatch(
      /^`openclaw channels logout --channel whatsapp --account default`, unlink the device on the phone/,
    )
    expect(by('device Laptop (macos, operator)')?.how).toMatch(
      /^`openclaw devices remove dev1` \(or only its tokens: `openclaw devices revoke --device dev1 --role operator`\)/,
    )
    expect(by('node build-box (linux, node)')?.how).toMatch(/^`openclaw nodes remove --node node1`/)
    expect(JSON.stringify(items)).not.toContain(BOT)
    expect(JSON.stringify(items)).not.toContain('sk-secret')
  })

  it('reads the SQLite era: auth_profile_store per agent and device_pairing_paired', async () => {
    const state = tempDir('ir-sq-')
    const {configPath} = stateWithConfig({gateway: {port: await closedPort()}}, state)
    const agentDir = path.join(state, 'agents', 'ops', 'agent')
    mkdirSync(agentDir, {recursive: true})
    const adb = new Database(path.join(agentDir, 'openclaw-agent.sqlite'))
    adb.exec(
      'CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT',
    )
    adb.prepare('INSERT INTO auth_profile_store VALUES (?, ?, 1)').run(
      'primary',
      JSON.stringify({
        version: 1,
        profiles: {'openai-codex:default': {type: 'oauth', provider: 'openai-codex', access: 'a', refresh: 'r'}},
      }),
    )
    adb.close()
    mkdirSync(path.join(state, 'state'))
    const sdb = new Database(stateDbPath(state))
    sdb.exec(
      'CREATE TABLE device_pairing_paired (device_id TEXT PRIMARY KEY, display_name TEXT, operator_label TEXT, platform TEXT, client_mode TEXT, role TEXT, roles_json TEXT)',
    )
    sdb
      .prepare('INSERT INTO device_pairing_paired VALUES (?,?,?,?,?,?,?)')
      .run('d-77', 'Pixel', null, 'android', 'node', 'node', '["node"]')
    sdb.close()
    const items = checklistItems(ctx(state, configPath))
    expect(items.find((i) => i.what.startsWith('auth profile'))).toMatchObject({
      what: 'auth profile openai-codex:default (oauth) of agent ops',
      where: `${path.join(agentDir, 'openclaw-agent.sqlite')} (auth_profile_store primary)`,
      how: expect.stringMatching(/openclaw models auth login --provider openai-codex --agent ops --force/),
    })
    expect(items.find((i) => i.category === 'node')).toMatchObject({
      what: 'node Pixel (android, node, node)',
      how: expect.stringMatching(/^`openclaw nodes remove --node d-77`/),
    })
  })
})
