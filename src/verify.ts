import {verifyBundle, type VerifyResult} from './evidence/verify.js'

export type {VerifyResult} from './evidence/verify.js'

/** `ir verify BUNDLE [--identity FILE]`: the bundle's own checks (src/evidence/verify.ts). Never prints. */
export function verify(req: {bundle: string; identity?: string}): Promise<VerifyResult> {
  return verifyBundle(req.bundle, {identity: req.identity})
}
