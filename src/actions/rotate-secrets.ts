import {chmodSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {z} from 'zod'

import {type Case, readChanges} from '../case/case-store.js'
import {errorMessage} from '../errors.js'
import {probeOnce, type ProbeTarget} from '../openclaw/auth-probe.js'
import {
  applyConfigEdit,
  fingerprint,
  maskSecrets,
  planConfigEdit,
  type ConfigEdit,
  type EditPlan,
} from '../openclaw/config-edit.js'
import {getPath, loadConfig} from '../openclaw/config.js'
import {gatewayRpc} from '../openclaw/gateway-ws.js'
import {rewriteEnvFile, rewriteServiceEnv} from '../openclaw/secrets/env-files.js'
import type {InventoriedSecret, SecretKeyPath, SecretScope, WriteTarget} from '../openclaw/secrets/inventory.js'
import {rewriteSecretFile} from '../openclaw/secrets/secret-files.js'
import {writeStoreEntry} from '../openclaw/secrets/store.js'
import {targetCli} from './target-cli.js'
import {newSecret} from '../system/secret-generator.js'
import type {ActionContext, ActionDefinition} from '../playbook/action-types.js'
import {currentInventory, explicitScope, rotateRunOf, type RotationEntry} from './shared/rotate-run.js'

const Params = z.object({}).strict()

/**
 * Step 2–3 of rotate: a new value per secret (crypto-random, URL-safe, 258 bits; the hooks token
 * always differs from the gateway's), written wherever OpenClaw reads it: the secret store, a file
 * provider's file, service units and .env files (then `systemctl daemon-reload`), and last the
 * config (comment-preserving, atomic, backed up, validated) so the gateway's hot reload re-resolves
 * everything at once. Store/file changes without a config change are announced to a running
 * gateway with `secrets.reload` over its WebSocket, authenticated with the old credential.
 * exec providers and variables exported outside any known file become manual steps (exit 5).
 * New values live only in the run's vault; the journal gets fingerprints; the case backups are
 * scrubbed of old and new values afterwards.
 */

export interface WriteOp {
  target: Exclude<WriteTarget, {type: 'none'}>
  label: string
  active: boolean
}

export interface KeyPlan {
  key: SecretKeyPath
  scope: SecretScope
  form: InventoriedSecret['form']
  oldValue?: string
  newValue: string
  ops: WriteOp[]
  manual: string[]
  proofTargets: ProbeTarget[]
  needsRestart: boolean
}

export interface RotatePlan {
  keys: KeyPlan[]
  skipped: Array<{key: string; reason: string}>
  configPlan?: EditPlan
  gateway: {state: 'up' | 'down'; port: number; pid?: number}
  authMode: string
}

export const rotateSecrets: ActionDefinition<z.infer<typeof Params>> = {
  name: 'rotate-secrets',
  description:
    'Generate new gateway/remote/hooks secrets and write them where OpenClaw reads them (store, file provider, .env, ' +
    'service units, config); exec refs and external env vars become manual steps.',
  params: Params,
  mutates: true,
  async plan(ctx) {
    const {inventory, values} = await currentInventory(ctx)
    const loaded = loadConfig(ctx.install.configPath, {env: ctx.env})
    const gwSecret = inventory.secrets.find((s) => s.scope === 'gateway')
    const gatewayNew = newSecret()
    const keys: KeyPlan[] = []
    const skipped: RotatePlan['skipped'] = []
    const hooksEnabled = getPath(loaded.value, ['hooks', 'enabled']) === true
    const hooksPath = getPath(loaded.value, ['hooks', 'path'])
    for (const s of inventory.secrets) {
      let newValue: string
      if (s.scope === 'remote') {
        if (s.remote?.local) {
          if (!gwSecret) {
            skipped.push({
              key: s.key,
              reason:
                'points at this gateway, whose own secret is not rotated in this run: rotate both (--only ' +
                'gateway,remote)',
            })
            continue
          }
          newValue = gatewayNew
        } else {
          const url = s.remote?.url ?? '(no url)'
          const consent =
            explicitScope(ctx, 'remote') ||
            (!ctx.dryRun &&
              ctx.prompter.interactive &&
              (await ctx.prompter.confirm(
                `${s.key} is this machine's credential for another gateway (${url}). Rotate it here? That gateway must get the same new value.`,
                false,
              )))
          if (!consent) {
            skipped.push({
              key: s.key,
              reason: `credential for another gateway (${url}): rotate it on that gateway, or re-run with --only remote and give it the new value`,
            })
            continue
          }
          newValue = newSecret()
        }
      } else if (s.scope === 'hooks') {
        do newValue = newSecret()
        while (newValue === gatewayNew)
      } else newValue = gatewayNew
      const ops: WriteOp[] = []
      const manual: string[] = []
      for (const l of s.locations) {
        if (l.writable && l.target.type !== 'none')
          ops.push({target: l.target, label: `${labelOf(l.target)}${l.active ? '' : ' (copy)'}`, active: l.active})
        else if (l.manual) manual.push(l.manual)
      }
      if (!ops.length && !manual.length)
        manual.push(`ir found no place to write ${s.key}: set it where your deployment keeps it.`)
      const proofTargets: ProbeTarget[] = []
      if (s.scope === 'gateway') proofTargets.push({kind: 'gateway', port: inventory.gateway.port})
      if (s.scope === 'hooks' && hooksEnabled)
        proofTargets.push({
          kind: 'hooks',
          port: inventory.gateway.port,
          path: typeof hooksPath === 'string' ? hooksPath : undefined,
        })
      keys.push({
        key: s.key,
        scope: s.scope,
        form: s.form,
        oldValue: values.get(s.key),
        newValue,
        ops,
        manual,
        proofTargets,
        needsRestart: s.form === 'env' || s.form === 'implicit-env',
      })
    }
    const edits: ConfigEdit[] = keys.flatMap((k) =>
      k.ops
        .filter((o) => o.target.type === 'config')
        .map((o) => ({path: (o.target as {keyPath: string[]}).keyPath, value: k.newValue, secret: true})),
    )
    const configPlan = edits.length ? planConfigEdit(loaded, edits) : undefined
    const lines: string[] = []
    for (const k of keys) {
      lines.push(
        `${k.key}  ${k.oldValue === undefined ? '(current value unknown)' : `«sha256:${fingerprint(k.oldValue)}»`} -> «sha256:${fingerprint(k.newValue)}»`,
      )
      for (const o of k.ops) lines.push(`  write: ${o.label}`)
      for (const m of k.manual) lines.push(`  manual: ${m}`)
      if (k.needsRestart && inventory.gateway.state === 'up')
        lines.push('  the running gateway reads it from its environment: a restart is needed to drop the old value')
    }
    for (const s of skipped) lines.push(`skipped ${s.key}: ${s.reason}`)
    const known = keys.flatMap((k) => [k.newValue, k.oldValue ?? '']).filter(Boolean)
    if (configPlan) for (const f of configPlan.files) lines.push(...f.diff.map((l) => `  ${maskSecrets(l, known)}`))
    // Baseline: the value ir is about to replace is the one the gateway accepts now.
    if (inventory.gateway.state === 'up') {
      for (const k of keys) {
        for (const t of k.proofTargets) {
          if (k.oldValue === undefined) continue
          const b = await probeOnce(t, k.oldValue)
          lines.push(`baseline ${k.key} on ${t.kind}: current value ${b.verdict}${b.status ? ` (${b.status})` : ''}`)
        }
      }
    }
    const manualCount = keys.filter((k) => k.manual.length).length
    const data: RotatePlan = {keys, skipped, configPlan, gateway: inventory.gateway, authMode: inventory.authMode}
    return {
      noop: keys.length === 0,
      summary: keys.length
        ? `rotate ${keys.map((k) => k.key).join(', ')}${manualCount ? ` (${manualCount} with a manual step)` : ''}${skipped.length ? `; skip ${skipped.map((s) => s.key).join(', ')}` : ''}`
        : `nothing to rotate${skipped.length ? ` (skipped ${skipped.map((s) => s.key).join(', ')})` : ''}`,
      lines,
      data,
      question: `Replace ${keys.map((k) => k.key).join(', ')} with new values now?`,
    }
  },

  async apply(ctx, _params, plan) {
    const data = plan.data as RotatePlan
    const vault = rotateRunOf(ctx).vault
    const failures: string[] = []
    const failed = new Set<SecretKeyPath>()
    const written = new Map<SecretKeyPath, string[]>()
    const files: Array<{path: string; sha256?: string; role: 'wrote'}> = []
    const daemonReload = new Set<'user' | 'system'>()
    let storeOrFileWritten = false
    const record = (k: KeyPlan, label: string) => written.set(k.key, [...(written.get(k.key) ?? []), label])
    const run = (k: KeyPlan, op: WriteOp) => {
      try {
        const f = writeOne(ctx, op.target, k)
        if (f) files.push({path: f.path, sha256: f.sha256After, role: 'wrote'})
        if (op.target.type === 'service' && op.target.service === 'systemd')
          daemonReload.add(op.target.system ? 'system' : 'user')
        if (op.target.type === 'store' || op.target.type === 'secret-file') storeOrFileWritten = true
        record(k, op.label)
      } catch (err) {
        failed.add(k.key)
        failures.push(`${k.key} → ${op.label}: ${maskSecrets(errorMessage(err), [k.newValue, k.oldValue ?? ''])}`)
      }
    }
    // 1. Sources outside the config (the config change below makes a running gateway re-resolve them).
    for (const k of data.keys) for (const op of k.ops.filter((o) => o.active && o.target.type !== 'config')) run(k, op)
    // 2. The config, once, for every key still on track.
    const configKeys = data.keys.filter((k) => !failed.has(k.key) && k.ops.some((o) => o.target.type === 'config'))
    let configWritten = false
    if (configKeys.length) {
      try {
        const samePlan =
          configKeys.length === data.keys.filter((k) => k.ops.some((o) => o.target.type === 'config')).length
        const edits = configKeys.flatMap((k) =>
          k.ops
            .filter((o) => o.target.type === 'config')
            .map((o) => ({path: (o.target as {keyPath: string[]}).keyPath, value: k.newValue, secret: true})),
        )
        const editPlan =
          samePlan && data.configPlan
            ? data.configPlan
            : planConfigEdit(loadConfig(ctx.install.configPath, {env: ctx.env}), edits)
        if (editPlan.files.length) {
          const applied = await applyConfigEdit(editPlan, {
            case: ctx.case,
            runner: ctx.runner,
            env: ctx.env,
            stateDir: ctx.install.stateDir,
            configPath: ctx.install.configPath,
            step: 'rotate',
            cli: targetCli(ctx),
          })
          for (const f of applied.files) files.push({path: f.path, sha256: f.sha256After, role: 'wrote'})
          configWritten = true
        }
        for (const k of configKeys) for (const o of k.ops.filter((x) => x.target.type === 'config')) record(k, o.label)
      } catch (err) {
        for (const k of configKeys) {
          failed.add(k.key)
          failures.push(`${k.key} → config: ${maskSecrets(errorMessage(err), [k.newValue, k.oldValue ?? ''])}`)
        }
      }
    }
    // 3. Copies (old installers' units, stray .env lines) of keys whose source now holds the new value.
    for (const k of data.keys) {
      if (failed.has(k.key)) continue
      for (const op of k.ops.filter((o) => !o.active && o.target.type !== 'config')) run(k, op)
    }
    const notes: string[] = []
    for (const scope of daemonReload) {
      const r = await ctx.runner.run('systemctl', [...(scope === 'user' ? ['--user'] : []), 'daemon-reload'], {
        timeoutMs: 20_000,
      })
      notes.push(
        r.exitCode === 0
          ? `systemctl${scope === 'user' ? ' --user' : ''} daemon-reload done`
          : `systemctl${scope === 'user' ? ' --user' : ''} daemon-reload failed (${r.notFound ? 'systemctl not found' : `exit ${r.exitCode}`}): run it before the next restart`,
      )
    }
    // 4. A running gateway re-reads store/file values on secrets.reload; a config write already did it.
    const gw = data.keys.find((k) => k.scope === 'gateway')
    if (
      storeOrFileWritten &&
      !configWritten &&
      data.gateway.state === 'up' &&
      gw?.oldValue !== undefined &&
      !failed.has(gw.key)
    ) {
      const auth = data.authMode === 'password' ? {password: gw.oldValue} : {token: gw.oldValue}
      const t0 = Date.now()
      const r = await gatewayRpc({port: data.gateway.port, auth, timeoutMs: 10_000}, 'secrets.reload')
      notes.push(
        r.ok
          ? `gateway re-resolved its secrets (secrets.reload, ${Date.now() - t0} ms)`
          : `secrets.reload on the running gateway failed (${r.error?.code ?? r.error?.message ?? 'no answer'}): the proof step decides whether a restart is needed`,
      )
    }
    for (const k of data.keys) {
      const state: RotationEntry['state'] = failed.has(k.key)
        ? written.get(k.key)?.length
          ? 'manual'
          : 'failed'
        : k.manual.length
          ? 'manual'
          : 'written'
      const partial = failed.has(k.key) && written.get(k.key)?.length
      vault.set({
        key: k.key,
        scope: k.scope,
        oldValue: k.oldValue,
        newValue: k.newValue,
        state,
        written: written.get(k.key) ?? [],
        manual: partial
          ? [
              ...k.manual,
              `${k.key} was written to ${written.get(k.key)!.join(', ')} but not everywhere: fix the failure above and re-run, or set the new value by hand.`,
            ]
          : k.manual,
        proofTargets: state === 'written' ? k.proofTargets : [],
        needsRestart: k.needsRestart,
        proofs: [],
      })
    }
    const fingerprints: Record<string, string> = {}
    for (const k of data.keys) {
      if (k.oldValue !== undefined) fingerprints[`${k.key}:old`] = fingerprint(k.oldValue)
      fingerprints[`${k.key}:new`] = fingerprint(k.newValue)
    }
    const scrubbed = scrubCaseBackups(ctx.case, vault.secretValues())
    if (scrubbed.length) notes.push(`${scrubbed.length} case backup(s) scrubbed of secret values (kept as *.redacted)`)
    const summary = data.keys.map((k) => `${k.key} ${vault.get(k.key)!.state}`).join(', ')
    if (failures.length) {
      // The step fails, but what was written is on record (the engine journals only the error).
      ctx.case.journal.append({
        step: 'rotate',
        action: 'rotate-secrets',
        status: 'partial',
        fingerprints,
        files,
        detail: [
          ...data.keys.map(
            (k) =>
              `${k.key}: ${vault.get(k.key)!.state}${written.get(k.key)?.length ? ` (${written.get(k.key)!.join('; ')})` : ''}`,
          ),
          ...notes,
        ].join('; '),
      })
      throw new Error(`${failures.join('; ')} (rotated so far: ${summary})`)
    }
    const manual = vault.all().filter((e) => e.state === 'manual')
    return {
      detail: `${summary}${notes.length ? `; ${notes.join('; ')}` : ''}${manual.length ? `; manual: ${manual.flatMap((e) => e.manual).join(' ')}` : ''}`,
      status: manual.length ? 'manual' : 'done',
      fingerprints,
      files,
      data: {
        keys: data.keys.map((k) => ({
          key: k.key,
          state: vault.get(k.key)!.state,
          written: written.get(k.key) ?? [],
          manual: vault.get(k.key)!.manual,
          fingerprintOld: k.oldValue === undefined ? undefined : fingerprint(k.oldValue),
          fingerprintNew: fingerprint(k.newValue),
        })),
        skipped: data.skipped,
        notes,
      },
    }
  },
}

function labelOf(t: WriteOp['target']): string {
  switch (t.type) {
    case 'config':
      return `config ${t.keyPath.join('.')}`
    case 'env-file':
      return `${t.file} ${t.name}=`
    case 'service':
      return `${t.service} ${t.unit} ${t.name}= (${t.file})`
    case 'store':
      return `secret store ${t.name} (state/openclaw.sqlite)`
    case 'secret-file':
      return `${t.file}${t.pointer ? ` ${t.pointer}` : ''}`
  }
}

/** One non-config write: backed up in the case, atomic, mode kept, change recorded. */
export function writeOne(
  ctx: ActionContext,
  target: WriteOp['target'],
  k: {key: string; newValue: string; oldValue?: string},
): {path: string; sha256After: string} | undefined {
  switch (target.type) {
    case 'store':
      writeStoreEntry(ctx.install.stateDir, {
        name: target.name,
        value: k.newValue,
        expectedValue: k.oldValue,
        updatedBy: 'ir',
      })
      return undefined
    case 'env-file':
      return rewriteFile(ctx, target.file, (t) =>
        counted(rewriteEnvFile(t, target.name, k.newValue), target.name, target.file),
      )
    case 'service':
      return rewriteFile(ctx, target.file, (t) =>
        counted(rewriteServiceEnv(target.service, t, target.name, k.newValue), target.name, target.file),
      )
    case 'secret-file':
      return rewriteFile(ctx, target.file, (t) => rewriteSecretFile(t, target.mode, target.pointer, k.newValue))
    case 'config':
      throw new Error('config keys are written through the config editor')
  }
}

function counted(r: {text: string; count: number}, name: string, file: string): string {
  if (!r.count) throw new Error(`${name} is no longer set in ${file}`)
  return r.text
}

function rewriteFile(
  ctx: ActionContext,
  file: string,
  transform: (text: string) => string,
): {path: string; sha256After: string} {
  const after = transform(readFileSync(file, 'utf8'))
  return {path: file, sha256After: ctx.case.writeFile(file, after, 'rotate').sha256After}
}

/**
 * Old and new values must not stay in the case: backups that hold one are replaced by a copy with
 * each value masked as «sha256:…» (named *.redacted). The exact original bytes are gone from the
 * case on purpose; an undo then reports the backup missing instead of restoring a dead secret.
 */
export function scrubCaseBackups(c: Case, values: string[]): string[] {
  const dir = path.join(c.dir, 'backups')
  const scrubbed: string[] = []
  let names: string[] = []
  try {
    names = readdirSync(dir)
  } catch {
    return scrubbed
  }
  const rotated = new Set(
    readChanges(c)
      .filter((x) => x.step === 'rotate' && x.backup)
      .map((x) => x.backup!),
  )
  for (const name of names) {
    if (name.endsWith('.redacted')) continue
    const file = path.join(dir, name)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    // A backup a rotate made holds the value it replaced, even one an earlier, killed run saw.
    if (!values.some((v) => text.includes(v)) && !rotated.has(file)) continue
    writeFileSync(`${file}.redacted`, maskSecrets(text, values), {mode: 0o600})
    chmodSync(`${file}.redacted`, 0o600)
    try {
      writeFileSync(file, Buffer.alloc(Buffer.byteLength(text))) // not left readable in the old blocks
    } catch {
      /* best effort */
    }
    rmSync(file, {force: true})
    scrubbed.push(file)
  }
  return scrubbed
}
