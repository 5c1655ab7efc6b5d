import {triageInstalls, type StatusDeps, type StatusResult} from './openclaw/install-status.js'
import type {Target} from './openclaw/locate.js'

export type {InstallStatus, StatusDeps, StatusResult} from './openclaw/install-status.js'

/** `ir status`: read-only triage of every install (src/openclaw/install-status.ts). */
export function status(target: Target, deps: StatusDeps = {}): Promise<StatusResult> {
  return triageInstalls(target, deps)
}
