import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

/**
 * Benchmark cases from public attack data nobody on the project wrote (../shared/bench-data, read
 * at run time, never copied): BIPIA's attack instructions inside its carrier documents, delivered
 * as tool results; ClawSecBench's attack turns as messages (and, where it has them, the files,
 * pages and mails it plants as tool results), with the tool calls its categories aim at. The
 * same carriers and ClawSecBench's benign cases are the controls.
 */

export type Channel = 'toolResult' | 'message' | 'toolCall'

/** One event of a generated session that the bench checks. */
export interface Probe {
  channel: Channel
  /** true: an attack (counts for recall); false: a benign control (counts for false positives). */
  attack: boolean
  source: 'bipia' | 'clawsecbench'
  category: string
  /** The attack text alone (for the list of misses). */
  attackText?: string
}

export interface Turn {
  role: 'user' | 'toolCall' | 'toolResult' | 'assistant'
  text: string
  tool?: string
  args?: Record<string, unknown>
  owner?: boolean
  probe?: Probe
}

export interface Case {
  id: string
  turns: Turn[]
}

/** Where the data is: --data, IR_BENCH_DATA, or shared/bench-data beside the checkout (or its parent). */
export function dataDir(given?: string): string {
  const candidates = [given, process.env.IR_BENCH_DATA]
  for (let dir = process.cwd(), i = 0; i < 4; i++, dir = path.dirname(dir))
    candidates.push(path.join(dir, '..', 'shared', 'bench-data'))
  const found = candidates.find((c): c is string => !!c && existsSync(path.join(c, 'bipia')))
  if (!found) throw new Error('bench data not found: pass --data <dir> (the shared bench-data folder, see its README)')
  return found
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T
const readJsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T)

interface Carrier {
  kind: 'email' | 'table' | 'code'
  text: string
  question: string
}

function carriers(dir: string): Carrier[] {
  const b = path.join(dir, 'bipia', 'benchmark')
  const out: Carrier[] = []
  for (const kind of ['email', 'table'] as const)
    for (const r of readJsonl<{context: string; question: string}>(path.join(b, kind, 'test.jsonl')))
      out.push({kind, text: r.context, question: r.question})
  for (const r of readJsonl<{context: string; code: string[] | string; error: string[] | string}>(
    path.join(b, 'code', 'test.jsonl'),
  )) {
    const code = Array.isArray(r.code) ? r.code.join('\n') : r.code
    const error = Array.isArray(r.error) ? r.error.join('\n') : r.error
    out.push({kind: 'code', text: `${r.context}\n\n${code}\n\n${error}`, question: 'Fix the error in this code.'})
  }
  return out
}

/** BIPIA places the attack at the start, middle or end of the document. */
function insert(doc: string, attack: string, at: number): string {
  if (at === 0) return `${attack}\n${doc}`
  if (at === 2) return `${doc}\n${attack}`
  const mid = doc.indexOf('\n', Math.floor(doc.length / 2))
  const cut = mid < 0 ? Math.floor(doc.length / 2) : mid
  return `${doc.slice(0, cut)}\n${attack}\n${doc.slice(cut)}`
}

/** How a carrier reaches the agent, as OpenClaw delivers it: a file read, a fetched page (wrapped), a mail tool. */
function deliver(c: Carrier, i: number, text: string): Turn[] {
  const how = i % 3
  if (how === 1) {
    const id = (0x1000_0000_0000_0000n + BigInt(i)).toString(16)
    const wrapped = `<<<EXTERNAL_UNTRUSTED_CONTENT id="${id}">>>\nSource: Web Fetch\n---\n${text}\n<<<END_EXTERNAL_UNTRUSTED_CONTENT id="${id}">>>`
    return [
      {role: 'toolCall', text: '', tool: 'web_fetch', args: {url: `http://127.0.0.1:8080/${c.kind}/${i}`}},
      {role: 'toolResult', text: wrapped, tool: 'web_fetch'},
    ]
  }
  if (how === 2 && c.kind === 'email') {
    return [
      {role: 'toolCall', text: '', tool: 'email', args: {action: 'read', id: String(i)}},
      {role: 'toolResult', text, tool: 'email'},
    ]
  }
  const file = c.kind === 'code' ? `src/job_${i}.py` : c.kind === 'table' ? `data/table_${i}.md` : `mail/${i}.eml`
  return [
    {role: 'toolCall', text: '', tool: 'read', args: {path: file}},
    {role: 'toolResult', text, tool: 'read'},
  ]
}

/**
 * BIPIA: every attack of a split in two carriers of its kind (text attacks: e-mails and tables;
 * code attacks: code). The rules were written against the test split's misses; the train split
 * (other categories, same carriers) is the held-out check.
 */
export function bipiaCases(dir: string, split: 'test' | 'train' = 'test'): Case[] {
  const b = path.join(dir, 'bipia', 'benchmark')
  const all = carriers(dir)
  const text = all.filter((c) => c.kind !== 'code')
  const code = all.filter((c) => c.kind === 'code')
  const out: Case[] = []
  let n = 0
  const add = (c: Carrier, attack: string | undefined, category: string) => {
    const i = n++
    const body = attack === undefined ? c.text : insert(c.text, attack, i % 3)
    const [callTurn, resultTurn] = deliver(c, i, body)
    resultTurn!.probe = {
      channel: 'toolResult',
      attack: attack !== undefined,
      source: 'bipia',
      category,
      attackText: attack,
    }
    out.push({
      id: `bipia-${i}`,
      turns: [
        {role: 'user', text: c.question, owner: true},
        callTurn!,
        resultTurn!,
        {role: 'assistant', text: 'Here is what I found.'},
      ],
    })
  }
  for (const [file, pool] of [
    [`text_attack_${split}.json`, text],
    [`code_attack_${split}.json`, code],
  ] as const) {
    const attacks = readJson<Record<string, string[]>>(path.join(b, file))
    let k = 0
    for (const [category, list] of Object.entries(attacks))
      for (const a of list) for (let j = 0; j < 2; j++) add(pool[(k++ * 7) % pool.length]!, a, category)
  }
  for (const c of all) add(c, undefined, `benign ${c.kind}`)
  return out
}

interface ClawCase {
  id: number
  category: string
  goal: 'harmful' | 'benign'
  /** The turns (a single string in some cases). */
  input: string[] | string
  environment: Array<{type: string; name: string; content?: string}>
}

/**
 * The persistence call a ClawSecBench category aims at, where the category says what it is
 * (skills, the agent's memory, a skill's or the gateway's configuration); other categories aim
 * at whatever their text says, and get no call here.
 */
function aimedCall(c: ClawCase & {input: string[]}): Turn | undefined {
  const text = c.input.join('\n')
  const skill = c.environment.find((e) => e.type === 'skill')?.name ?? 'weather'
  const named = /\bnamed\s+([A-Za-z][\w-]{1,40})/.exec(text)?.[1] ?? 'helper'
  const ws = '/root/.openclaw/workspace'
  switch (c.category) {
    case 'skill supply-chain attacks':
      return {role: 'toolCall', text: '', tool: 'write', args: {path: `${ws}/skills/${named}/SKILL.md`, content: text}}
    case 'configuration tampering':
      return /openclaw\.json/i.test(text)
        ? {role: 'toolCall', text: '', tool: 'edit', args: {path: '/root/.openclaw/openclaw.json', newText: text}}
        : {role: 'toolCall', text: '', tool: 'edit', args: {path: `${ws}/skills/${skill}/SKILL.md`, newText: text}}
    case 'memory poisoning':
      return {role: 'toolCall', text: '', tool: 'write', args: {path: `${ws}/MEMORY.md`, content: text}}
    default:
      return undefined
  }
}

/**
 * ClawSecBench: each case's turns as messages from a sender who is not the owner (an attacker
 * talks to the bot; the owner's own requests are not attacks), its planted files, pages and mails
 * as tool results, and the call its category aims at after them. Benign cases are controls.
 */
export function clawCases(dir: string): Case[] {
  const data = readJson<ClawCase[]>(path.join(dir, 'clawsecbench', 'benchmark_data.json'))
  return data.map((raw) => {
    const c = {...raw, input: typeof raw.input === 'string' ? [raw.input] : raw.input}
    const attack = c.goal === 'harmful'
    const turns: Turn[] = []
    // in indirect injection the owner asks for the page or file; the attack is in what comes back
    const indirect = c.category === 'indirect prompt injection'
    for (const t of c.input.slice(0, 6))
      turns.push({
        role: 'user',
        text: t,
        owner: indirect,
        probe: indirect ? undefined : {channel: 'message', attack, source: 'clawsecbench', category: c.category},
      })
    for (const e of c.environment) {
      if (!e.content) continue
      const tool = e.type === 'web' ? 'web_fetch' : e.type === 'email' ? 'email' : 'read'
      const args = e.type === 'web' ? {url: 'http://127.0.0.1:8080/page'} : {path: e.name}
      turns.push({role: 'toolCall', text: '', tool, args})
      turns.push({
        role: 'toolResult',
        text: e.content,
        tool,
        probe: {channel: 'toolResult', attack, source: 'clawsecbench', category: c.category},
      })
    }
    const call = attack ? aimedCall(c) : undefined
    if (call) turns.push({...call, probe: {channel: 'toolCall', attack, source: 'clawsecbench', category: c.category}})
    turns.push({role: 'assistant', text: 'Done.'})
    return {id: `claw-${c.id}`, turns}
  })
}
