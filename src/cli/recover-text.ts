import type {RecoverResult} from '../recover.js'
import {containLines} from './contain-text.js'

/** `ir recover`: the steps with their diffs (as contain), what is not confirmed, and the way back. */
export function recoverLines(r: RecoverResult): string[] {
  const lines = containLines(r)
    // Only the start is left: the verdict says what to do, not "see the failed steps".
    .filter((l) => !(r.startLeft && l.startsWith('verified: ')))
    .map((l) => (l.startsWith('Undo: ir contain') ? `Undo: ir recover --undo --case ${r.case}` : l))
  const next = r.startLeft
    ? [`verified: not yet — every other step is done and confirmed; left to do: ${r.startLeft}`]
    : []
  return [...lines, ...next, ...r.notes]
}
