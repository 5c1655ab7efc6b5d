import {describe, expect, it} from 'vitest'

import {runSecurityAudit} from '../../../src/openclaw/security-audit-cli.js'
import type {OpenClawCli} from '../../../src/openclaw/version.js'
import type {ProcessRunner} from '../../../src/system/process-runner.js'

const cli: OpenClawCli = {
  command: '/opt/node24/bin/node',
  args: ['/opt/openclaw/openclaw.mjs'],
  version: '2026.9.6',
  packageDir: '/opt/openclaw',
}

/** A runner answering as OpenClaw 2026.9.6 did (its own words, exit code). */
function answering(exitCode: number, stdout: string, stderr: string): ProcessRunner {
  return {run: async () => ({exitCode, stdout, stderr, timedOut: false, notFound: false})}
}

describe('runSecurityAudit', () => {
  const base = {env: {}, stateDir: '/s', configPath: '/s/openclaw.json', redact: (s: string) => s}

  it('reads a report OpenClaw printed with exit 0', async () => {
    // Given OpenClaw's report with one critical
    const report = {
      summary: {critical: 1, warn: 0, info: 0},
      findings: [{checkId: 'gateway.bind_no_auth', severity: 'critical'}],
    }
    // When the audit runs
    const run = await runSecurityAudit({...base, cli, runner: answering(0, JSON.stringify(report), '')})
    // Then its finding is there and no reason is given
    expect(run.findings).toEqual([{checkId: 'gateway.bind_no_auth', severity: 'critical', title: ''}])
    expect(run.reason).toBeUndefined()
  })

  it('gives no report when OpenClaw cannot use its temp dir, and says what to do', async () => {
    // Given OpenClaw 2026.9.6's answer when ~/.cache was made by root
    const said = 'Unsafe fallback OpenClaw temp dir: /home/u/.cache/openclaw-1001'
    // When the audit runs
    const run = await runSecurityAudit({...base, cli, runner: answering(1, '', said)})
    // Then there is no report, OpenClaw's words and the next step
    expect(run.findings).toEqual([])
    expect(run.reason).toBe(
      `openclaw security audit gave no report (exit 1): ${said} (OpenClaw's temp dir is not this user's: ` +
        'remove it or give it to this user, then run ir again)',
    )
  })
})
