import {describe, expect, it} from 'vitest'

import type {JsonObject} from '../../../src/openclaw/config.js'
import {
  lockdownChanges,
  selectEdits,
  type LockdownId,
  type LockdownOptions,
} from '../../../src/openclaw/lockdown-edits.js'

const opts = (over: Partial<LockdownOptions> = {}): LockdownOptions => ({
  dmPolicy: 'disabled',
  groupPolicy: 'disabled',
  newSecret: () => 'NEW-SECRET-0123456789',
  ...over,
})
const edited = (config: JsonObject, over: Partial<LockdownOptions> = {}) =>
  Object.fromEntries(
    lockdownChanges(config, opts(over))
      .flatMap((c) => c.edits)
      .map((e) => [e.path.join('.'), e.remove ? '(removed)' : e.value]),
  )

/** Everything locked already: a change set on top of this is only what the test adds. */
const LOCKED = {
  gateway: {bind: 'loopback', auth: {mode: 'token', token: 't'}},
  discovery: {mdns: {mode: 'off'}},
  browser: {enabled: false},
  tools: {elevated: {enabled: false}, exec: {security: 'deny'}, deny: ['sessions_spawn', 'sessions_send']},
}

describe('lockdown edits', () => {
  it('closes every exposure key of a deliberately open config, one question per sub-change', () => {
    // Given the weak config of openclaw-live.md §6 plus tools and HTTP extras
    const config = {
      gateway: {
        mode: 'local',
        bind: 'lan',
        auth: {mode: 'none'},
        allowRealIpFallback: true,
        tailscale: {mode: 'funnel'},
        http: {endpoints: {chatCompletions: {enabled: true}, responses: {enabled: false}}},
        tools: {allow: ['exec']},
      },
      discovery: {mdns: {mode: 'full'}},
      channels: {
        telegram: {
          enabled: true,
          dmPolicy: 'open',
          allowFrom: ['*'],
          groupPolicy: 'open',
          groupAllowFrom: ['*', '42'],
          groups: {'*': {requireMention: false}},
        },
      },
      tools: {elevated: {enabled: true}, exec: {security: 'full'}},
      hooks: {enabled: true, token: 'short', path: '/'},
    }
    // When the lockdown is computed
    const changes = lockdownChanges(config, opts())
    // Then each sub-change is asked on its own, safe answer yes
    expect(changes.map((c) => [c.id, c.question])).toEqual([
      ['dm', 'Disable DMs on 1 channel (telegram)?'],
      ['allowFrom', 'Remove "*" (everyone) from 2 allow lists?'],
      ['groups', 'Disable group chats on 1 channel (telegram)?'],
      ['mentions', 'Require a mention in 1 group setting?'],
      ['bind', 'Bind the gateway to loopback (now "lan")?'],
      ['tailscale', 'Turn Tailscale funnel off?'],
      ['mdns', 'Turn mDNS discovery off (now "full")?'],
      ['proxy', 'Stop trusting client-supplied X-Real-IP (gateway.allowRealIpFallback)?'],
      ['http', 'Close the extra HTTP APIs (OpenAI-compatible endpoints, /tools/invoke allow list)?'],
      ['elevated', 'Disable elevated (host) exec?'],
      ['exec', 'Deny the exec tool (tools.exec.security -> "deny")?'],
      ['hooks', 'Disable webhooks (hooks.enabled)?'],
      ['browser', 'Turn browser control off?'],
      ['sessionTools', 'Deny the tools that start or message other sessions (sessions_spawn, sessions_send)?'],
      ['auth', 'Switch gateway auth from "none" to a fresh token?'],
    ])
    // And together they set exactly the locked-down values
    expect(edited(config)).toEqual({
      'channels.telegram.dmPolicy': 'disabled',
      'channels.telegram.allowFrom': [],
      'channels.telegram.groupAllowFrom': ['42'],
      'channels.telegram.groupPolicy': 'disabled',
      'channels.telegram.groups.*.requireMention': true,
      'gateway.bind': 'loopback',
      'gateway.tailscale.mode': 'off',
      'discovery.mdns.mode': 'off',
      'gateway.allowRealIpFallback': false,
      'gateway.http.endpoints.chatCompletions.enabled': false,
      'gateway.tools.allow': '(removed)',
      'tools.elevated.enabled': false,
      'tools.exec.security': 'deny',
      'hooks.enabled': false,
      'browser.enabled': false,
      'tools.deny': ['sessions_spawn', 'sessions_send'],
      'gateway.auth.mode': 'token',
      'gateway.auth.token': 'NEW-SECRET-0123456789',
    })
    // And the new token is marked secret and never spelled out in the plan lines
    const token = changes.find((c) => c.id === 'auth')!.edits.find((e) => e.secret)!
    expect(token.line).toBe('gateway.auth.token: (none) -> «new secret»')
  })

  it('walks every channel and account, and reads both schema shapes (dm.policy and dmPolicy)', () => {
    // Given an old-style Discord dm block, Matrix (dm.policy is its current shape), accounts with their own policy
    const config = {
      ...LOCKED,
      channels: {
        defaults: {groupPolicy: 'open'},
        discord: {
          dm: {policy: 'open', allowFrom: ['*']},
          guilds: {'123456789': {requireMention: false, channels: {'42': {requireMention: false}}}},
        },
        matrix: {},
        telegram: {
          accounts: {work: {dmPolicy: 'pairing', groupPolicy: 'open', allowFrom: ['*', '7']}, home: {botToken: 'x'}},
        },
        'my-plugin': {enabled: true},
      },
    }
    // When locked down to pairing
    const e = edited(config, {dmPolicy: 'pairing'})
    // Then the legacy key is edited where it is, known channels get the key their schema has, accounts that set their
    // own are changed
    expect(e).toEqual({
      'channels.discord.dm.policy': 'pairing',
      'channels.matrix.dm.policy': 'pairing',
      'channels.telegram.dmPolicy': 'pairing',
      'channels.discord.dm.allowFrom': [],
      'channels.telegram.accounts.work.allowFrom': ['7'],
      'channels.discord.groupPolicy': 'disabled',
      'channels.matrix.groupPolicy': 'disabled',
      'channels.telegram.groupPolicy': 'disabled',
      'channels.telegram.accounts.work.groupPolicy': 'disabled',
      'channels.discord.guilds.123456789.requireMention': true,
      'channels.discord.guilds.123456789.channels.42.requireMention': true,
    })
    // And an unknown plugin channel without those keys is not given keys its schema may reject
    expect(Object.keys(e).some((k) => k.includes('my-plugin'))).toBe(false)
  })

  it('denies exec and elevated in every agent override, agents.list[] and agents.entries alike', () => {
    // Given per-agent overrides in both shapes and in agents.defaults
    const config = {
      ...LOCKED,
      agents: {
        defaults: {tools: {exec: {security: 'allowlist'}}},
        list: [{id: 'main', tools: {exec: {security: 'full'}, elevated: {enabled: true}}}, {id: 'quiet'}],
        entries: {ops: {tools: {exec: {security: 'deny'}, elevated: {enabled: true}}}},
      },
    }
    // When locked down
    const changes = lockdownChanges(config, opts())
    // Then each override is closed where it is written
    expect(edited(config)).toEqual({
      'agents.list.0.tools.elevated.enabled': false,
      'agents.entries.ops.tools.elevated.enabled': false,
      'agents.list.0.tools.exec.security': 'deny',
      'agents.defaults.tools.exec.security': 'deny',
    })
    expect(changes.find((c) => c.id === 'exec')!.question).toBe(
      'Deny the exec tool (tools.exec.security -> "deny", 2 places)?',
    )
  })

  it('keeps "*" where dmPolicy stays "open" because the DM change was declined (else the config is invalid)', () => {
    // Given open DMs that need "*" and an open group list
    const config = {...LOCKED, channels: {telegram: {dmPolicy: 'open', allowFrom: ['*'], groupAllowFrom: ['*']}}}
    const changes = lockdownChanges(config, opts())
    // When everything but the DM change is accepted
    const accepted = new Set<LockdownId>(changes.map((c) => c.id).filter((id) => id !== 'dm'))
    const edits = selectEdits(changes, accepted)
    // Then allowFrom keeps "*", groupAllowFrom loses it
    expect(edits.map((e) => e.path.join('.'))).toEqual([
      'channels.telegram.groupAllowFrom',
      'channels.telegram.groupPolicy',
    ])
  })

  it('has nothing to change on a config that is already locked down', () => {
    // Given a locked-down config with channels already at the safe values
    const config = {
      ...LOCKED,
      hooks: {enabled: false},
      channels: {telegram: {dmPolicy: 'disabled', groupPolicy: 'disabled', allowFrom: ['1']}},
    }
    // Then no change is proposed
    expect(lockdownChanges(config, opts())).toEqual([])
  })
})

describe('exec in the form the config uses', () => {
  const execEdits = (config: JsonObject, version?: string) =>
    lockdownChanges(config, opts({version}))
      .find((c) => c.id === 'exec')
      ?.edits.map((e) => `${e.path.join('.')}=${String(e.value)}`)

  it('edits mode where the config uses mode, never adding security beside it', () => {
    // Given the current form (what `openclaw config set tools.exec.mode full` writes)
    const edits = execEdits({tools: {exec: {mode: 'full'}}, agents: {entries: {ops: {tools: {exec: {mode: 'ask'}}}}}})
    // Then mode is denied in both places, and no security key is written
    expect(edits).toEqual(['tools.exec.mode=deny', 'agents.entries.ops.tools.exec.mode=deny'])
  })

  it('keeps the legacy security/ask form where the config uses it', () => {
    expect(execEdits({tools: {exec: {security: 'full', ask: 'off'}}}, '2026.9.6')).toEqual(['tools.exec.security=deny'])
    expect(execEdits({tools: {exec: {ask: 'on-miss'}}}, '2026.9.6')).toEqual(['tools.exec.security=deny'])
  })

  it('writes nothing where exec is already denied in either form (the lab default mode "deny")', () => {
    expect(execEdits({tools: {exec: {mode: 'deny'}}})).toBeUndefined()
    expect(execEdits({tools: {exec: {security: 'deny'}}})).toBeUndefined()
  })

  it('sets the form the target knows when exec sets neither: mode on known versions, security when unknown', () => {
    expect(execEdits({}, '2026.7.35')).toEqual(['tools.exec.mode=deny'])
    expect(execEdits({}, '2026.2.26')).toEqual(['tools.exec.security=deny'])
    expect(execEdits({}, undefined)).toEqual(['tools.exec.security=deny'])
  })
})

describe('the surfaces OpenClaw added', () => {
  const questions = (config: JsonObject, version?: string) =>
    lockdownChanges({...LOCKED, ...config}, opts({version})).map((c) => c.id)

  it('closes terminal, agent-to-agent reach, node auto-pairing and cron on a version that knows them', () => {
    // Given a 2026.9.6 config that sets none of them (their defaults are open)
    const e = edited(LOCKED, {version: '2026.9.6'})
    // Then each is written to its safe value
    expect(e).toEqual({
      'gateway.terminal.enabled': false,
      'tools.agentToAgent.enabled': false,
      'tools.sessions.visibility': 'agent',
      'gateway.nodes.pairing.sshVerify': false,
      'cron.enabled': false,
    })
  })

  it('never adds a key the target version does not know (2026.6.35 has no gateway.terminal, no sshVerify)', () => {
    expect(questions({}, '2026.6.35')).toEqual(['agentToAgent', 'cron'])
    expect(questions({}, undefined)).toEqual([])
    // but a key the config already sets is edited wherever it is
    expect(edited({...LOCKED, gateway: {...LOCKED.gateway, terminal: {enabled: true}}})).toEqual({
      'gateway.terminal.enabled': false,
    })
  })

  it('turns set Control UI break-glass flags off, drops auto-approve CIDRs, and shows each audit suppression', () => {
    const config = {
      ...LOCKED,
      gateway: {
        ...LOCKED.gateway,
        controlUi: {dangerouslyDisableDeviceAuth: true, dangerouslyAllowHostHeaderOriginFallback: false},
        nodes: {pairing: {autoApproveCidrs: ['0.0.0.0/0']}},
      },
      security: {audit: {suppressions: [{checkId: 'gateway.bind_no_auth', reason: 'x'}]}},
    }
    const changes = lockdownChanges(config, opts())
    expect(edited(config)).toEqual({
      'gateway.controlUi.dangerouslyDisableDeviceAuth': false,
      'gateway.nodes.pairing.autoApproveCidrs': '(removed)',
      'security.audit.suppressions': [],
    })
    expect(changes.find((c) => c.id === 'suppressions')!.question).toBe(
      'Remove 1 audit suppression (gateway.bind_no_auth) so security audit reports everything?',
    )
  })
})
