/**
 * Makes dist/ the root `bin/run.js` starts from: dist/package.json (the package's, commands under
 * ./commands) and dist/oclif.manifest.json. Without a manifest oclif imports every command (and
 * everything they import) to find one: half a second before any command starts. Sources, tests
 * and bin/dev.js keep the package root, where there is no manifest: they always load the code as
 * it is. Also dist/rule-packs.json: the shipped rule packs already parsed, by the SHA-256 of their
 * bytes (YAML parsing was most of a scan's start-up; src/detect/rules.ts uses an entry only for
 * identical bytes). Run by `npm run build`, after tsc.
 */
import {createHash} from 'node:crypto'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {Plugin} from '@oclif/core'
import {parse as parseYaml} from 'yaml'

const root = path.resolve('dist')
const pjson = JSON.parse(readFileSync('package.json', 'utf8')) as {oclif: Record<string, unknown>}
writeFileSync(
  path.join(root, 'package.json'),
  `${JSON.stringify({...pjson, oclif: {...pjson.oclif, commands: './commands'}}, null, 2)}\n`,
)
const plugin = new Plugin({
  root,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
})
await plugin.load()
writeFileSync(path.join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest))
console.log(`dist/oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)

const packsDir = path.join('playbooks', 'rules')
const packs: Record<string, unknown> = {}
const packFiles = readdirSync(packsDir)
  .filter((n) => /\.ya?ml$/i.test(n))
  .map((n) => path.join(packsDir, n))
// the indicator list becomes rules too (src/detect/indicator-rules.ts)
for (const file of [...packFiles, path.join('playbooks', 'data', 'indicators.yaml')]) {
  const text = readFileSync(file, 'utf8')
  packs[createHash('sha256').update(text).digest('hex')] = parseYaml(text)
}
writeFileSync(path.join(root, 'rule-packs.json'), JSON.stringify(packs))
console.log(`dist/rule-packs.json: ${Object.keys(packs).length} packs`)
