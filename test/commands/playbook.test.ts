import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCommand} from '@oclif/test'
import {afterEach, describe, expect, it} from 'vitest'

import {tempDir} from '../helpers/temp.js'

afterEach(() => {
  process.exitCode = undefined
})

describe('ir playbook', () => {
  it('validate passes on the shipped playbooks', async () => {
    const {stdout, error} = await runCommand(
      ['playbook', 'validate', 'playbooks/contain.yaml', 'playbooks/rotate.yaml', 'playbooks/collect.yaml'],
      import.meta.url,
    )
    expect(error).toBeUndefined()
    expect(
      stdout
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('ok ')),
    ).toBe(true)
  })

  it('validate rejects a broken playbook precisely, exit 2, same code with --json', async () => {
    const file = path.join(tempDir(), 'typo.yaml')
    writeFileSync(file, 'id: typo\ntitle: t\nsteps:\n  - id: one\n    title: a\n    action: stop-the-world\n')
    const text = await runCommand(['playbook', 'validate', file], import.meta.url)
    expect(text.stdout).toContain(`invalid  ${file} step "one": action: unknown action "stop-the-world"`)
    expect(text.error?.message).toBe('1 of 1 playbook(s) invalid.')
    expect(process.exitCode).toBe(2)
    process.exitCode = undefined
    const json = await runCommand(['playbook', 'validate', file, '--json'], import.meta.url)
    expect(JSON.parse(json.stdout).files[0]).toMatchObject({ok: false, problems: [{step: 'one', field: 'action'}]})
    expect(process.exitCode).toBe(2)
  })

  it('list and show describe the shipped playbooks', async () => {
    const list = await runCommand(['playbook', 'list', '--json'], import.meta.url)
    expect(JSON.parse(list.stdout).playbooks.map((p: {id: string}) => p.id)).toEqual(
      expect.arrayContaining(['contain', 'rotate', 'collect']),
    )
    const show = await runCommand(['playbook', 'show', 'contain'], import.meta.url)
    expect(show.stdout).toMatch(/^contain: /)
  })

  it('run without a TTY and without --yes changes nothing and exits 4', async () => {
    const state = tempDir()
    writeFileSync(path.join(state, 'openclaw.json'), '{}')
    const pb = path.join(tempDir(), 'p.yaml')
    writeFileSync(pb, 'id: p\ntitle: t\nsteps:\n  - {id: keep, title: keep, action: preserve-evidence}\n')
    const {stdout} = await runCommand(['playbook', 'run', pb, '--state-dir', state, '--json'], import.meta.url)
    const out = JSON.parse(stdout)
    expect(out.steps[0].status).toBe('done') // preserving evidence changes nothing on the target
    expect(out.exitCode).toBe(0)
  })
})
