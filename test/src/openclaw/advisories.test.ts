import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {affectingAdvisories, compareVersions, loadAdvisories} from '../../../src/openclaw/advisories.js'
import {playbooksDir} from '../../../src/playbook/loader.js'
import {status} from '../../../src/status.js'
import {knownBadLines} from '../../../src/cli/status-text.js'
import {fileEraStateDir} from '../../fixtures/state-dirs.js'
import {tempDir} from '../../helpers/temp.js'

const shipped = () => loadAdvisories(path.join(playbooksDir(), 'data', 'advisories.yaml'))

describe('advisories', () => {
  it('the shipped list is dated and every entry has ids and a fixed version', () => {
    const data = shipped()
    expect(data.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(data.advisories.length).toBeGreaterThan(10)
    for (const a of data.advisories) expect(compareVersions(a.fixed, '2026.1.1')).toBeGreaterThanOrEqual(0)
  })

  it('orders calendar versions numerically, a suffixed build before its release', () => {
    expect(compareVersions('2026.1.29', '2026.1.3')).toBeGreaterThan(0)
    expect(compareVersions('2026.10.1', '2026.9.6')).toBeGreaterThan(0)
    expect(compareVersions('2026.1.24-3', '2026.1.24')).toBeLessThan(0)
    expect(compareVersions('v2026.3.12', '2026.3.12')).toBe(0)
    expect(compareVersions('unknown', '2026.3.12')).toBeNaN()
  })

  it('a version older than a fix is affected by it; the current release by none', () => {
    // Given the last clawdbot build before CVE-2026-25253 was fixed
    const hit = affectingAdvisories('2026.1.24-3', shipped())
    // Then that CVE and every later fix apply, and a current build is clean
    expect(hit.map((a) => a.ids[0])).toContain('CVE-2026-25253')
    expect(hit.find((a) => a.ids.includes('GHSA-4jpw-hj22-2xmc'))?.fixed).toBe('2026.3.11')
    expect(affectingAdvisories('2026.9.6', shipped())).toEqual([])
    expect(affectingAdvisories('2026.3.12', shipped()).map((a) => a.fixed)).toEqual(['2026.4.8', '2026.4.23'])
    expect(affectingAdvisories(undefined, shipped())).toEqual([])
  })

  it('ir status names the advisories of the version that last wrote the config, with the upgrade target', async () => {
    // Given a file-era install last written by 2026.3.8 and no CLI or running gateway
    const state = fileEraStateDir(
      tempDir('ir-adv-status-'),
      '{"meta": {"lastTouchedVersion": "2026.3.8"}, "gateway": {"port": 9}}',
    )
    // When status runs
    const r = await status({stateDir: state}, {host: {homedir: tempDir('ir-adv-home-'), uid: 1000, env: {PATH: ''}}})
    const i = r.installs[0]!
    // Then the version, its source and the advisories fixed later are listed
    expect(i.advisories.version).toBe('2026.3.8')
    expect(i.advisories.source).toBe('config')
    const lines = knownBadLines(i)
    expect(lines[0]).toMatch(
      /^ {2}advisory 2026\.3\.8 \(config\) is affected by 7 known advisories; upgrade to >= 2026\.4\.23/,
    )
    expect(lines).toContain(
      "      assume exposed: every paired node host (remote code execution) and the gateway's admin scope; look for: device tokens with an unexpected operator.admin scope; token rotations in the logs",
    )
  })
})
