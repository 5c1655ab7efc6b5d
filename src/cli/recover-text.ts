import type {RecoverResult} from '../recover.js'
import {containLines} from './contain-text.js'

/** `ir recover`: the steps with their diffs (as contain), what is not confirmed, and the way back. */
export function recoverLines(r: RecoverResult): string[] {
  const lines = containLines(r).map((l) =>
    l.startsWith('Undo: ir contain') ? `Undo: ir recover --undo --case ${r.case}` : l,
  )
  return [...lines, ...r.notes]
}
