import {chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCommand} from '@oclif/test'
import {execa} from 'execa'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {runIrAsUser} from '../helpers/run-as-user.js'
import {tempDir} from '../helpers/temp.js'
import {fileEraState, SECRETS} from '../src/evidence/helpers.js'

let saved: string | undefined
beforeEach(() => {
  saved = process.env.IR_HOME
  process.env.IR_HOME = tempDir('ir-home-')
})
afterEach(() => {
  process.exitCode = undefined
  if (saved === undefined) delete process.env.IR_HOME
  else process.env.IR_HOME = saved
})

describe('ir collect', () => {
  it('--help names the flags and shows examples', async () => {
    const {stdout} = await runCommand(['collect', '--help'], import.meta.url)
    for (const f of [
      '--out',
      '--since',
      '--rules',
      '--format',
      '--include-secrets',
      '--dry-run',
      '--yes',
      '--case',
      '--state-dir',
      '--json',
    ])
      expect(stdout).toContain(f)
    expect(stdout).toContain('EXAMPLES')
  })

  it('--json prints {case, bundle, bundleSha256, files, findings, skipped} and exits 0', async () => {
    // Given a file-era install
    const root = tempDir('ir-collect-cmd-')
    const {stateDir} = fileEraState(root)
    const out = path.join(root, 'out')
    // When collected non-interactively
    const {stdout} = await runCommand(
      ['collect', '--state-dir', stateDir, '--yes', '--json', '--out', out],
      import.meta.url,
    )
    // Then stdout is the result object only
    const r = JSON.parse(stdout) as Record<string, unknown>
    expect(process.exitCode ?? 0).toBe(0)
    expect(r.case).toMatch(/^IR-\d{8}-\d{6}-[0-9a-f]{4}$/)
    expect(r.bundle).toMatch(new RegExp(`^${out}/${r.case as string}-.+-\\d{8}T\\d{6}Z\\.tar\\.gz$`))
    expect(readFileSync(`${r.bundle as string}.sha256`, 'utf8').split(' ')[0]).toBe(r.bundleSha256)
    expect(typeof r.files).toBe('number')
    expect(Array.isArray(r.findings) && (r.findings as unknown[]).length > 0).toBe(true)
    expect(r.skipped).toEqual(
      expect.arrayContaining([
        {path: path.join(stateDir, 'agents/main/sessions/x.jsonl'), reason: 'symlink: recorded, not followed'},
      ]),
    )
    expect(r.verified).toBe(true)
    expect(stdout).not.toContain(SECRETS.gatewayToken)
  })

  it('prints the steps, the bundle and its hash as text', async () => {
    const root = tempDir('ir-collect-cmd-')
    const {stateDir} = fileEraState(root)
    const {stdout} = await runCommand(
      ['collect', '--state-dir', stateDir, '--yes', '--out', path.join(root, 'out'), '--case', 'IR-text-1'],
      import.meta.url,
    )
    const lines = stdout.split('\n')
    expect(lines[0]).toBe('case IR-text-1  playbook collect')
    expect(lines.map((l) => l.slice(0, 20).trim())).toEqual(
      expect.arrayContaining([
        'done      discover',
        'done      volatile',
        'done      acquire',
        'done      scan',
        'done      bundle',
      ]),
    )
    expect(stdout).toMatch(/^bundle {3}\/.+\.tar\.gz$/m)
    expect(stdout).toMatch(/^sha256 {3}[0-9a-f]{64} /m)
    expect(stdout).toContain('verified  every file hashed again as archived matches the manifest')
  })

  it('--dry-run plans every step and writes nothing', async () => {
    const root = tempDir('ir-collect-cmd-')
    const {stateDir} = fileEraState(root)
    const out = path.join(root, 'out')
    const {stdout} = await runCommand(['collect', '--state-dir', stateDir, '--dry-run', '--out', out], import.meta.url)
    expect(stdout).toContain('(dry run: nothing copied)')
    expect(stdout).toMatch(/^planned {3}discover {3}\d+ source\(s\)/m)
    expect(existsSync(out)).toBe(false)
  })

  it('refuses a --since that is not a date (exit 2) and a missing state dir (exit 3)', async () => {
    const root = tempDir('ir-collect-cmd-')
    const {stateDir} = fileEraState(root)
    const bad = await runCommand(
      ['collect', '--state-dir', stateDir, '--yes', '--json', '--since', 'yesterday'],
      import.meta.url,
    )
    expect(JSON.parse(bad.stdout)).toMatchObject({error: {code: 'USAGE', exitCode: 2}})
    expect(process.exitCode).toBe(2)
    process.exitCode = undefined
    const missing = await runCommand(
      ['collect', '--state-dir', path.join(root, 'nope'), '--yes', '--json'],
      import.meta.url,
    )
    expect(JSON.parse(missing.stdout)).toMatchObject({error: {code: 'STATE_DIR_MISSING', exitCode: 3}})
    expect(process.exitCode).toBe(3)
    process.exitCode = undefined
    const fmt = await runCommand(['collect', '--state-dir', stateDir, '--format', 'rar'], import.meta.url)
    expect(fmt.error?.message).toMatch(/Expected --format=rar to be one of: tar.gz, zip/)
  })

  it('refuses --out inside the state dir: collect never writes into the install', async () => {
    const root = tempDir('ir-collect-cmd-')
    const {stateDir} = fileEraState(root)
    const {stdout} = await runCommand(
      ['collect', '--state-dir', stateDir, '--yes', '--json', '--out', path.join(stateDir, 'evidence')],
      import.meta.url,
    )
    expect(JSON.parse(stdout)).toMatchObject({error: {code: 'OUT_INSIDE_STATE', exitCode: 2}})
    expect(existsSync(path.join(stateDir, 'evidence'))).toBe(false)
  })

  it('refuses, before any work, an --out that is a file and a --rules pack that does not load, naming file and rule', async () => {
    // Given an install, a file where the bundle directory should be, and a pack with one rule whose regex is invalid
    const root = tempDir('ir-collect-cmd-')
    const {stateDir} = fileEraState(root)
    const file = path.join(root, 'bundle.tar.gz')
    writeFileSync(file, 'not a directory')
    const pack = path.join(root, 'bad.yaml')
    writeFileSync(
      pack,
      [
        'pack: mine',
        'rules:',
        '  - id: my.broken',
        '    title: Broken',
        '    category: dangerous-exec',
        '    severity: high',
        '    keywords: [curl]',
        "    patterns: ['(unclosed']",
      ].join('\n'),
    )
    // When collect is given each
    const out = await runCommand(
      ['collect', '--state-dir', stateDir, '--yes', '--json', '--out', file],
      import.meta.url,
    )
    const outError = JSON.parse(out.stdout).error
    process.exitCode = undefined
    const rules = await runCommand(
      ['collect', '--state-dir', stateDir, '--yes', '--json', '--rules', pack, '--out', path.join(root, 'o')],
      import.meta.url,
    )
    const rulesError = JSON.parse(rules.stdout).error
    // Then each is a usage error (exit 2) that names the file (and the rule); nothing was written
    expect(outError).toMatchObject({code: 'OUT_NOT_A_DIRECTORY', exitCode: 2})
    expect(outError.message).toContain(file)
    expect(rulesError).toMatchObject({code: 'RULES_INVALID', exitCode: 2})
    expect(rulesError.message).toContain(pack)
    expect(rulesError.message).toContain('my.broken')
    expect(readFileSync(file, 'utf8')).toBe('not a directory')
    expect(existsSync(path.join(root, 'o'))).toBe(false)
  })

  // root reads everything: unreadable files need an ordinary user (nobody), through setpriv
  it.skipIf(process.getuid?.() !== 0)(
    'records unreadable files and directories as failed, still seals a verified bundle, exits 5 (partial)',
    async (ctx) => {
      // Given an install owned by nobody, with one file and one directory only root can read
      const root = tempDir('ir-collect-nobody-')
      chmodSync(root, 0o755)
      const {stateDir} = fileEraState(root)
      const secretFile = path.join(stateDir, 'workspace', 'root-only.md')
      writeFileSync(secretFile, 'root only\n', {mode: 0o600})
      const secretDir = path.join(stateDir, 'cron', 'root-only')
      mkdirSync(secretDir, {mode: 0o700})
      writeFileSync(path.join(secretDir, 'x.json'), '{}')
      const home = path.join(root, 'home')
      mkdirSync(home)
      await execa('chown', ['-R', 'nobody:nogroup', root])
      for (const p of [secretFile, secretDir]) chownSync(p, 0, 0)
      // When nobody collects it
      const r = await runIrAsUser(
        65534,
        65534,
        ['collect', '--state-dir', stateDir, '--yes', '--json', '--out', path.join(root, 'out')],
        {
          env: {PATH: process.env.PATH, HOME: home, IR_HOME: path.join(root, 'irhome'), TMPDIR: home},
          extendEnv: false,
          cwd: home,
          timeout: 60_000,
        },
      )
      if ('unavailable' in r) return ctx.skip(r.unavailable)
      // Then: exit 5, both items failed with the reason, everything else bundled and verified
      expect(r.exitCode, r.stderr).toBe(5)
      const json = JSON.parse(r.stdout) as {verified: boolean; skipped: Array<{path: string; reason: string}>}
      expect(json.verified).toBe(true)
      expect(json.skipped).toEqual(
        expect.arrayContaining([
          {path: secretFile, reason: 'failed: not readable by this user (EACCES)'},
          {path: secretDir, reason: 'failed: cannot list: EACCES'},
        ]),
      )
    },
  )
})
