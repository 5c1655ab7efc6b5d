import type {EventKind, ScanEvent} from './finding-types.js'

/**
 * Normalizers: one parsed record (JSONL line, SQLite row, log line) → events of the DESIGN.md
 * model. The record's shape decides, not the file name: a transcript entry has `type`, a gateway
 * log line `_meta`, a config-audit record `event: "config.write"`.
 */

/**
 * Tools whose output is content the agent did not write (pages, files, mail): their results are
 * untrusted input — what an instruction inside them asks for, the owner did not.
 */
export const UNTRUSTED_TOOLS = new Set([
  'web_fetch',
  'web_search',
  'x_search',
  'browser',
  'read',
  'email',
  'gmail',
  'fetch',
  'http_request',
  'webhook',
])

const MARKER = 'EXTERNAL_UNTRUSTED_CONTENT'
const MAX_FLAT_CHARS = 4 << 20

export interface Normalized {
  events: ScanEvent[]
  /** Transcript header (line 1): the session id of a file-era transcript. */
  sessionId?: string
  /** Log lines and other records may carry their own ids. */
  recordSessionId?: string
  recordAgentId?: string
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

export function normalizeRecord(rec: unknown): Normalized {
  if (!isObj(rec)) return {events: typeof rec === 'string' ? [{kind: 'log', text: rec}] : []}
  const type = str(rec.type)
  if (type === 'session') return {events: [], sessionId: str(rec.id)}
  if (type === 'message' && isObj(rec.message)) return {events: messageEvents(rec, rec.message)}
  if (type === 'custom_message') return {events: [base(rec, 'user', 'custom_message', contentText(rec.content))]}
  if (type === 'compaction' || type === 'branch_summary')
    return {events: [base(rec, 'assistant', type, str(rec.summary) ?? '')]}
  if (type === 'model_change' || type === 'thinking_level_change') return {events: []}
  if (type === 'custom')
    return {events: nonEmpty([base(rec, 'log', `custom:${str(rec.customType) ?? ''}`, flatten(rec.data))])}
  if (rec.event === 'config.write' || rec.source === 'config-io') return {events: [configEvent(rec)]}
  if (isObj(rec._meta) || ('0' in rec && 'time' in rec)) return logEvent(rec)
  return {events: nonEmpty([{kind: 'log', text: flatten(rec)}])}
}

function messageEvents(entry: Obj, msg: Obj): ScanEvent[] {
  const role = str(msg.role) ?? 'unknown'
  if (role === 'user') {
    const meta = isObj(msg.__openclaw) ? msg.__openclaw : undefined
    const owner = typeof meta?.senderIsOwner === 'boolean' ? meta.senderIsOwner : undefined
    const text = contentText(msg.content)
    const ev = base(entry, 'user', role, text)
    if (owner !== undefined) ev.senderIsOwner = owner
    if (owner === false || text.includes(MARKER)) ev.untrusted = true
    return [ev]
  }
  if (role === 'assistant') {
    const out: ScanEvent[] = []
    const blocks = Array.isArray(msg.content) ? msg.content : [msg.content]
    const texts: string[] = []
    for (const b of blocks) {
      if (typeof b === 'string') texts.push(b)
      else if (isObj(b) && b.type === 'text') texts.push(str(b.text) ?? '')
      else if (isObj(b) && b.type === 'thinking') texts.push(str(b.thinking) ?? '')
      else if (isObj(b) && b.type === 'toolCall') {
        const ev = base(entry, 'toolCall', role, argumentsText(b.arguments))
        ev.toolName = str(b.name)
        ev.fields = {toolCallId: b.id}
        out.push(ev)
      }
    }
    const errorMessage = str(msg.errorMessage)
    if (errorMessage) texts.push(errorMessage)
    const text = texts.filter(Boolean).join('\n')
    if (text) out.unshift(base(entry, 'assistant', role, text))
    return out
  }
  if (role === 'toolResult') {
    const text = contentText(msg.content)
    const ev = base(entry, 'toolResult', role, text)
    ev.toolName = str(msg.toolName)
    ev.fields = {toolCallId: msg.toolCallId, isError: msg.isError}
    if ((ev.toolName && UNTRUSTED_TOOLS.has(ev.toolName)) || text.includes(MARKER)) ev.untrusted = true
    return [ev]
  }
  return nonEmpty([base(entry, 'log', role, contentText(msg.content) || flatten(msg))])
}

function base(entry: Obj, kind: EventKind, role: string, text: string): ScanEvent {
  const ev: ScanEvent = {kind, text, role}
  const id = str(entry.id)
  if (id) ev.eventId = id
  const ts = str(entry.timestamp)
  if (ts) ev.timestamp = ts
  return ev
}

/** Text of a message `content`: a bare string or the text blocks (images and other media skipped). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const b of content) {
    if (typeof b === 'string') parts.push(b)
    else if (isObj(b) && typeof b.text === 'string') parts.push(b.text)
  }
  return parts.join('\n')
}

const COMMAND_KEYS = ['command', 'cmd', 'script', 'url', 'path', 'file_path', 'filePath']

/**
 * A tool call's arguments as text for the rules: the command (or URL / path) first, then every
 * other string value, so `exec {command}` and `write {path, content}` are both seen.
 */
export function argumentsText(args: unknown): string {
  if (typeof args === 'string') return args
  if (!isObj(args)) return ''
  const first: string[] = []
  for (const k of COMMAND_KEYS) if (typeof args[k] === 'string') first.push(args[k] as string)
  const rest = flatten(
    Object.fromEntries(Object.entries(args).filter(([k]) => !COMMAND_KEYS.includes(k) || typeof args[k] !== 'string')),
  )
  return [...first, rest].filter(Boolean).join('\n')
}

function configEvent(rec: Obj): ScanEvent {
  const argv = Array.isArray(rec.argv) ? rec.argv.filter((a): a is string => typeof a === 'string') : []
  const suspicious = Array.isArray(rec.suspicious) ? rec.suspicious.map(String) : []
  const text = [
    argv.join(' '),
    suspicious.length ? `suspicious: ${suspicious.join(', ')}` : '',
    str(rec.errorMessage) ?? '',
  ]
    .filter(Boolean)
    .join('\n')
  const ev: ScanEvent = {kind: 'config', text, role: str(rec.event) ?? 'config'}
  const ts = str(rec.ts)
  if (ts) ev.timestamp = ts
  ev.fields = {configPath: rec.configPath, pid: rec.pid, result: rec.result}
  return ev
}

function logEvent(rec: Obj): Normalized {
  const parts: string[] = []
  let subsystem: string | undefined
  for (let i = 0; i < 10; i++) {
    const v = rec[String(i)]
    if (v === undefined) break
    if (i === 0 && typeof v === 'string' && v.startsWith('{"subsystem"')) {
      subsystem = /"subsystem":"([^"]*)"/.exec(v)?.[1]
      continue
    }
    parts.push(typeof v === 'string' ? v : flattenKV(v))
  }
  if (parts.length === 0 && typeof rec.message === 'string') parts.push(rec.message)
  const meta = isObj(rec._meta) ? rec._meta : {}
  const ev: ScanEvent = {kind: 'log', text: parts.join('\n'), role: subsystem ?? 'log'}
  const ts = str(rec.time) ?? str(meta.date)
  if (ts) ev.timestamp = ts
  ev.fields = {subsystem, level: meta.logLevelName}
  return {events: nonEmpty([ev]), recordSessionId: str(rec.session_id), recordAgentId: str(rec.agent_id)}
}

/** `{a: 1, b: "x"}` → `a=1 b=x`: log objects read like the gateway's own key=value lines. */
function flattenKV(v: unknown): string {
  if (!isObj(v)) return flatten(v)
  return Object.entries(v)
    .map(([k, x]) => `${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`)
    .join(' ')
}

/** Every string leaf of a value, newline-joined (bounded). */
export function flatten(v: unknown): string {
  const out: string[] = []
  let size = 0
  const walk = (x: unknown, depth: number): void => {
    if (size > MAX_FLAT_CHARS || depth > 12) return
    if (typeof x === 'string') {
      out.push(x)
      size += x.length
    } else if (Array.isArray(x)) for (const y of x) walk(y, depth + 1)
    else if (isObj(x)) for (const y of Object.values(x)) walk(y, depth + 1)
  }
  walk(v, 0)
  return out.join('\n')
}

function nonEmpty(evs: ScanEvent[]): ScanEvent[] {
  return evs.filter((e) => e.text.length > 0)
}

/**
 * Best guess at the event behind a raw line that cannot be parsed (truncated, not JSON, or too
 * long to parse): enough to pick the rules that apply.
 */
export function inferFromRaw(head: string): Pick<ScanEvent, 'kind' | 'role' | 'toolName'> {
  const role = /"role"\s*:\s*"(\w+)"/.exec(head)?.[1]
  if (role === 'toolResult') return {kind: 'toolResult', role, toolName: /"toolName"\s*:\s*"([^"]+)"/.exec(head)?.[1]}
  if (role === 'assistant') {
    const call = /"type"\s*:\s*"toolCall"[^}]*?"name"\s*:\s*"([^"]+)"/.exec(head)
    return call ? {kind: 'toolCall', role, toolName: call[1]} : {kind: 'assistant', role}
  }
  if (role === 'user') return {kind: 'user', role}
  if (head.includes('"config-io"') || head.includes('"config.write"')) return {kind: 'config', role: 'config.write'}
  return {kind: 'log', role: 'raw'}
}

/** Undo JSON string escapes in raw text so rules see what JSON.parse would have given. */
export function unescapeJsonText(raw: string): string {
  if (!raw.includes('\\')) return raw
  return raw.replace(/\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g, (_m, hex: string | undefined, c: string | undefined) => {
    if (hex) return String.fromCharCode(parseInt(hex, 16))
    switch (c) {
      case 'n':
        return '\n'
      case 't':
        return '\t'
      case 'r':
        return '\r'
      case 'b':
        return '\b'
      case 'f':
        return '\f'
      default:
        return c ?? ''
    }
  })
}
