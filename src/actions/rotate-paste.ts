import {z} from 'zod'

import {errorMessage} from '../errors.js'
import {applyConfigEdit, maskSecrets, planConfigEdit} from '../openclaw/config-edit.js'
import {loadConfig} from '../openclaw/config.js'
import {probeGateway} from '../openclaw/gateway.js'
import {locateSecret} from '../openclaw/secrets/inventory.js'
import {targetCli} from './target-cli.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {fingerprint} from '../system/secret-vocabulary.js'
import {writeChecklistFile} from './rotate-checklist.js'
import {scrubCaseBackups, writeOne} from './rotate-secrets.js'
import {inventoryOptions, rotateRunOf, type ChecklistItem} from './shared/rotate-run.js'

const Params = z.object({}).strict()

/**
 * After the checklist: in an interactive run, the operator may paste a credential they rotated at
 * the provider; ir writes it wherever OpenClaw keeps the old one (config, .env, units, or through
 * `openclaw models auth paste-api-key`). It changes the install, so it is a changing step of its own.
 */
export const rotatePaste: ActionDefinition<z.infer<typeof Params>> = {
  name: 'rotate-paste',
  description:
    'Interactively write replacements the operator pasted for checklist items (config, .env, units, auth profiles).',
  params: Params,
  mutates: true,
  async plan(ctx) {
    const items = pasteable(ctx)
    if (!items.length) return {noop: true, summary: 'no checklist item takes a pasted replacement', lines: []}
    if (!ctx.prompter.interactive)
      return {noop: true, summary: 'pasted replacements need an interactive run (a TTY, without --yes)', lines: []}
    return {
      noop: false,
      summary: `offer to paste replacements for ${items.length} item(s)`,
      lines: items.map((i) => i.what),
      question: `Paste replacements now for credentials you rotated at the provider (${items.length} item(s), asked one by one)?`,
    }
  },
  async apply(ctx) {
    const items = rotateRunOf(ctx).checklist ?? []
    for (const item of pasteable(ctx)) {
      if (
        !(await ctx.prompter.confirm(
          `Paste a replacement for ${item.what} now? (rotate it at the provider first)`,
          false,
        ))
      )
        continue
      const value = (await ctx.prompter.input(`New value for ${item.what} (hidden)`, {secret: true})).trim()
      if (!value) continue
      try {
        item.replaced = item.replaceKey
          ? await writeReplacement(ctx, item.replaceKey, value)
          : await pasteAuthProfile(ctx, item.pasteProfile!, value)
      } catch (err) {
        item.replaced = `NOT replaced: ${maskSecrets(errorMessage(err), [value])}`
      }
    }
    writeChecklistFile(ctx, items)
    const replaced = items.filter((i) => i.replaced && !i.replaced.startsWith('NOT'))
    return {
      detail: `${replaced.length} item(s) replaced from pasted values`,
      data: {replaced: replaced.map((i) => i.what)},
    }
  },
}

function pasteable(ctx: ActionContext): ChecklistItem[] {
  return (rotateRunOf(ctx).checklist ?? []).filter((i) => i.replaceKey || i.pasteProfile)
}

/** Write a pasted credential wherever the config keeps the one at `key` (never echoed, journaled as fingerprints). */
async function writeReplacement(ctx: ActionContext, key: string, value: string): Promise<string> {
  let config
  try {
    config = loadConfig(ctx.install.configPath, {env: ctx.env}).value
  } catch {
    /* located below */
  }
  const gw = await probeGateway(ctx.install.stateDir, ctx.install.configPath, config, ctx.env, ctx.install.profile)
  const {secret, value: old} = locateSecret(
    inventoryOptions(ctx, {state: gw.state, pid: gw.process?.belongsToStateDir ? gw.pid : undefined, port: gw.port}),
    key,
  )
  if (!secret) throw new Error(`${key} is not set in the config any more`)
  const done: string[] = []
  const manual: string[] = []
  for (const l of secret.locations.filter(
    (x) => x.target.type !== 'config' && x.target.type !== 'none' && x.writable,
  )) {
    writeOne(ctx, l.target as Exclude<typeof l.target, {type: 'none' | 'config'}>, {
      key,
      newValue: value,
      oldValue: l.active ? old : undefined,
    })
    done.push(l.path)
  }
  const edits = secret.locations
    .filter((x) => x.target.type === 'config' && x.writable)
    .map((x) => ({path: (x.target as {keyPath: string[]}).keyPath, value, secret: true}))
  if (edits.length) {
    const plan = planConfigEdit(loadConfig(ctx.install.configPath, {env: ctx.env}), edits)
    if (plan.files.length)
      await applyConfigEdit(plan, {
        case: ctx.case,
        runner: ctx.runner,
        env: ctx.env,
        stateDir: ctx.install.stateDir,
        configPath: ctx.install.configPath,
        step: 'paste',
        cli: targetCli(ctx),
      })
    done.push(`config ${edits.map((e) => e.path.join('.')).join(', ')}`)
  }
  for (const l of secret.locations)
    if (!l.writable && l.manual) manual.push(l.manual.replace(`the new ${key}`, 'the pasted value'))
  scrubCaseBackups(
    ctx.case,
    [value, ...(old ? [old] : [])].filter((v) => v.length >= 8),
  )
  ctx.case.journal.append({
    step: 'paste',
    action: 'rotate-paste',
    status: 'replaced',
    detail: `${key}: pasted replacement written to ${done.join('; ') || 'nothing'}`,
    fingerprints: {[`${key}:new`]: fingerprint(value), ...(old ? {[`${key}:old`]: fingerprint(old)} : {})},
  })
  return `replaced: written to ${done.join('; ') || 'nothing'}${manual.length ? `; manual: ${manual.join(' ')}` : ''}`
}

async function pasteAuthProfile(
  ctx: ActionContext,
  p: NonNullable<ChecklistItem['pasteProfile']>,
  value: string,
): Promise<string> {
  const cli = targetCli(ctx)
  if (!cli) throw new Error('the OpenClaw CLI is not available')
  const env = {
    ...ctx.env,
    OPENCLAW_STATE_DIR: ctx.install.stateDir,
    OPENCLAW_CONFIG_PATH: ctx.install.configPath,
    NO_COLOR: '1',
  }
  const r = await ctx.runner.run(
    cli.command,
    [
      ...cli.args,
      'models',
      'auth',
      'paste-api-key',
      '--provider',
      p.provider,
      '--profile-id',
      p.profileId,
      '--agent',
      p.agent,
    ],
    {env, input: `${value}\n`, timeoutMs: 60_000},
  )
  if (r.exitCode !== 0)
    throw new Error(
      `openclaw models auth paste-api-key exited ${r.exitCode}: ${maskSecrets((r.stderr || r.stdout).trim().split('\n').at(-1) ?? '', [value])}`,
    )
  ctx.case.journal.append({
    step: 'paste',
    action: 'rotate-paste',
    status: 'replaced',
    detail: `auth profile ${p.profileId} of agent ${p.agent} replaced via openclaw models auth paste-api-key`,
    fingerprints: {[`${p.profileId}:new`]: fingerprint(value)},
  })
  return `replaced through openclaw models auth paste-api-key (sha256 ${fingerprint(value)})`
}
