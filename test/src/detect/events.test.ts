import {describe, expect, it} from 'vitest'

import {argumentsText, inferFromRaw, normalizeRecord, unescapeJsonText} from '../../../src/detect/events.js'

describe('normalizeRecord', () => {
  it('turns an assistant message into its text and one event per tool call', () => {
    // Given an assistant entry with text and two tool calls (transcript schema §6.2)
    const rec = {
      type: 'message',
      id: 'dff08ea8',
      timestamp: '2026-03-08T13:03:56.150Z',
      message: {
        role: 'assistant',
        content: [
          {type: 'text', text: 'Let me look.'},
          {type: 'toolCall', id: 'call_1', name: 'exec', arguments: {command: 'cat ~/.aws/credentials', timeout: 30}},
          {type: 'toolCall', id: 'call_2', name: 'read', arguments: {path: 'USER.md'}},
        ],
      },
    }
    // When normalized
    const {events} = normalizeRecord(rec)
    // Then the kinds, tools and texts are the event model's
    expect(events.map((e) => [e.kind, e.toolName, e.text])).toEqual([
      ['assistant', undefined, 'Let me look.'],
      ['toolCall', 'exec', 'cat ~/.aws/credentials'],
      ['toolCall', 'read', 'USER.md'],
    ])
    expect(events[1]).toMatchObject({eventId: 'dff08ea8', timestamp: '2026-03-08T13:03:56.150Z'})
  })

  it('marks web tool results and non-owner senders as untrusted, the owner as owner', () => {
    const web = normalizeRecord({
      type: 'message',
      message: {role: 'toolResult', toolName: 'web_fetch', content: [{type: 'text', text: 'page'}]},
    })
    const owner = normalizeRecord({
      type: 'message',
      message: {role: 'user', content: 'hi', __openclaw: {senderIsOwner: true}},
    })
    const other = normalizeRecord({
      type: 'message',
      message: {role: 'user', content: 'hi', __openclaw: {senderIsOwner: false}},
    })
    expect(web.events[0]).toMatchObject({kind: 'toolResult', toolName: 'web_fetch', untrusted: true})
    expect(owner.events[0]).toMatchObject({senderIsOwner: true})
    expect(owner.events[0]?.untrusted).toBeUndefined()
    expect(other.events[0]).toMatchObject({senderIsOwner: false, untrusted: true})
  })

  it('reads the session header, gateway log lines and config-audit records', () => {
    expect(normalizeRecord({type: 'session', version: 3, id: 'abc'}).sessionId).toBe('abc')
    const log = normalizeRecord({
      '0': '{"subsystem":"gateway/ws"}',
      '1': {cause: 'unauthorized', remoteAddr: '203.0.113.9'},
      _meta: {logLevelName: 'WARN'},
      time: 't',
      session_id: 's1',
    })
    expect(log.events[0]).toMatchObject({
      kind: 'log',
      role: 'gateway/ws',
      text: 'cause=unauthorized remoteAddr=203.0.113.9',
      timestamp: 't',
    })
    expect(log.recordSessionId).toBe('s1')
    const cfg = normalizeRecord({
      ts: 't',
      source: 'config-io',
      event: 'config.write',
      argv: ['node', 'openclaw.mjs', 'config', 'set', 'a.b', 'c'],
      suspicious: ['size-drop:1->0'],
    })
    expect(cfg.events[0]).toMatchObject({
      kind: 'config',
      text: 'node openclaw.mjs config set a.b c\nsuspicious: size-drop:1->0',
    })
  })
})

describe('raw helpers', () => {
  it('guesses the event of an unparseable line from its head', () => {
    expect(
      inferFromRaw(
        '{"type":"message","message":{"role":"toolResult","toolCallId":"c","toolName":"browser","content":[{"type":"text","text":"xx',
      ),
    ).toEqual({kind: 'toolResult', role: 'toolResult', toolName: 'browser'})
    expect(
      inferFromRaw(
        '{"message":{"role":"assistant","content":[{"type":"toolCall","id":"c","name":"exec","arguments":{"command":"rm',
      ),
    ).toMatchObject({kind: 'toolCall', toolName: 'exec'})
    expect(inferFromRaw('garbage')).toEqual({kind: 'log', role: 'raw'})
  })

  it('undoes JSON escapes and flattens tool arguments command-first', () => {
    expect(unescapeJsonText('a\\nb \\"q\\" \\u200b')).toBe('a\nb "q" \u200b')
    expect(argumentsText({timeout: 5, command: 'ls', env: {A: 'x'}})).toBe('ls\nx')
  })
})
