import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {ConfigError, envRefName, loadConfig, resolveEnvString} from '../../../src/openclaw/config.js'
import {tempDir} from '../../helpers/temp.js'

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, text)
  return file
}

describe('loadConfig', () => {
  it('reads JSON5 with comments, merges $include, keeps ${VAR} unresolved', () => {
    // Given a root config that includes its channels and references an env var
    const dir = tempDir()
    const root = write(
      dir,
      'openclaw.json',
      `{
      // comment
      gateway: { auth: { token: "\${OC_TOKEN}" } },
      channels: { $include: "./channels.json5", telegram: { groupPolicy: "allowlist" } },
    }`,
    )
    write(dir, 'channels.json5', `{ telegram: { dmPolicy: 'open', groupPolicy: 'open' } }`)
    // When it is loaded
    const c = loadConfig(root, {env: {OC_TOKEN: 'secret'}})
    // Then includes are merged (siblings win) and the reference is kept as written
    expect(c.value).toEqual({
      gateway: {auth: {token: '${OC_TOKEN}'}},
      channels: {telegram: {dmPolicy: 'open', groupPolicy: 'allowlist'}},
    })
    expect(c.includes).toEqual([{at: ['channels'], file: path.join(dir, 'channels.json5')}])
  })

  it('reports a syntax error with file, line and column', () => {
    const dir = tempDir()
    const root = write(dir, 'openclaw.json', '{\n  "gateway": {\n    "bind": "lan",,\n  }\n}')
    expect(() => loadConfig(root)).toThrow(ConfigError)
    try {
      loadConfig(root)
    } catch (err) {
      const e = err as ConfigError
      expect([e.line, e.column]).toEqual([3, 19])
      expect(e.message).toMatch(new RegExp(`^${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:19: `))
      expect(e.exitCode).toBe(3)
    }
  })

  it('refuses an include cycle and an include outside the config dir', () => {
    const dir = tempDir()
    const a = write(dir, 'a.json5', '{ $include: "./b.json5" }')
    write(dir, 'b.json5', '{ $include: "./a.json5" }')
    expect(() => loadConfig(a)).toThrow(/\$include cycle: a\.json5 -> b\.json5 -> a\.json5/)
    const outside = tempDir()
    write(outside, 'evil.json5', '{}')
    const root = write(dir, 'openclaw.json', `{ $include: "${path.join(outside, 'evil.json5')}" }`)
    expect(() => loadConfig(root)).toThrow(/points outside the config directory/)
  })

  it('allows includes under OPENCLAW_INCLUDE_ROOTS', () => {
    const dir = tempDir()
    const outside = tempDir()
    write(outside, 'extra.json5', '{ hooks: { enabled: true } }')
    const root = write(dir, 'openclaw.json', `{ $include: "${path.join(outside, 'extra.json5')}" }`)
    expect(loadConfig(root, {env: {OPENCLAW_INCLUDE_ROOTS: outside}}).value).toEqual({hooks: {enabled: true}})
  })

  it('names a missing config as such', () => {
    expect(() => loadConfig('/nonexistent/openclaw.json')).toThrow('/nonexistent/openclaw.json does not exist.')
  })
})

describe('env references', () => {
  it('recognises ${VAR} and substitutes it for probing', () => {
    expect(envRefName('${OPENCLAW_GATEWAY_TOKEN}')).toBe('OPENCLAW_GATEWAY_TOKEN')
    expect(envRefName('plain')).toBeUndefined()
    expect(resolveEnvString('Bearer ${T}', {T: 'x'})).toBe('Bearer x')
    expect(resolveEnvString('${MISSING}', {})).toBeUndefined()
    expect(resolveEnvString('$${T}', {T: 'x'})).toBe('${T}')
  })
})
