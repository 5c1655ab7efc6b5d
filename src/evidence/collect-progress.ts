import type {Source} from './discover.js'
import type {Progress, ProgressFn} from './collect-types.js'

/** Progress of one collect run, per phase, reported at most every 200 ms (forced at phase and file ends). */
export class ProgressMeter {
  private progress: Progress = {
    phase: 'discover',
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    elapsedMs: 0,
  }
  private phaseStart = Date.now()
  private lastEmit = 0

  constructor(private readonly onProgress?: ProgressFn) {}

  get phaseName(): Progress['phase'] {
    return this.progress.phase
  }

  phase(phase: Progress['phase'], filesTotal: number, bytesTotal: number): void {
    this.progress = {phase, filesDone: 0, filesTotal, bytesDone: 0, bytesTotal, elapsedMs: 0}
    this.phaseStart = Date.now()
    this.emit({}, true)
  }

  bytes(n: number): void {
    this.emit({bytesDone: this.progress.bytesDone + n})
  }

  current(src: Source): void {
    this.progress.current = src.rel ?? src.path
  }

  /** A source is done; a resumed one (not read again) leaves the byte total. */
  fileDone(src: Source, reused: boolean): void {
    if (reused)
      this.progress.bytesTotal = Math.max(
        0,
        this.progress.bytesTotal - src.size - (src.sidecars ?? []).reduce((n, s) => n + s.size, 0),
      )
    this.emit({filesDone: this.progress.filesDone + 1}, true)
  }

  emit(p: Partial<Progress>, force = false): void {
    Object.assign(this.progress, p)
    const now = Date.now()
    if (!this.onProgress || (!force && now - this.lastEmit < 200)) return
    this.lastEmit = now
    this.onProgress({...this.progress, elapsedMs: now - this.phaseStart})
  }
}
