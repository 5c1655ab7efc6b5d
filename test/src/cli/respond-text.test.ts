import {describe, expect, it} from 'vitest'

import {respondLines} from '../../../src/cli/respond-text.js'
import {PHASES, type RespondResult} from '../../../src/respond.js'

const result = (over: Partial<RespondResult> = {}): RespondResult => ({
  case: 'IR-1',
  phases: PHASES.map((id) => ({id, status: 'done', verified: true, detail: 'ok', exitCode: 0})),
  bundle: undefined,
  verified: true,
  exitCode: 0,
  needsConfirmation: false,
  dryRun: false,
  interrupted: false,
  where: {caseDir: '/cases/IR-1', config: '/state/openclaw.json'},
  findings: [],
  checklist: [],
  rotated: [],
  ...over,
})

describe('respondLines', () => {
  it('says which phases the target confirmed and which only ir re-read', () => {
    // Given a run whose every phase is done and verified
    // When the closing screen is written
    const lines = respondLines(result())
    // Then the verdict names the target's phases and ir's own checks apart, never "every phase by the target"
    expect(lines.at(-1)).toBe(
      "verified: yes — contain, rotate and audit confirmed by the target's OpenClaw; volatile and collect checked by ir's own re-read (the recorded file, the sealed bundle)",
    )
    expect(lines.find((l) => l.includes(' volatile '))).toMatch(/re-read ok/)
    expect(lines.find((l) => l.includes(' contain '))).toMatch(/ verified /)
  })

  it('offers the undo only when it works, and otherwise says why not', () => {
    // Given one run whose undo works and one whose backups rotate scrubbed
    const works = respondLines(result({containUndo: 'ir contain --undo --case IR-1'}))
    const blocked = respondLines(result({undoUnavailable: 'ir contain --undo --case IR-1 would restore nothing'}))
    // Then only the first offers it
    expect(works).toContain('  [undo] to put the pre-incident config back instead: ir contain --undo --case IR-1')
    expect(blocked.join('\n')).not.toContain('[undo] to put')
    expect(blocked).toContain('  [undo] not possible: ir contain --undo --case IR-1 would restore nothing')
  })
})
