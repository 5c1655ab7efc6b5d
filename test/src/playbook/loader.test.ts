import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {ACTIONS} from '../../../src/actions/registry.js'

import {describe, expect, it} from 'vitest'

import {PlaybookError, listPlaybooks, loadPlaybook} from '../../../src/playbook/loader.js'
import {tempDir} from '../../helpers/temp.js'

function playbook(text: string): string {
  const file = path.join(tempDir(), 'pb.yaml')
  writeFileSync(file, text)
  return file
}

function problems(file: string): string[] {
  try {
    loadPlaybook(file, ACTIONS)
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems.map((p) => `${p.step ?? '-'} ${p.field}: ${p.message}`)
    throw err
  }
  return []
}

describe('playbook loader', () => {
  it('loads every shipped playbook', () => {
    expect(listPlaybooks(ACTIONS).map((p) => p.id)).toEqual(expect.arrayContaining(['collect', 'contain', 'rotate']))
  })

  it('names file, step and field for an unknown action and an unknown parameter', () => {
    // Given a playbook with a typo in an action name and in a parameter
    const file = playbook(
      `id: x\ntitle: t\nsteps:\n  - id: one\n    title: a\n    action: preserve-evidnce\n  - id: two\n    title: b\n    action: preserve-evidence\n    with: {logz: false}\n`,
    )
    // Then both are reported precisely
    const p = problems(file)
    expect(p[0]).toMatch(/^one action: unknown action "preserve-evidnce" \(known: .*preserve-evidence/)
    expect(p[1]).toBe('two with.logz: unknown parameter')
    expect(() => loadPlaybook(file, ACTIONS)).toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} step "one": action`),
    )
  })

  it('rejects unknown step fields, a wrong parameter type, duplicate ids and YAML errors', () => {
    expect(
      problems(
        playbook(`id: x\ntitle: t\nsteps:\n  - id: one\n    title: a\n    action: report-status\n    retries: 3\n`),
      ),
    ).toEqual(['one retries: unknown field'])
    expect(
      problems(
        playbook(
          `id: x\ntitle: t\nsteps:\n  - id: one\n    title: a\n    action: preserve-evidence\n    with: {logs: "yes"}\n`,
        ),
      )[0],
    ).toMatch(/^one with.logs: /)
    expect(
      problems(
        playbook(
          `id: x\ntitle: t\nsteps:\n  - {id: one, title: a, action: report-status}\n  - {id: one, title: b, action: report-status}\n`,
        ),
      ),
    ).toEqual(['one id: duplicate step id'])
    expect(problems(playbook(`id: x\ntitle: t\nsteps:\n  - id: one\n   title: bad indent\n`))[0]).toMatch(
      /^- yaml: .*line/,
    )
  })
})
