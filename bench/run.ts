/**
 * Times `ir scan` against ripgrep on the same generated state dir (bench/generate.ts):
 *   tsx bench/run.ts --size 256MiB [--runs 3] [--rg-full-runs 1] [--no-rg-full] [--built]
 * Needs ripgrep: `apt-get install -y ripgrep` (Debian) or `brew install ripgrep`.
 * Three commands, alternating, page cache warm:
 *   ir       `ir scan DIR --format jsonl` (source via tsx, or dist/ with --built after `npm run build`)
 *   rg-full  `rg -c -a -f patterns.txt DIR`: the rule packs' regexes as a responder would grep them
 *   rg-kw    `rg -c -a -i -F -f keywords.txt DIR`: only the rules' literal keywords (a lower bound)
 * Reports median wall time, ratio ir/rg, CPU time (user + system) and peak RSS (/usr/bin/time -v)
 * and recall against the generator's manifest of planted attacks. On a shared machine CPU time is
 * the figure to compare across runs: wall time moves with the load.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {loadRules} from '../src/detect/rules.js'
import type {Finding} from '../src/detect/finding-types.js'
import {generate, parseSize} from './generate.js'
import type {Manifest} from './generate.js'
import {rgPatterns} from './patterns.js'

const arg = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? (process.argv[i + 1] ?? def) : def
}
const flag = (name: string) => process.argv.includes(`--${name}`)

const size = arg('size', '256MiB')!
const runs = Number(arg('runs', '3'))
// rg with the full regex set is slow (minutes per GiB): fewer rounds of it keep the bench short
const rgFullRuns = Number(arg('rg-full-runs', String(runs)))
const outDir = path.resolve('bench', 'out')
const data = path.join(outDir, size)
const manifestFile = path.join(outDir, `${size}.manifest.json`)

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
}

if (!which('rg')) {
  console.error(
    'ripgrep (rg) is not installed. Install it: apt-get install -y ripgrep (Debian/Ubuntu) or brew install ripgrep.',
  )
  process.exit(3)
}
if (!existsSync('/usr/bin/time')) {
  console.error('/usr/bin/time is needed for peak RSS: apt-get install -y time.')
  process.exit(3)
}

if (!existsSync(manifestFile) || !existsSync(data)) {
  console.log(`generating ${size} into ${data} …`)
  generate(data, parseSize(size), 1)
}
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest

const rules = await loadRules([])
const patternsFile = path.join(outDir, 'patterns.txt')
writeFileSync(patternsFile, `${rgPatterns(rules.rules).join('\n')}\n`)
const keywordsFile = path.join(outDir, 'keywords.txt')
writeFileSync(
  keywordsFile,
  // what ir's prefilter looks for: the rules' keywords and their patterns' own (payload rules have none there)
  `${[
    ...new Set(
      rules.rules.flatMap((r) =>
        r.detector === 'base64-payload' || r.payload
          ? []
          : [...r.keywords, ...r.patternKeywords.flatMap((k) => k ?? [])],
      ),
    ),
  ].join('\n')}\n`,
)

// warm the page cache so every contender reads from memory
for (const f of walk(data)) readFileSync(f)

const irBin = flag('built') ? ['bin/run.js'] : ['--import', 'tsx', 'bin/dev.js']
const findingsFile = path.join(outDir, `findings-${size}.jsonl`)
interface Cmd {
  name: string
  argv: string[]
  stdout?: string
}
const cmds: Cmd[] = [
  {name: 'ir', argv: ['node', ...irBin, 'scan', data, '--format', 'jsonl'], stdout: findingsFile},
  {name: 'rg-kw', argv: ['rg', '-c', '-a', '-i', '-F', '-f', keywordsFile, data]},
]
if (!flag('no-rg-full'))
  cmds.push({
    name: 'rg-full',
    argv: ['rg', '-c', '-a', '--regex-size-limit', '2G', '--dfa-size-limit', '2G', '-f', patternsFile, data],
  })

interface Sample {
  wall: number
  /** User + system CPU seconds. */
  cpu: number
  rssMiB: number
}
const samples = new Map<string, Sample[]>(cmds.map((c) => [c.name, []]))
for (let i = 0; i < runs; i++) {
  for (const c of cmds) {
    if (c.name === 'rg-full' && i >= rgFullRuns) continue
    const s = timed(c)
    samples.get(c.name)!.push(s)
    console.log(
      `run ${i + 1}/${runs} ${c.name.padEnd(8)} ${s.wall.toFixed(2)} s  CPU ${s.cpu.toFixed(2)} s  peak RSS ${s.rssMiB.toFixed(0)} MiB`,
    )
  }
}

function timed(c: Cmd): Sample {
  const out = c.stdout ?? '/dev/null'
  const shell = `/usr/bin/time -v ${c.argv.map(q).join(' ')} > ${q(out)} 2> ${q(`${out === '/dev/null' ? path.join(outDir, c.name) : out}.time`)}`
  const t0 = process.hrtime.bigint()
  spawnSync('sh', ['-c', shell], {stdio: 'inherit'})
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const timeOut = readFileSync(`${out === '/dev/null' ? path.join(outDir, c.name) : out}.time`, 'utf8')
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timeOut)?.[1] ?? 0) / 1024
  const seconds = (what: string) => Number(new RegExp(`${what} time \\(seconds\\): ([\\d.]+)`).exec(timeOut)?.[1] ?? 0)
  return {wall, cpu: seconds('User') + seconds('System'), rssMiB: rss}
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ir = samples.get('ir')!
const result: Record<string, unknown> = {
  size,
  bytes: manifest.bytes,
  files: manifest.files,
  runs,
  node: process.version,
  rg: execFileSync('rg', ['--version']).toString().split('\n')[0],
  ir: {
    medianSeconds: median(ir.map((s) => s.wall)),
    medianCpuSeconds: median(ir.map((s) => s.cpu)),
    peakRssMiB: Math.max(...ir.map((s) => s.rssMiB)),
    throughputMiBs: manifest.bytes / 1024 ** 2 / median(ir.map((s) => s.wall)),
  },
}
for (const c of cmds.filter((x) => x.name !== 'ir')) {
  const m = median(samples.get(c.name)!.map((s) => s.wall))
  const cpu = median(samples.get(c.name)!.map((s) => s.cpu))
  result[c.name] = {
    medianSeconds: m,
    ratioIrOverRg: median(ir.map((s) => s.wall)) / m,
    medianCpuSeconds: cpu,
    cpuRatioIrOverRg: median(ir.map((s) => s.cpu)) / cpu,
  }
}

// recall: a planted event counts as found when a finding of its rule (or an accepted alternative) sits at its place
const findings = readFileSync(findingsFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Finding)
const at = new Map<string, Set<string>>()
for (const f of findings) {
  const s = f.source
  const key = s.store
    ? `${path.relative(data, s.store)}|${s.sessionId}|${s.seq}`
    : `${path.relative(data, s.file)}:${s.line}`
  if (!at.has(key)) at.set(key, new Set())
  at.get(key)!.add(f.ruleId)
}
const missed: typeof manifest.planted = []
for (const p of manifest.planted) {
  const key = p.store ? `${p.store}|${p.sessionId}|${p.seq}` : `${p.file}:${p.line}`
  const ids = at.get(key)
  if (!ids || ![p.ruleId, ...(p.alt ?? [])].some((id) => ids.has(id))) missed.push(p)
}
result.recall = {
  planted: manifest.planted.length,
  found: manifest.planted.length - missed.length,
  ratio: (manifest.planted.length - missed.length) / manifest.planted.length,
  missed: missed.slice(0, 20),
}
result.findings = findings.length
writeFileSync(path.join(outDir, `results-${size}.json`), JSON.stringify(result, null, 2))
console.log(JSON.stringify(result, null, 2))

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) yield* walk(p)
    else if (statSync(p).isFile()) yield p
  }
}
