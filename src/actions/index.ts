import type {ActionDefinition} from '../playbook/types.js'
import {preserveEvidence} from './preserve-evidence.js'
import {reportStatus} from './report-status.js'

/** The action registry: playbook `action:` names → implementations (one file each). */
export const ACTIONS: Record<string, ActionDefinition<any>> = {
  [reportStatus.name]: reportStatus,
  [preserveEvidence.name]: preserveEvidence,
}
