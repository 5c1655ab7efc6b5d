/**
 * Times `ir collect` against what a responder types by hand on the same generated state dir
 * (bench/generate.ts), alternating runs in one go:
 *   tsx bench/collect.ts --size 1GiB [--runs 2] [--rg-full-runs 1] [--rss-sizes 256MiB] [--built]
 *   ir        `ir collect --state-dir DIR --yes --json --out OUT` (copy + SHA-256 + scan + redaction,
 *             SQLite backups + transcript export, tar.gz, manifest, read-back verification)
 *   manual    `tar czf` + `sha256sum` of every file + `rg -n -a -f patterns.txt` (the rule packs'
 *             regexes, as bench/run.ts builds them), one after the other
 *   manual-kw the same with `rg -n -a -i -F -f keywords.txt` (literal keywords only: a lower bound)
 * Reports median wall time, the ratio ir / manual, each manual component, and peak RSS
 * (/usr/bin/time -v); --rss-sizes adds ir runs on other sizes to show RSS stays flat.
 * Needs ripgrep (apt-get install -y ripgrep) and GNU time (apt-get install -y time).
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {loadRules} from '../src/detect/rules.js'
import {generate, parseSize} from './generate.js'
import {rgPatterns} from './patterns.js'

const arg = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? (process.argv[i + 1] ?? def) : def
}
const size = arg('size', '1GiB')!
const runs = Number(arg('runs', '2'))
const rgFullRuns = Number(arg('rg-full-runs', '1'))
const rssSizes = (arg('rss-sizes', '') ?? '').split(',').filter(Boolean)
const built = process.argv.includes('--built')
const outDir = path.resolve('bench', 'out')
const scratch = path.join(outDir, 'collect-scratch')

for (const [cmd, hint] of [
  ['rg', 'apt-get install -y ripgrep'],
  ['/usr/bin/time', 'apt-get install -y time'],
  ['tar', ''],
  ['sha256sum', ''],
]) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    console.error(`${cmd} is needed: ${hint}`)
    process.exit(3)
  }
}

/** Our own copy of the generated state dir (never the one bench/run.ts uses, never modified). */
function dataset(s: string): string {
  const dir = path.join(outDir, `collect-${s}`)
  if (!existsSync(`${dir}.complete`)) {
    console.log(`generating ${s} into ${dir} …`)
    rmSync(dir, {recursive: true, force: true})
    generate(dir, parseSize(s), 1)
    writeFileSync(`${dir}.complete`, '')
  }
  return dir
}

interface Timed {
  wall: number
  cpu: number
  rssMiB: number
  exit: number
}

/** Run under GNU time: wall seconds and peak RSS of the whole process tree. */
function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const tf = path.join(scratch, 'time.txt')
  const r = spawnSync('/usr/bin/time', ['-v', '-o', tf, ...argv], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  })
  const t = readFileSync(tf, 'utf8')
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(t)
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(t)
  const cpu =
    Number(/User time \(seconds\): ([\d.]+)/.exec(t)?.[1] ?? Number.NaN) +
    Number(/System time \(seconds\): ([\d.]+)/.exec(t)?.[1] ?? Number.NaN)
  const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : Number.NaN
  if (r.status !== 0 && !(argv.includes('rg') && r.status === 1))
    console.error(`  ${argv.slice(0, 3).join(' ')} … exited ${r.status}: ${r.stderr?.toString().slice(-400)}`)
  return {wall: seconds, cpu, rssMiB: rss ? Number(rss[1]) / 1024 : Number.NaN, exit: r.status ?? -1}
}

const irEntry = path.resolve(built ? 'bin/run.js' : 'bin/dev.js')

function runIr(data: string, i: number): Timed {
  const dir = path.join(scratch, `ir-${i}`)
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  const t = timed(
    [
      process.execPath,
      irEntry,
      'collect',
      '--state-dir',
      data,
      '--yes',
      '--json',
      '--out',
      path.join(dir, 'out'),
      '--case',
      `bench-${i}`,
    ],
    {...process.env, IR_HOME: path.join(dir, 'home')},
  )
  rmSync(dir, {recursive: true, force: true})
  return t
}

function runManual(data: string, i: number, rgArgs: string[]): {total: Timed; parts: Record<string, Timed>} {
  const dir = path.join(scratch, `manual-${i}`)
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  const parts = {
    'tar czf': timed(['tar', 'czf', path.join(dir, 'state.tar.gz'), '-C', path.dirname(data), path.basename(data)]),
    sha256sum: timed([
      'sh',
      '-c',
      `find "${data}" -type f -print0 | xargs -0 sha256sum > "${path.join(dir, 'sums.txt')}"`,
    ]),
    rg: timed(['sh', '-c', `rg ${rgArgs.join(' ')} "${data}" > "${path.join(dir, 'rg.txt')}"; test $? -le 1`]),
  }
  rmSync(dir, {recursive: true, force: true})
  const total: Timed = {
    wall: Object.values(parts).reduce((n, p) => n + p.wall, 0),
    cpu: Object.values(parts).reduce((n, p) => n + p.cpu, 0),
    rssMiB: Math.max(...Object.values(parts).map((p) => p.rssMiB)),
    exit: 0,
  }
  return {total, parts}
}

const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

mkdirSync(scratch, {recursive: true})
const data = dataset(size)
const rules = await loadRules([])
const patternsFile = path.join(scratch, 'patterns.txt')
writeFileSync(patternsFile, `${rgPatterns(rules.rules).join('\n')}\n`)
const keywordsFile = path.join(scratch, 'keywords.txt')
writeFileSync(
  keywordsFile,
  `${[...new Set(rules.rules.flatMap((r) => (r.detector === 'base64-payload' ? [] : r.keywords)))].join('\n')}\n`,
)
const bytes = Number(spawnSync('du', ['-sb', data]).stdout.toString().split('\t')[0])
const files = Number(
  spawnSync('sh', ['-c', `find "${data}" -type f | wc -l`])
    .stdout.toString()
    .trim(),
)
console.log(
  `data: ${data}: ${(bytes / (1 << 30)).toFixed(2)} GiB in ${files} files; ${runs} alternating runs (rg-full ${rgFullRuns}); node ${process.version}; ${built ? 'dist' : 'tsx'}`,
)

const ir: Timed[] = []
const kw: Array<{total: Timed; parts: Record<string, Timed>}> = []
const full: Array<{total: Timed; parts: Record<string, Timed>}> = []
for (let i = 0; i < runs; i++) {
  const a = runIr(data, i)
  ir.push(a)
  console.log(
    `run ${i + 1}: ir collect ${a.wall.toFixed(1)} s (cpu ${a.cpu.toFixed(1)} s), ${a.rssMiB.toFixed(0)} MiB; load ${loadavg()}`,
  )
  const k = runManual(data, i, ['-n', '-a', '-i', '-F', '-f', keywordsFile])
  kw.push(k)
  console.log(
    `run ${i + 1}: manual-kw ${k.total.wall.toFixed(1)} s (cpu ${k.total.cpu.toFixed(1)} s: ${Object.entries(k.parts)
      .map(([n, p]) => `${n} ${p.wall.toFixed(1)}`)
      .join(', ')})`,
  )
  if (i < rgFullRuns) {
    const f = runManual(data, i, ['-n', '-a', '--regex-size-limit', '2G', '--dfa-size-limit', '2G', '-f', patternsFile])
    full.push(f)
    console.log(
      `run ${i + 1}: manual ${f.total.wall.toFixed(1)} s (cpu ${f.total.cpu.toFixed(1)} s: ${Object.entries(f.parts)
        .map(([n, p]) => `${n} ${p.wall.toFixed(1)}`)
        .join(', ')})`,
    )
  }
}
const rss: Record<string, number> = {[size]: Math.max(...ir.map((t) => t.rssMiB))}
for (const s of rssSizes) {
  const t = runIr(dataset(s), 99)
  rss[s] = t.rssMiB
  console.log(`rss: ir collect on ${s}: ${t.wall.toFixed(1)} s, ${t.rssMiB.toFixed(0)} MiB`)
}

const irMed = median(ir.map((t) => t.wall))
const partsMed = (list: typeof kw) =>
  Object.fromEntries(Object.keys(list[0]?.parts ?? {}).map((k) => [k, median(list.map((x) => x.parts[k]!.wall))]))
const result = {
  size,
  bytes,
  files,
  runs,
  node: process.version,
  rg: spawnSync('rg', ['--version']).stdout.toString().split('\n')[0],
  loadAverageAtEnd: loadavg(),
  ir: {
    medianSeconds: irMed,
    medianCpuSeconds: median(ir.map((t) => t.cpu)),
    peakRssMiB: rss[size],
    throughputMiBs: bytes / (1 << 20) / irMed,
    rssBySize: rss,
  },
  manual: full.length
    ? {
        medianSeconds: median(full.map((f) => f.total.wall)),
        medianCpuSeconds: median(full.map((f) => f.total.cpu)),
        parts: partsMed(full),
        ratioIrOverManual: irMed / median(full.map((f) => f.total.wall)),
      }
    : undefined,
  manualKeywords: {
    medianSeconds: median(kw.map((f) => f.total.wall)),
    medianCpuSeconds: median(kw.map((f) => f.total.cpu)),
    parts: partsMed(kw),
    ratioIrOverManual: irMed / median(kw.map((f) => f.total.wall)),
    ratioCpuIrOverManual: median(ir.map((t) => t.cpu)) / median(kw.map((f) => f.total.cpu)),
  },
}
const file = path.join(outDir, `collect-results-${size}.json`)
writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
console.log(JSON.stringify(result, null, 2))
console.log(`written ${file}`)
rmSync(scratch, {recursive: true, force: true})
