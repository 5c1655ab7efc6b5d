import {describe, expect, it} from 'vitest'

import {baselineChanges} from '../../../src/actions/recover-baseline.js'
import {sandboxChanges, servedScopes} from '../../../src/actions/recover-sandbox.js'

const edits = (changes: ReturnType<typeof sandboxChanges>) =>
  Object.fromEntries(changes.flatMap((c) => c.edits).map((e) => [e.path.join('.'), e.value]))

/** The shape `openclaw agents add family --bind telegram:family` writes (openclaw 2026.9.6). */
const FLEET = {
  agents: {
    ownership: 'explicit',
    defaults: {systemAgent: {agentId: 'main'}},
    entries: {main: {workspace: '/w/main'}, family: {name: 'family', workspace: '/w/family'}},
  },
  bindings: [{type: 'route', agentId: 'family', match: {channel: 'telegram', accountId: 'family'}}],
  channels: {
    telegram: {
      enabled: true,
      dmPolicy: 'pairing',
      allowFrom: ['111'],
      accounts: {
        family: {dmPolicy: 'allowlist', allowFrom: ['111', '222'], groupPolicy: 'allowlist', groups: {'-100': {}}},
      },
    },
  },
  tools: {deny: ['browser']},
}

describe('servedScopes', () => {
  it('follows OpenClaw audit heuristic: open policies and "*" reach anyone, allowlisted groups and several senders reach others', () => {
    // Given one scope of each kind, and a personal one (one sender by pairing)
    const config = {
      channels: {
        telegram: {dmPolicy: 'open', allowFrom: ['*']},
        discord: {groupPolicy: 'allowlist', guilds: {g1: {}}},
        signal: {dmPolicy: 'allowlist', allowFrom: ['+1', '+2']},
        whatsapp: {dmPolicy: 'pairing', allowFrom: ['+1'], groupPolicy: 'allowlist'},
        slack: {enabled: false, dmPolicy: 'open'},
      },
    }
    // When the scopes are judged
    const scopes = servedScopes(config)
    // Then only the first three reach other people, with the reason named
    expect(scopes.map((s) => [s.channel, s.reach])).toEqual([
      ['telegram', 'anyone'],
      ['discord', 'others'],
      ['signal', 'others'],
    ])
    expect(scopes[1]!.why).toEqual(['channels.discord groups allowlisted (guilds)'])
  })

  it('judges an account merged over its channel, as OpenClaw reads it', () => {
    // Given a channel whose open group policy every account inherits
    const config = {channels: {telegram: {groupPolicy: 'open', accounts: {work: {dmPolicy: 'pairing'}}}}}
    // Then the account reaches anyone too
    expect(servedScopes(config).map((s) => [s.accountId, s.reach])).toEqual([
      [undefined, 'anyone'],
      ['work', 'anyone'],
    ])
  })
})

describe('sandboxChanges', () => {
  it('sandboxes only the fleet agent bound to the shared account: read-only workspace, the guide tools denied', () => {
    // When the fleet written by OpenClaw's CLI is judged
    const changes = sandboxChanges(FLEET)
    // Then the family agent gets the "family/work" profile (unset workspaceAccess is OpenClaw's "none": kept)
    expect(changes.map((c) => [c.agentId, c.reach])).toEqual([['family', 'others']])
    expect(edits(changes)).toEqual({
      'agents.entries.family.sandbox.mode': 'all',
      'agents.entries.family.tools.deny': ['write', 'edit', 'apply_patch', 'exec', 'process'],
    })
  })

  it('sandboxes the sole agent in agents.defaults, never loosens what is stricter, and leaves a personal setup alone', () => {
    // Given no agent roster (OpenClaw's implicit main), DMs open, a workspace mounted read-write
    const open = {
      channels: {telegram: {dmPolicy: 'open'}},
      agents: {defaults: {sandbox: {mode: 'non-main', workspaceAccess: 'rw', scope: 'shared'}}},
      tools: {deny: ['exec', 'process']},
    }
    // Then the "public agent" profile: mode all, no workspace, own scope, the rest of the tools denied
    expect(edits(sandboxChanges(open))).toEqual({
      'agents.defaults.sandbox.mode': 'all',
      'agents.defaults.sandbox.workspaceAccess': 'none',
      'agents.defaults.sandbox.scope': 'agent',
      'tools.deny': [
        'exec',
        'process',
        'apply_patch',
        'browser',
        'canvas',
        'cron',
        'edit',
        'gateway',
        'image',
        'nodes',
        'read',
        'write',
      ],
    })
    // And a personal setup (pairing, one sender) and a fleet without a binding serve no one else
    expect(sandboxChanges({channels: {telegram: {dmPolicy: 'pairing', allowFrom: ['1']}}})).toEqual([])
    expect(sandboxChanges({...FLEET, bindings: []})).toEqual([])
  })
})

describe('baselineChanges with sandboxing', () => {
  it('asks to sandbox an agent whose groups contain closed and the baseline re-opens', () => {
    // Given a contained config: groups disabled, their targets still listed
    const config = {
      gateway: {mode: 'local', bind: 'loopback', auth: {mode: 'token', token: 'x'.repeat(48)}},
      session: {dmScope: 'per-channel-peer'},
      channels: {telegram: {dmPolicy: 'disabled', groupPolicy: 'disabled', groups: {'-100': {requireMention: true}}}},
    }
    // When the baseline is computed
    const changes = baselineChanges(config, {dmPolicy: 'pairing', newSecret: () => 'n'})
    // Then groups come back by allowlist, and the agent answering them is sandboxed, asked on its own
    const sandbox = changes.find((c) => c.id === 'sandbox:main')
    expect(sandbox?.question).toMatch(
      /^Sandbox agent "main", which other people can reach \(channels\.telegram groups allowlisted/,
    )
    expect(sandbox?.edits.map((e) => e.path.join('.'))).toEqual(['agents.defaults.sandbox.mode', 'tools.deny'])
  })
})
