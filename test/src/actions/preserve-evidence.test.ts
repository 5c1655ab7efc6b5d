import {readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {ACTIONS} from '../../../src/actions/registry.js'
import {preserveEvidence} from '../../../src/actions/preserve-evidence.js'
import {openCase} from '../../../src/case/case-store.js'
import {sha256} from '../../../src/case/journal.js'
import {runPlaybook} from '../../../src/playbook/engine.js'
import {defaultsPrompter} from '../../../src/playbook/prompter.js'
import {realRunner} from '../../../src/system/process-runner.js'
import {writeConfig} from '../../fixtures/state-dirs.js'
import {tempDir} from '../../helpers/temp.js'

describe('preserve-evidence', () => {
  it('copies config, its history and logs into the case, hashed in the journal, source untouched', async () => {
    // Given a config with backups, a broken last-good copy and a config-audit log
    const state = tempDir()
    const config = writeConfig(state, '{"gateway": {"auth": {"token": "t0-secret"}}}')
    writeFileSync(`${config}.bak`, '{"older": true}')
    writeFileSync(`${config}.bak.1`, '{"oldest": true}')
    writeFileSync(`${config}.last-good`, '{ broken')
    writeFileSync(`${config}.unrelated`, 'no')
    await import('node:fs').then((fs) => fs.mkdirSync(path.join(state, 'logs')))
    writeFileSync(path.join(state, 'logs', 'config-audit.jsonl'), '{"event":"config.write"}\n')
    utimesSync(config, new Date('2026-01-01'), new Date('2026-01-02'))
    const before = statSync(config).mtimeMs
    const c = openCase(undefined, {home: tempDir()})
    // When the step runs
    const out = await runPlaybook(
      {
        id: 'p',
        title: 't',
        description: '',
        steps: [{id: 'keep', title: 'keep', action: 'preserve-evidence', onError: 'stop'}],
      },
      {
        install: {stateDir: state, configPath: config, source: 'flag', stateDirExists: true, configExists: true},
        case: c,
        prompter: defaultsPrompter,
        runner: realRunner,
        env: {},
        now: () => new Date(),
        vars: {},
        dryRun: false,
        results: new Map(),
        state: {},
      },
      {mayChange: false, actions: ACTIONS},
    )
    // Then each file is in evidence/ with the hash the journal records, and the source kept its mtime
    expect(out.steps[0]).toMatchObject({status: 'done', verified: true})
    const entry = c.journal.entries().find((e) => e.step === 'keep')!
    // (gateway logs of this user in /tmp/openclaw are kept too; only the state dir's files are checked here)
    const inState = entry.files!.filter((f) => f.path.startsWith(state))
    expect(inState.map((f) => path.basename(f.path)).sort()).toEqual([
      'config-audit.jsonl',
      'openclaw.json',
      'openclaw.json.bak',
      'openclaw.json.bak.1',
      'openclaw.json.last-good',
    ])
    for (const f of inState) {
      const copy = path.join(c.dir, 'evidence', 'state', path.relative(state, f.path))
      expect(f.sha256).toBe(sha256(readFileSync(f.path)))
      expect(statSync(copy).mode & 0o777).toBe(0o600)
      // logs are copied byte for byte; configs with their secret values masked
      if (f.path.endsWith('.jsonl')) expect(sha256(readFileSync(copy))).toBe(f.sha256)
    }
    const configCopy = readFileSync(path.join(c.dir, 'evidence', 'state', 'openclaw.json'), 'utf8')
    expect(configCopy).toMatch(/"token": "«sha256:[0-9a-f]{12}»"/)
    expect(readFileSync(path.join(c.dir, 'evidence', 'state', 'openclaw.json.last-good'), 'utf8')).toBe('{ broken')
    expect(statSync(config).mtimeMs).toBe(before)
    // And neither the journal nor the evidence holds the secret
    expect(readFileSync(c.journal.file, 'utf8')).not.toContain('t0-secret')
    expect(configCopy).not.toContain('t0-secret')
    expect(preserveEvidence.mutates).toBe(false)
  })
})

describe('preserve-evidence in a rerun of the same case', () => {
  it('keeps the earlier copy when the file changed since (the pre-lockdown config is evidence)', async () => {
    // Given a case that already preserved the open config
    const state = tempDir()
    const config = writeConfig(state, '{"gateway": {"bind": "lan"}}')
    const c = openCase(undefined, {home: tempDir()})
    const ctx = {
      install: {stateDir: state, configPath: config, source: 'flag' as const, stateDirExists: true, configExists: true},
      case: c,
      prompter: defaultsPrompter,
      runner: realRunner,
      env: {},
      now: () => new Date(),
      vars: {},
      dryRun: false,
      results: new Map(),
      state: {},
    }
    const plan = await preserveEvidence.plan(ctx, {logs: false})
    await preserveEvidence.apply(ctx, {logs: false}, plan)
    // When the config is locked down and the step runs again
    writeFileSync(config, '{"gateway": {"bind": "loopback"}}')
    await preserveEvidence.apply(ctx, {logs: false}, await preserveEvidence.plan(ctx, {logs: false}))
    // Then both versions are in the case
    const dir = path.join(c.dir, 'evidence', 'state')
    const names = (await import('node:fs')).readdirSync(dir).sort()
    expect(names).toHaveLength(2)
    expect(readFileSync(path.join(dir, 'openclaw.json'), 'utf8')).toBe('{"gateway": {"bind": "lan"}}')
    expect(readFileSync(path.join(dir, names[1]!), 'utf8')).toBe('{"gateway": {"bind": "loopback"}}')
  })
})
