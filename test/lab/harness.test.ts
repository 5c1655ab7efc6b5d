// Smoke test of the lab harness itself: a real gateway, token probes, one real agent turn with a
// harmless exec tool call through the fake model, the transcript in SQLite, and a clean stop.
import {existsSync} from 'node:fs'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {
  assertHarmlessCommand,
  decodeEvent,
  execThenText,
  type FakeModel,
  INTERNAL_CONTEXT_MARKER,
  type LabGateway,
  pidAlive,
  readTranscript,
  requireLabOpenClaw,
  startFakeModel,
  startLabGateway,
} from './harness/index.js'

const log = (line: string) => process.stderr.write(`[lab harness] ${line}\n`)

describe('fake model', () => {
  it('refuses anything but harmless literal commands', () => {
    // Given commands a lab test may use, Then they pass
    for (const ok of [
      'echo lab-harness-ok',
      'id -u',
      'cat notes/a.txt',
      'echo a; id -u && pwd',
      "echo 'curl http://x | sh'",
    ])
      expect(() => assertHarmlessCommand(ok)).not.toThrow()
    // Given anything else, Then it is refused
    for (const bad of [
      'rm -rf /',
      'curl http://example.com',
      'echo $(id)',
      'echo "$HOME"',
      'cat /etc/passwd',
      'cat ../openclaw.json',
      'echo a | sh',
      'echo a > f',
      'date -s 2020-01-01',
      'echo a\nrm x',
      'id; ',
      'FOO=1 echo',
    ])
      expect(() => assertHarmlessCommand(bad), bad).toThrow(/refuses/)
    expect(() => execThenText('rm -rf /', 'x')).toThrow(/refuses/)
  })

  it('calls the tool once per prompt, even with the internal-context user message after the result', async () => {
    // Given a fake model scripted with one exec call
    const model = await startFakeModel({script: execThenText('echo hi', 'done')})
    try {
      const post = async (messages: unknown[], stream: boolean) => {
        const res = await fetch(`${model.baseUrl}/chat/completions`, {
          method: 'POST',
          headers: {'content-type': 'application/json', authorization: 'Bearer fake-local'},
          body: JSON.stringify({model: 'fake-model', stream, messages}),
        })
        return {status: res.status, text: await res.text()}
      }
      const internal = {role: 'user', content: [{type: 'text', text: `${INTERNAL_CONTEXT_MARKER}\nstuff`}]}
      // When OpenClaw asks first (prompt + internal context), Then it gets the tool call, streamed
      const first = await post([{role: 'system', content: 's'}, {role: 'user', content: 'go'}, internal], true)
      expect(first.status).toBe(200)
      expect(first.text).toContain(
        '"tool_calls":[{"index":0,"id":"call_fake_1","type":"function","function":{"name":"exec","arguments":"{\\"command\\":\\"echo hi\\"}"}}]',
      )
      expect(first.text).toContain('"usage":{')
      expect(first.text.trimEnd().endsWith('data: [DONE]')).toBe(true)
      // When the tool result and another internal-context user message follow, Then the final text
      const second = await post(
        [
          {role: 'user', content: 'go'},
          {role: 'assistant', content: null},
          {role: 'tool', tool_call_id: 'call_fake_1', content: 'hi'},
          internal,
        ],
        false,
      )
      expect(JSON.parse(second.text).choices[0].message.content).toBe('done')
      // And a new prompt in the same conversation gets its own single tool call
      const third = await post(
        [
          {role: 'user', content: 'go'},
          {role: 'tool', content: 'hi'},
          {role: 'user', content: 'again'},
        ],
        false,
      )
      expect(JSON.parse(third.text).choices[0].message.tool_calls[0].function.name).toBe('exec')
      expect(model.chatRequests().map((r) => [r.lastUserPrompt, r.toolResultsSincePrompt, r.authorization])).toEqual([
        ['go', 0, 'present'],
        ['go', 1, 'present'],
        ['again', 0, 'present'],
      ])
    } finally {
      await model.close()
    }
  })
})

describe('transcript rows', () => {
  it('decodes an event stored zstd-compressed (event_json NULL)', async () => {
    // Given an event compressed the way OpenClaw does it (Node 24's zlib zstd)
    const lab = requireLabOpenClaw()
    const event = {type: 'message', message: {role: 'user', content: 'zstd row'}}
    const {stdout} = await execa(lab.node24, [
      '-e',
      'process.stdout.write(require("node:zlib").zstdCompressSync(Buffer.from(process.argv[1])).toString("base64"))',
      JSON.stringify(event),
    ])
    // When it is decoded, Then it is the original event
    expect(decodeEvent({event_json: null, event_zstd: Buffer.from(stdout, 'base64')})).toEqual(event)
    expect(decodeEvent({event_json: JSON.stringify(event), event_zstd: null})).toEqual(event)
  })
})

describe('lab gateway', () => {
  let gw: LabGateway | undefined
  let fakeModel: FakeModel | undefined
  afterAll(async () => {
    await gw?.cleanup()
    await fakeModel?.close()
  })

  it('starts, checks tokens, runs a real agent turn into SQLite, and stops', async () => {
    requireLabOpenClaw()
    const t0 = performance.now()
    const token = `lab-harness-${'0123456789abcdef'.repeat(3)}`
    fakeModel = await startFakeModel({script: execThenText('echo lab-harness-ok', 'harness turn done')})

    // Given a gateway started with token T
    gw = await startLabGateway({token, fakeModel})
    log(`gateway ready in ${gw.readyMs} ms (pid ${gw.pid}, port ${gw.port})`)

    // Then /healthz is 200, T is accepted (404 for the unknown tool) and a wrong token is rejected
    expect(await gw.httpStatus('/healthz')).toBe(200)
    expect(await gw.probeToken(token)).toBe(404)
    expect(await gw.probeToken(`${token}-wrong`)).toBe(401)
    expect(await gw.probeToken(undefined)).toBe(401)

    // When an agent turn runs through the fake model with one harmless exec call
    const sessionKey = 'agent:main:lab-harness'
    const turn = await gw.agentTurn('Run the harness check.', sessionKey)
    log(`agent turn in ${turn.durationMs} ms (exit ${turn.exitCode})`)
    expect(turn.exitCode, `${turn.stderr}\n${gw.outputTail()}`).toBe(0)
    expect(turn.json?.status).toBe('ok')

    // Then the model saw the prompt, was asked twice (tool call, then the final text)
    const asked = fakeModel.chatRequests()
    expect(asked.length).toBeGreaterThanOrEqual(2)
    expect(asked[0]!.lastUserPrompt).toContain('Run the harness check.')
    expect(asked[0]!.toolNames).toContain('exec')
    expect(asked.map((r) => r.reply)).toContainEqual({
      toolCall: {name: 'exec', arguments: {command: 'echo lab-harness-ok'}},
    })
    expect(asked.at(-1)!.reply).toEqual({text: 'harness turn done'})

    // And the per-agent SQLite store holds the session's transcript, with the real tool result
    expect(existsSync(gw.agentDbPath)).toBe(true)
    const events = readTranscript(gw.agentDbPath, sessionKey)
    expect(events.length).toBeGreaterThan(0)
    log(`transcript: ${events.length} events, ${events.filter((e) => e.compressed).length} zstd-compressed`)
    const messages = events.filter((e) => e.event.type === 'message').map((e) => e.event.message!)
    expect(messages.map((m) => m.role)).toEqual(expect.arrayContaining(['user', 'assistant', 'toolResult']))
    const toolResult = messages.find((m) => m.role === 'toolResult')!
    expect(toolResult.toolName).toBe('exec')
    expect(JSON.stringify(toolResult.content)).toContain('lab-harness-ok')

    // When it is stopped, Then the process (and its helpers) are gone
    const helpers = gw.childPids()
    const stopped = await gw.stop()
    log(
      `stopped in ${stopped.durationMs} ms (code ${stopped.exitCode}, signal ${stopped.signal}), helpers ${helpers.length}`,
    )
    expect(gw.running()).toBe(false)
    expect(pidAlive(gw.pid)).toBe(false)
    await expect.poll(() => helpers.filter(pidAlive), {timeout: 10_000}).toEqual([])
    log(`whole gateway test in ${Math.round(performance.now() - t0)} ms`)
  })
})
