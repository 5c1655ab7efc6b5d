import type {ActionDefinition} from '../playbook/action-types.js'
import {collectAcquire} from './collect-acquire.js'
import {collectBundle} from './collect-bundle.js'
import {collectDiscover} from './collect-discover.js'
import {collectScan} from './collect-scan.js'
import {collectVolatile} from './collect-volatile.js'
import {lockdown} from './lockdown.js'
import {preserveEvidence} from './preserve-evidence.js'
import {recoverBaseline} from './recover-baseline.js'
import {recoverStart} from './recover-start.js'
import {reportStatus} from './report-status.js'
import {rotateChecklist} from './rotate-checklist.js'
import {rotateHandover} from './rotate-handover.js'
import {rotateInventory} from './rotate-inventory.js'
import {rotatePaste} from './rotate-paste.js'
import {rotateProve} from './rotate-prove.js'
import {rotateRestart} from './rotate-restart.js'
import {rotateSecrets} from './rotate-secrets.js'
import {securityAudit} from './security-audit.js'
import {stopGateway} from './stop-gateway.js'
import {tightenPermissions} from './tighten-permissions.js'

/** The action registry: playbook `action:` names → implementations (one file each). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each action has its own parameter type
export const ACTIONS: Record<string, ActionDefinition<any>> = {
  [reportStatus.name]: reportStatus,
  [preserveEvidence.name]: preserveEvidence,
  [collectDiscover.name]: collectDiscover,
  [collectVolatile.name]: collectVolatile,
  [collectAcquire.name]: collectAcquire,
  [collectScan.name]: collectScan,
  [collectBundle.name]: collectBundle,
  [stopGateway.name]: stopGateway,
  [lockdown.name]: lockdown,
  [tightenPermissions.name]: tightenPermissions,
  [securityAudit.name]: securityAudit,
  [rotateInventory.name]: rotateInventory,
  [rotateSecrets.name]: rotateSecrets,
  [rotateProve.name]: rotateProve,
  [rotateRestart.name]: rotateRestart,
  [rotateHandover.name]: rotateHandover,
  [rotateChecklist.name]: rotateChecklist,
  [rotatePaste.name]: rotatePaste,
  [recoverBaseline.name]: recoverBaseline,
  [recoverStart.name]: recoverStart,
}
