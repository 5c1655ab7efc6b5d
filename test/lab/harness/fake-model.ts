// A tiny OpenAI-compatible model server for the lab: OpenClaw's `fake` provider talks to it.
//
// It only ever says what the test told it to say. A reply is plain text, or ONE tool call
// (`exec` of a harmless command, `read`/`ls` of a workspace-relative path) that is checked by
// `assertHarmlessToolCall` both when the test builds it and again right before it is sent.
// Every request is recorded so tests can assert what OpenClaw sent to the model.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

/** The marker OpenClaw puts at the start of the user message it appends after tool results. */
export const INTERNAL_CONTEXT_MARKER = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>'
export const FAKE_MODEL_ID = 'fake-model'
export const FAKE_MODEL_API_KEY = 'fake-local'

export type FakeToolCall =
  | {name: 'exec'; arguments: {command: string}}
  | {name: 'read'; arguments: {path: string}}
  | {name: 'ls'; arguments: {path: string}}

export type FakeReply = {text: string} | {toolCall: FakeToolCall}

export interface ChatMessage {
  role: string
  content?: unknown
  tool_calls?: unknown
  tool_call_id?: string
  [key: string]: unknown
}

/** One request as the fake model received it. */
export interface FakeModelRequest {
  index: number
  at: string
  method: string
  path: string
  /** An Authorization header was sent (its value is never recorded). */
  authorization: 'present' | 'absent'
  /** The parsed JSON body of a chat completion (undefined for other routes). */
  body?: {model?: string; stream?: boolean; messages?: ChatMessage[]; tools?: unknown[]; [key: string]: unknown}
  bodyBytes: number
  stream: boolean
  roles: string[]
  /** Names of the tools OpenClaw offered the model. */
  toolNames: string[]
  /** Text of the last user message that is not OpenClaw's internal-context message. */
  lastUserPrompt?: string
  /** `tool` messages after that prompt: how many tool calls of this turn already ran. */
  toolResultsSincePrompt: number
  /** What the fake model answered (set after the reply was chosen). */
  reply?: FakeReply
  /** Why the request failed (bad JSON, a refused reply, …). */
  error?: string
}

/** Decides the reply from the request. It runs in the test process; keep it pure. */
export type FakeScript = (request: FakeModelRequest) => FakeReply

export interface FakeModelOptions {
  /** Default: always `{text: 'fake-model: ok'}`. */
  script?: FakeScript
  /** Tool calls allowed after one user prompt before the model is forced to answer in text (default 1). */
  maxToolCallsPerPrompt?: number
  /** Text used when a tool call is suppressed by maxToolCallsPerPrompt. */
  fallbackText?: string
}

export interface FakeModel {
  port: number
  /** `http://127.0.0.1:<port>/v1`, what goes into OpenClaw's provider `baseUrl`. */
  baseUrl: string
  /** Every request so far, oldest first. */
  readonly requests: FakeModelRequest[]
  /** Chat completion requests only. */
  chatRequests(): FakeModelRequest[]
  setScript(script: FakeScript): void
  close(): Promise<void>
}

// ------------------------------------------------------------------------------------------------
// Harmlessness guard

const SAFE_PROGRAMS: Record<string, (args: string[]) => string | undefined> = {
  echo: () => undefined,
  printf: () => undefined,
  true: (args) => (args.length === 0 ? undefined : 'takes no arguments'),
  pwd: (args) => (args.length === 0 ? undefined : 'takes no arguments'),
  whoami: (args) => (args.length === 0 ? undefined : 'takes no arguments'),
  id: (args) => onlyOptions(args, ['-u', '-g', '-n', '-un', '-gn', '-G']),
  uname: (args) => onlyOptions(args, ['-a', '-s', '-r', '-m', '-n']),
  cat: (args) => workspacePaths(args, []),
  ls: (args) => workspacePaths(args, ['-l', '-a', '-la', '-al', '-1']),
  wc: (args) => workspacePaths(args, ['-l', '-c', '-w']),
  head: (args) =>
    workspacePaths(
      args.filter((a, i) => !(/^\d+$/.test(a) && args[i - 1] === '-n')),
      ['-n'],
    ),
}

function onlyOptions(args: string[], allowed: string[]): string | undefined {
  const bad = args.find((a) => !allowed.includes(a))
  return bad === undefined ? undefined : `argument ${JSON.stringify(bad)} is not one of ${allowed.join(' ')}`
}

function workspacePaths(args: string[], options: string[]): string | undefined {
  for (const arg of args) {
    if (arg.startsWith('-')) {
      if (!options.includes(arg)) return `option ${JSON.stringify(arg)} is not one of ${options.join(' ') || '(none)'}`
    } else {
      const problem = workspacePathProblem(arg)
      if (problem) return problem
    }
  }
  return undefined
}

/** A path the model may name: relative to the agent workspace, never leaving it. */
export function workspacePathProblem(p: string): string | undefined {
  if (p === '' || p.startsWith('/') || p.startsWith('~') || p.includes('\\') || p.includes('\0')) {
    return `path ${JSON.stringify(p)} must be relative to the workspace`
  }
  if (p.split('/').includes('..')) return `path ${JSON.stringify(p)} must not contain ".."`
  return undefined
}

/**
 * Splits a shell command into simple commands (`;` or `&&` between them) of literal words.
 * Anything the shell would expand or redirect outside quotes is refused, as is `$`, a backquote or
 * a backslash inside double quotes; single-quoted text is literal and may hold anything but a newline.
 */
function parseCommand(command: string): string[][] {
  const commands: string[][] = [[]]
  let word: string | undefined
  let quote: '' | "'" | '"' = ''
  const endWord = () => {
    if (word !== undefined) commands.at(-1)!.push(word)
    word = undefined
  }
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!
    if (c === '\n' || c === '\r' || c === '\0') throw new Error('newlines and NUL are not allowed')
    if (quote === "'") {
      if (c === "'") quote = ''
      else word += c
      continue
    }
    if (quote === '"') {
      if (c === '"') quote = ''
      else if (c === '$' || c === '`' || c === '\\' || c === '!')
        throw new Error(`${JSON.stringify(c)} inside double quotes`)
      else word += c
      continue
    }
    if (c === "'" || c === '"') {
      quote = c
      word ??= ''
    } else if (c === ' ' || c === '\t') {
      endWord()
    } else if (c === ';' || (c === '&' && command[i + 1] === '&')) {
      if (c === '&') i++
      endWord()
      commands.push([])
    } else if (/[|&<>$`()\\{}*?[\]~!#]/.test(c)) {
      throw new Error(`shell metacharacter ${JSON.stringify(c)} outside quotes`)
    } else {
      word = (word ?? '') + c
    }
  }
  if (quote) throw new Error('unterminated quote')
  endWord()
  if (commands.some((words) => words.length === 0)) throw new Error('empty command')
  return commands
}

/** Throws unless the command is a short sequence of harmless, literal commands. */
export function assertHarmlessCommand(command: string): void {
  try {
    if (typeof command !== 'string' || command.length === 0 || command.length > 500)
      throw new Error('empty or over 500 chars')
    for (const [program, ...args] of parseCommand(command)) {
      const check = SAFE_PROGRAMS[program!]
      if (!check)
        throw new Error(`program ${JSON.stringify(program)} is not one of ${Object.keys(SAFE_PROGRAMS).join(' ')}`)
      const problem = check(args)
      if (problem) throw new Error(`${program}: ${problem}`)
    }
  } catch (error) {
    throw new Error(`fake-model refuses exec command ${JSON.stringify(command)}: ${(error as Error).message}`)
  }
}

/** Throws unless the tool call is one the lab allows (see the file comment). */
export function assertHarmlessToolCall(call: FakeToolCall): void {
  const args = call.arguments as Record<string, unknown>
  const keys = Object.keys(args ?? {})
  const expect = (key: string) => {
    if (keys.length !== 1 || keys[0] !== key || typeof args[key] !== 'string') {
      throw new Error(`fake-model refuses ${call.name} call: arguments must be exactly {${key}: string}`)
    }
    return args[key] as string
  }
  switch (call.name) {
    case 'exec':
      assertHarmlessCommand(expect('command'))
      return
    case 'read':
    case 'ls': {
      const problem = workspacePathProblem(expect('path'))
      if (problem) throw new Error(`fake-model refuses ${call.name} call: ${problem}`)
      return
    }
    default:
      throw new Error(`fake-model refuses tool ${JSON.stringify((call as {name: unknown}).name)}: only exec, read, ls`)
  }
}

function checkedReply(reply: FakeReply): FakeReply {
  if (reply && 'toolCall' in reply) {
    assertHarmlessToolCall(reply.toolCall)
    return {toolCall: {name: reply.toolCall.name, arguments: {...reply.toolCall.arguments}} as FakeToolCall}
  }
  if (reply && 'text' in reply && typeof reply.text === 'string') return {text: reply.text}
  throw new Error('fake-model reply must be {text} or {toolCall}')
}

// ------------------------------------------------------------------------------------------------
// Scripts

/** Always answer with this text. */
export function replyText(text: string): FakeScript {
  return () => ({text})
}

/**
 * The usual turn: the first model call after a user prompt asks for `call`; once a `tool` message
 * follows that prompt, answer `finalText`. (OpenClaw appends an internal-context *user* message
 * after tool results, so "last message is user" would loop forever.)
 */
export function toolThenText(call: FakeToolCall, finalText: string): FakeScript {
  const reply = checkedReply({toolCall: call})
  return (request) => (request.toolResultsSincePrompt === 0 ? reply : {text: finalText})
}

export function execThenText(command: string, finalText: string): FakeScript {
  return toolThenText({name: 'exec', arguments: {command}}, finalText)
}

export function readThenText(filePath: string, finalText: string): FakeScript {
  return toolThenText({name: 'read', arguments: {path: filePath}}, finalText)
}

/** Answers in order, one reply per chat request; `fallback` once the queue is empty. */
export function replyQueue(replies: FakeReply[], fallback: FakeReply = {text: 'fake-model: queue empty'}): FakeScript {
  const queue = replies.map((r) => checkedReply(r))
  const last = checkedReply(fallback)
  return () => queue.shift() ?? last
}

/** Picks a script by the user prompt: the first entry whose key occurs in the prompt wins. */
export function byPrompt(
  routes: Record<string, FakeScript>,
  otherwise: FakeScript = replyText('fake-model: ok'),
): FakeScript {
  return (request) => {
    const prompt = request.lastUserPrompt ?? ''
    const hit = Object.keys(routes).find((key) => prompt.includes(key))
    return (hit === undefined ? otherwise : routes[hit]!)(request)
  }
}

// ------------------------------------------------------------------------------------------------
// Request analysis

export function messageText(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === 'object' && typeof (part as {text?: unknown}).text === 'string'
          ? (part as {text: string}).text
          : '',
      )
      .join('')
  }
  return ''
}

export function isInternalContext(message: ChatMessage): boolean {
  return message.role === 'user' && messageText(message.content).trimStart().startsWith(INTERNAL_CONTEXT_MARKER)
}

function analyse(messages: ChatMessage[]): {lastUserPrompt?: string; toolResultsSincePrompt: number} {
  let promptIndex = -1
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!
    if (m.role === 'user' && !isInternalContext(m)) {
      promptIndex = i
      break
    }
  }
  const toolResultsSincePrompt = messages.slice(promptIndex + 1).filter((m) => m.role === 'tool').length
  return {
    lastUserPrompt: promptIndex >= 0 ? messageText(messages[promptIndex]!.content) : undefined,
    toolResultsSincePrompt,
  }
}

function toolName(tool: unknown): string {
  const t = tool as {name?: unknown; function?: {name?: unknown}}
  return String(t?.function?.name ?? t?.name ?? '?')
}

// ------------------------------------------------------------------------------------------------
// Server

async function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new Error(`request body over ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

export async function startFakeModel(options: FakeModelOptions = {}): Promise<FakeModel> {
  let script: FakeScript = options.script ?? replyText('fake-model: ok')
  const maxToolCalls = options.maxToolCallsPerPrompt ?? 1
  const fallbackText = options.fallbackText ?? 'fake-model: tool call limit reached'
  const requests: FakeModelRequest[] = []
  let completions = 0
  let toolCalls = 0

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const raw = await readBody(req)
    const record: FakeModelRequest = {
      index: requests.length,
      at: new Date().toISOString(),
      method: req.method ?? '?',
      path: url.pathname,
      authorization: req.headers.authorization ? 'present' : 'absent',
      bodyBytes: raw.length,
      stream: false,
      roles: [],
      toolNames: [],
      toolResultsSincePrompt: 0,
    }
    requests.push(record)

    if (req.method === 'GET' && url.pathname === '/v1/models') {
      sendJson(res, 200, {object: 'list', data: [{id: FAKE_MODEL_ID, object: 'model', created: 0, owned_by: 'ir-lab'}]})
      return
    }
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
      record.error = 'not found'
      sendJson(res, 404, {error: {message: `no route ${req.method} ${url.pathname}`, type: 'not_found'}})
      return
    }

    let body: NonNullable<FakeModelRequest['body']>
    try {
      body = JSON.parse(raw.toString('utf8')) as NonNullable<FakeModelRequest['body']>
    } catch {
      record.error = 'invalid JSON body'
      sendJson(res, 400, {error: {message: 'invalid JSON body', type: 'invalid_request_error'}})
      return
    }
    const messages = Array.isArray(body.messages) ? body.messages : []
    Object.assign(record, {
      body,
      stream: body.stream === true,
      roles: messages.map((m) => String(m?.role)),
      toolNames: (Array.isArray(body.tools) ? body.tools : []).map(toolName),
      ...analyse(messages),
    })

    let reply: FakeReply
    try {
      reply = checkedReply(script(record))
      if ('toolCall' in reply && record.toolResultsSincePrompt >= maxToolCalls) reply = {text: fallbackText}
    } catch (error) {
      record.error = (error as Error).message
      sendJson(res, 500, {error: {message: record.error, type: 'fake_model_error'}})
      return
    }
    record.reply = reply

    const n = ++completions
    const id = `chatcmpl-fake-${n}`
    const created = Math.floor(Date.now() / 1000)
    const model = typeof body.model === 'string' ? body.model : FAKE_MODEL_ID
    const toolCall =
      'toolCall' in reply
        ? {
            index: 0,
            id: `call_fake_${++toolCalls}`,
            type: 'function' as const,
            function: {name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments)},
          }
        : undefined
    const text = 'text' in reply ? reply.text : ''
    const finishReason = toolCall ? 'tool_calls' : 'stop'
    const promptTokens = 20 + 10 * messages.length
    const completionTokens = Math.max(1, Math.ceil((text.length + (toolCall?.function.arguments.length ?? 0)) / 4))
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    }

    if (!record.stream) {
      const message = toolCall
        ? {
            role: 'assistant',
            content: null,
            tool_calls: [{id: toolCall.id, type: 'function', function: toolCall.function}],
          }
        : {role: 'assistant', content: text}
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{index: 0, message, finish_reason: finishReason}],
        usage,
      })
      return
    }

    res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive'})
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({id, object: 'chat.completion.chunk', created, model, choices, ...extra})}\n\n`)
    chunk([{index: 0, delta: {role: 'assistant', content: ''}, finish_reason: null}])
    if (toolCall) chunk([{index: 0, delta: {tool_calls: [toolCall]}, finish_reason: null}])
    else chunk([{index: 0, delta: {content: text}, finish_reason: null}])
    chunk([{index: 0, delta: {}, finish_reason: finishReason}])
    chunk([], {usage})
    res.end('data: [DONE]\n\n')
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent)
        sendJson(res, 500, {error: {message: String((error as Error).message), type: 'fake_model_error'}})
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  let closed: Promise<void> | undefined

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path === '/v1/chat/completions' && r.body !== undefined),
    setScript(next) {
      script = next
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}
