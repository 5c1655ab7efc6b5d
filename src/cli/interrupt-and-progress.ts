import type {Progress} from '../evidence/collect-types.js'
import {formatProgress} from './collect-text.js'

/**
 * Ctrl-C during a long run: the first asks the use case to stop after its current step (through the
 * signal, leaving the case resumable); the second quits at once.
 */
export async function interruptible<T>(message: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController()
  const onSigint = () => {
    process.stderr.write(`\n${message} (Ctrl-C again to quit at once)…\n`)
    process.removeListener('SIGINT', onSigint)
    abort.abort()
  }
  process.on('SIGINT', onSigint)
  try {
    return await run(abort.signal)
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}

/** Progress on stderr only (never stdout), and only on a terminal: one line rewritten in place. */
export function stderrProgress(): {onProgress?: (p: Progress) => void; clear(): void} {
  if (!process.stderr.isTTY) return {clear: () => {}}
  return {
    onProgress: (p) => process.stderr.write(`\r\u001B[2K${formatProgress(p)}`),
    clear: () => process.stderr.write('\r\u001B[2K'),
  }
}
