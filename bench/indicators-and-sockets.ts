// Times the two bounded reads ir status and ir respond add: the skill indicator check (every file of
// every installed skill) and the gateway-socket scan of /proc/net/tcp (a host under a connection flood).
//   npx tsx bench/indicators-and-sockets.ts [--skills 200] [--files 20] [--rows 200000]
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {indicatorHits, loadIndicators, skillDirs} from '../src/openclaw/indicators.js'
import {tcpSocketsOf} from '../src/system/proc-net.js'

const {values} = parseArgs({
  options: {
    skills: {type: 'string', default: '200'},
    files: {type: 'string', default: '20'},
    rows: {type: 'string', default: '200000'},
  },
})
const root = mkdtempSync(path.join(os.tmpdir(), 'ir-bench-ioc-'))
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`
const time = <T>(label: string, fn: () => T): T => {
  const rss0 = process.memoryUsage().rss
  const t0 = performance.now()
  const r = fn()
  console.log(`${label}: ${(performance.now() - t0).toFixed(0)} ms, RSS +${mib(process.memoryUsage().rss - rss0)}`)
  return r
}
try {
  const state = path.join(root, 'state')
  for (let s = 0; s < Number(values.skills); s++) {
    const dir = path.join(state, 'skills', `skill-${s}`)
    mkdirSync(path.join(dir, 'scripts'), {recursive: true})
    writeFileSync(path.join(dir, 'SKILL.md'), `---\nname: skill-${s}\n---\n${'Some instructions.\n'.repeat(200)}`)
    for (let f = 1; f < Number(values.files); f++)
      writeFileSync(path.join(dir, 'scripts', `f${f}.sh`), `#!/bin/sh\n${'echo hello world\n'.repeat(500)}`)
  }
  const data = loadIndicators(path.join('playbooks', 'data', 'indicators.yaml'))
  const r = time(`indicators: ${values.skills} skills x ${values.files} files`, () =>
    indicatorHits(skillDirs(state, undefined), data),
  )
  console.log(`  checked ${r.check.files} files, skipped ${r.check.skipped}, ${r.hits.length} hits`)

  const proc = path.join(root, 'proc')
  mkdirSync(path.join(proc, 'net'), {recursive: true})
  const hdr = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
  const rows: string[] = [hdr]
  for (let i = 0; i < Number(values.rows); i++)
    rows.push(
      `${i}: 0100007F:4965 0200007F:${(1024 + (i % 60000)).toString(16)} 01 0:0 0:0 0 1000 0 ${100000 + i} 1 0 100 0 0 10 0\n`,
    )
  writeFileSync(path.join(proc, 'net', 'tcp'), rows.join(''))
  writeFileSync(path.join(proc, 'net', 'tcp6'), hdr)
  const inodes = new Set(Array.from({length: Number(values.rows)}, (_, i) => String(100000 + i)))
  const s = time(`sockets: ${values.rows} rows, every one the gateway's`, () => tcpSocketsOf(inodes, 1000, proc))
  console.log(`  kept ${s.sockets.length}, truncated ${s.truncated}`)
} finally {
  rmSync(root, {recursive: true, force: true})
}
