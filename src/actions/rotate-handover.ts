import {z} from 'zod'

import {fingerprint} from '../openclaw/config-edit.js'
import type {ActionDefinition} from '../playbook/action-types.js'
import {rotateRunOf, type SecretVault, writeSecretsOut} from './shared/rotate-run.js'

const Params = z.object({}).strict()

/**
 * Step 5 of rotate: the new values go to the --secrets-out file (reserved by the command before
 * anything changed: a new file, 0600, `{"gateway.auth.token": "…", "hooks.token": "…"}`), or,
 * interactively, are shown once on request (the command prints them to the terminal after the
 * run). They never reach stdout under --json, the journal, logs or errors.
 */
export const rotateHandover: ActionDefinition<z.infer<typeof Params>> = {
  name: 'rotate-handover',
  description:
    'Hand the new values over: to the --secrets-out file (new, 0600, JSON), or shown once on request in an ' +
    'interactive run.',
  params: Params,
  mutates: false,
  async plan(ctx) {
    const values = rotateRunOf(ctx).vault.handover()
    const keys = Object.keys(values)
    if (!keys.length) return {noop: true, summary: 'nothing to hand over', lines: []}
    const out = rotateRunOf(ctx).secretsOut
    return {
      noop: false,
      summary: out
        ? `write ${keys.length} new value(s) to ${out.path} (0600)`
        : ctx.prompter.interactive
          ? `offer to show ${keys.length} new value(s) once`
          : `no --secrets-out: ${keys.length} new value(s) stay only where OpenClaw reads them`,
      lines: keys.map((k) => `${k}: «sha256:${fingerprint(values[k]!)}»`),
    }
  },
  async apply(ctx) {
    const vault = rotateRunOf(ctx).vault
    const values = vault.handover()
    const keys = Object.keys(values)
    const manual = vault
      .all()
      .filter((e) => e.state === 'manual')
      .map((e) => e.key)
    const out = rotateRunOf(ctx).secretsOut
    if (out?.fd !== undefined) {
      try {
        writeSecretsOut(out, values)
      } catch (err) {
        throw new Error(afterRotationFailure(vault, out.path, err))
      }
      return {
        detail: `${keys.length} new value(s) written to ${out.path} (0600): ${keys.join(', ')}`,
        data: {file: out.path, keys},
        fingerprints: Object.fromEntries(keys.map((k) => [`${k}:new`, fingerprint(values[k]!)])),
        files: [{path: out.path, role: 'wrote'}],
      }
    }
    if (ctx.prompter.interactive) {
      const show = await ctx.prompter.confirm(
        `Show the ${keys.length} new value(s) once now (${keys.join(', ')})? They are not written anywhere else by ir.`,
        manual.length > 0,
      )
      vault.showRequested = show
      return {
        detail: show
          ? `${keys.length} new value(s) shown once on the terminal`
          : 'new values not shown (they are only where OpenClaw reads them)',
        data: {shown: show, keys},
      }
    }
    const warn = manual.length
      ? `; the values for the manual step(s) (${manual.join(', ')}) were not handed over: re-run \`ir rotate --only … --secrets-out FILE\``
      : ''
    return {detail: `no --secrets-out: new values only where OpenClaw reads them${warn}`, data: {keys}}
  },
}

/** The secrets are already rotated when the hand-over fails: say which, where they are, what to do. */
function afterRotationFailure(vault: SecretVault, file: string, err: unknown): string {
  const rotated = vault.all().filter((e) => e.state !== 'failed')
  const where = [...new Set(rotated.flatMap((e) => e.written))]
  return (
    `--secrets-out ${file} could not be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}), ` +
    `but ${rotated.length} secret(s) are ALREADY rotated: ${rotated.map((e) => e.key).join(', ')}. ` +
    `The new values are only where OpenClaw reads them (${where.join(', ') || 'see the rotate step'}). ` +
    `Next: read them from there, or re-run \`ir rotate --only ${[...new Set(rotated.map((e) => e.scope))].join(',')} --secrets-out NEW_FILE\` ` +
    'on a disk with free space to rotate again and get the values.'
  )
}
