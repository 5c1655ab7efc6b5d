import {describe, expect, it} from 'vitest'

import {agentEntries, channelScopes, gatewayAuthMode} from '../../../src/openclaw/config-shape.js'

describe('channelScopes', () => {
  it('reads the current shape, accounts included, with the paths to edit', () => {
    // Given a channel with dmPolicy/allowFrom and an account of its own
    const scopes = channelScopes({
      channels: {
        defaults: {groupPolicy: 'allowlist'},
        telegram: {
          dmPolicy: 'open',
          allowFrom: ['*'],
          groupPolicy: 'open',
          groups: {'-100': {requireMention: false}},
          accounts: {work: {dmPolicy: 'pairing', groupAllowFrom: ['*']}},
        },
      },
    })
    // Then the channel and its account are two scopes; "defaults" is not a channel
    expect(scopes.map((s) => [s.channel, s.accountId, s.dmPolicy])).toEqual([
      ['telegram', undefined, 'open'],
      ['telegram', 'work', 'pairing'],
    ])
    expect(scopes[0]).toMatchObject({
      dmPolicyPath: ['channels', 'telegram', 'dmPolicy'],
      allowFrom: ['*'],
      groupPolicy: 'open',
      groups: [{id: '-100', path: ['channels', 'telegram', 'groups', '-100'], requireMention: false}],
    })
    expect(scopes[1]).toMatchObject({
      groupAllowFromPath: ['channels', 'telegram', 'accounts', 'work', 'groupAllowFrom'],
      groupAllowFrom: ['*'],
    })
  })

  it('reads the legacy dm.policy / dm.allowFrom shape of old Discord/Slack configs', () => {
    const [s] = channelScopes({channels: {discord: {dm: {policy: 'open', allowFrom: ['*']}}}})
    expect(s).toMatchObject({
      dmPolicy: 'open',
      dmPolicyPath: ['channels', 'discord', 'dm', 'policy'],
      allowFromPath: ['channels', 'discord', 'dm', 'allowFrom'],
    })
  })

  it('marks accounts of a disabled channel as disabled', () => {
    const scopes = channelScopes({channels: {slack: {enabled: false, accounts: {a: {dmPolicy: 'open'}}}}})
    expect(scopes.map((s) => s.enabled)).toEqual([false, false])
  })
})

describe('agentEntries', () => {
  it('reads agents.list[] and agents.entries.<id>', () => {
    expect(
      agentEntries({agents: {list: [{id: 'main'}, {name: 'no id'}]}}).map((a) => [a.id, a.path.join('.')]),
    ).toEqual([['main', 'agents.list.0']])
    expect(agentEntries({agents: {entries: {ops: {tools: {}}}}}).map((a) => [a.id, a.path.join('.')])).toEqual([
      ['ops', 'agents.entries.ops'],
    ])
  })
})

describe('gatewayAuthMode', () => {
  it('takes the explicit mode, else infers it from what is set', () => {
    expect(gatewayAuthMode({gateway: {auth: {mode: 'none'}}})).toBe('none')
    expect(gatewayAuthMode({gateway: {auth: {password: 'p'}}})).toBe('password')
    expect(gatewayAuthMode({gateway: {auth: {token: 't'}}})).toBe('token')
    expect(gatewayAuthMode({})).toBeUndefined()
  })
})
