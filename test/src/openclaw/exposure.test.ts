import {chmodSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {configExposure, permissionExposure} from '../../../src/openclaw/exposure.js'
import {writeConfig} from '../../fixtures/state-dirs.js'
import {tempDir} from '../../helpers/temp.js'

const ids = (items: Array<{checkId: string; severity: string}>) =>
  items
    .filter((i) => i.severity === 'critical')
    .map((i) => i.checkId)
    .sort()

describe('configExposure', () => {
  it("flags the weak config OpenClaw's own audit flags (bind, auth, mDNS, hooks, channels)", () => {
    // Given the weak config of openclaw-live.md §6
    const weak = {
      gateway: {mode: 'local', bind: 'lan', auth: {mode: 'none'}, allowRealIpFallback: true},
      discovery: {mdns: {mode: 'full'}},
      channels: {telegram: {enabled: true, dmPolicy: 'open', allowFrom: ['*'], groupPolicy: 'open'}},
      hooks: {enabled: true, token: 'short', path: '/'},
    }
    // Then every critical OpenClaw reports for these keys is critical here too
    expect(ids(configExposure(weak))).toEqual([
      'channels.telegram.allowFrom.wildcard',
      'channels.telegram.dm.open',
      'discovery.mdns_full_mode',
      'gateway.bind_no_auth',
      'gateway.control_ui.allowed_origins_required',
      'gateway.http.no_auth',
      'gateway.real_ip_fallback_enabled',
      'hooks.allowed_agent_ids_unrestricted',
      'hooks.path_root',
    ])
    expect(configExposure(weak).find((i) => i.checkId === 'hooks.token_too_short')?.severity).toBe('high')
  })

  it('reports a locked-down config without criticals', () => {
    const locked = {
      gateway: {bind: 'loopback', auth: {mode: 'token', token: 'x'.repeat(48)}},
      discovery: {mdns: {mode: 'off'}},
      tools: {exec: {security: 'deny'}, elevated: {enabled: false}},
      browser: {enabled: false},
      channels: {telegram: {dmPolicy: 'disabled', groupPolicy: 'disabled'}},
    }
    expect(configExposure(locked).filter((i) => i.severity !== 'info')).toEqual([])
  })

  it('flags hooks token reuse, elevated tools, open groups without mention, per-agent exec', () => {
    const t = 'x'.repeat(40)
    const items = configExposure({
      gateway: {auth: {token: t}},
      hooks: {enabled: true, token: t, allowedAgentIds: ['main']},
      tools: {elevated: {enabled: true}},
      channels: {whatsapp: {groups: {'*': {requireMention: false}}}},
      agents: {entries: {ops: {tools: {exec: {security: 'full'}}}}},
    })
    const found = items.map((i) => `${i.severity} ${i.checkId} ${i.where}`)
    expect(found).toContain('critical hooks.token_reuse_gateway_token hooks.token')
    expect(found).toContain('high tools.elevated.enabled tools.elevated.enabled')
    expect(found).toContain('medium channels.whatsapp.groups.no_mention channels.whatsapp.groups.*.requireMention')
    expect(found).toContain('high tools.exec.security agents.entries.ops.tools.exec.security')
  })

  it('does not report exec or browser as reachable when tools.deny denies them (by name or group)', () => {
    // Given the lab's config: exec and the web tools denied, exec settings left at their defaults
    const denied = configExposure({
      tools: {deny: ['exec', 'web_fetch', 'web_search', 'x_search', 'browser'], elevated: {enabled: true}},
      agents: {entries: {ops: {tools: {exec: {security: 'full'}}}}},
    }).map((i) => i.checkId)
    // Then neither exec (global, per agent, elevated) nor browser control is an exposure item
    expect(denied).not.toContain('tools.exec.security')
    expect(denied).not.toContain('tools.elevated.enabled')
    expect(denied).not.toContain('browser.enabled')
    // And a group deny counts, a per-agent deny covers that agent only
    const byGroup = configExposure({
      tools: {deny: ['group:ui']},
      agents: {
        entries: {
          a: {tools: {deny: ['group:runtime'], exec: {security: 'full'}}},
          b: {tools: {exec: {security: 'full'}}},
        },
      },
    }).map((i) => `${i.checkId} ${i.where}`)
    expect(byGroup).not.toContain('browser.enabled browser.enabled')
    expect(byGroup).not.toContain('tools.exec.security agents.entries.a.tools.exec.security')
    expect(byGroup).toContain('tools.exec.security agents.entries.b.tools.exec.security')
  })
})

describe('permissionExposure', () => {
  it('flags a world-writable state dir, a world-readable config and readable credentials', () => {
    const state = tempDir()
    const config = writeConfig(state, '{}')
    mkdirSync(path.join(state, 'credentials'))
    chmodSync(state, 0o777)
    chmodSync(config, 0o644)
    chmodSync(path.join(state, 'credentials'), 0o755)
    expect(permissionExposure(state, config).map((i) => `${i.severity} ${i.checkId}`)).toEqual([
      'critical fs.state_dir.perms_world_writable',
      'critical fs.config.perms_world_readable',
      'medium fs.credentials_dir.perms_readable',
    ])
    chmodSync(state, 0o700)
    chmodSync(config, 0o600)
    chmodSync(path.join(state, 'credentials'), 0o700)
    expect(permissionExposure(state, config)).toEqual([])
  })
})
