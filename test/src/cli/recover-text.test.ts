import {describe, expect, it} from 'vitest'

import {recoverLines} from '../../../src/cli/recover-text.js'
import type {RecoverResult} from '../../../src/recover.js'

const START =
  'no service for this install: start it yourself with `openclaw gateway start`, then `ir recover --case IR-1` probes it'

const result = (over: Partial<RecoverResult>): RecoverResult => ({
  case: 'IR-1',
  playbook: 'recover',
  verified: false,
  exitCode: 5,
  needsConfirmation: false,
  steps: [
    {id: 'baseline', action: 'recover-baseline', status: 'done', detail: 'validated by openclaw config validate'},
    {id: 'permissions', action: 'tighten-permissions', status: 'noop', detail: 'modes already tight'},
    {id: 'audit', action: 'security-audit', status: 'done', detail: 'no critical'},
    {id: 'start', action: 'recover-start', status: 'manual', detail: START},
  ],
  notes: [],
  ...over,
})

describe('recoverLines', () => {
  it('when only the manual start is left, says what to do instead of pointing at failed steps', () => {
    // Given a recover whose only open step is the start the operator must do
    // When its screen is written
    const lines = recoverLines(result({startLeft: START}))
    // Then the verdict names the next step, and no "failed steps" that do not exist
    expect(lines).toContain(`verified: not yet — every other step is done and confirmed; left to do: ${START}`)
    expect(lines.join('\n')).not.toContain('see the failed steps')
    expect(lines).toContain('Undo: ir recover --undo --case IR-1')
  })

  it('keeps the plain verdict when something else is not confirmed', () => {
    // Given a recover with a failed step (no startLeft)
    const lines = recoverLines(result({notes: ['not verified: the gateway is not started (x)']}))
    // Then the contain verdict and the note stay
    expect(lines).toContain('verified: NO (see the failed steps above)')
    expect(lines.at(-1)).toBe('not verified: the gateway is not started (x)')
  })
})
