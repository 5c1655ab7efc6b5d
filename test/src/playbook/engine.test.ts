import {describe, expect, it} from 'vitest'
import {z} from 'zod'

import {openCase} from '../../../src/case/case-store.js'
import {runPlaybook} from '../../../src/playbook/engine.js'
import {defaultsPrompter, type Prompter} from '../../../src/playbook/prompter.js'
import type {Playbook} from '../../../src/playbook/playbook-schema.js'
import type {ActionContext, ActionDefinition} from '../../../src/playbook/action-types.js'
import {realRunner} from '../../../src/system/process-runner.js'
import {scriptedPrompter, tempDir} from '../../helpers/temp.js'

/** A test action that records what happens to a list instead of the world. */
function recorder(
  name: string,
  log: string[],
  opts: {fail?: boolean; failPlan?: boolean; verifyOk?: boolean; noop?: boolean} = {},
): ActionDefinition<{n: number}> {
  return {
    name,
    description: 'test',
    mutates: true,
    params: z.object({n: z.number().default(1)}).strict(),
    plan: async (_c, p) => {
      if (opts.failPlan) throw new Error(`${name} cannot plan`)
      return {noop: Boolean(opts.noop), summary: `${name} ${p.n}`, lines: [`+ ${name}`], question: `Do ${name}?`}
    },
    apply: async () => {
      if (opts.fail) throw new Error(`${name} broke`)
      log.push(name)
      return {detail: `${name} applied`}
    },
    verify: async () => ({ok: opts.verifyOk ?? true, detail: 'checked'}),
  }
}

function ctx(prompter: Prompter, dryRun = false, vars: Record<string, unknown> = {}): ActionContext {
  const home = tempDir()
  return {
    install: {
      stateDir: home,
      configPath: `${home}/openclaw.json`,
      source: 'flag',
      stateDirExists: true,
      configExists: false,
    },
    case: openCase(undefined, {home}),
    prompter,
    runner: realRunner,
    env: {},
    now: () => new Date(),
    vars,
    dryRun,
    results: new Map(),
    state: {},
  }
}

function pb(...steps: Array<Partial<Playbook['steps'][number]> & {id: string; action: string}>): Playbook {
  return {
    id: 'test',
    title: 't',
    description: '',
    steps: steps.map((s) => ({title: s.id, onError: 'stop' as const, ...s})),
  }
}

/** The engine is given its actions: these tests give it their own. */
const TEST_ACTIONS: Record<string, ActionDefinition<unknown>> = {}

describe('playbook engine', () => {
  it('plan → confirm → apply → verify, journaled; declined steps change nothing', async () => {
    // Given two changing steps, the operator says yes to the first and no to the second
    const log: string[] = []
    TEST_ACTIONS['t-a'] = recorder('t-a', log)
    TEST_ACTIONS['t-b'] = recorder('t-b', log)
    const prompter = scriptedPrompter([true, false])
    const c = ctx(prompter)
    // When the playbook runs
    const out = await runPlaybook(pb({id: 'a', action: 't-a'}, {id: 'b', action: 't-b', confirm: 'Really b?'}), c, {
      mayChange: true,
      actions: TEST_ACTIONS,
    })
    // Then only the first was applied, both were asked, and the journal has every decision
    expect(log).toEqual(['t-a'])
    expect(prompter.asked).toEqual(['Do t-a?', 'Really b?'])
    expect(out.steps.map((s) => s.status)).toEqual(['done', 'declined'])
    expect(out.exitCode).toBe(0)
    expect(c.case.journal.entries().map((e) => e.status)).toEqual(['start', 'done', 'declined', 'end'])
  })

  it('dry run and "nobody to confirm" only plan', async () => {
    const log: string[] = []
    TEST_ACTIONS['t-a'] = recorder('t-a', log)
    const dry = await runPlaybook(pb({id: 'a', action: 't-a'}), ctx(defaultsPrompter, true), {
      mayChange: true,
      actions: TEST_ACTIONS,
    })
    expect(dry.steps[0]).toMatchObject({status: 'planned', plan: {lines: ['+ t-a']}})
    expect(dry.exitCode).toBe(0)
    const noTty = await runPlaybook(pb({id: 'a', action: 't-a'}), ctx(defaultsPrompter), {
      mayChange: false,
      actions: TEST_ACTIONS,
    })
    expect(noTty).toMatchObject({needsConfirmation: true, exitCode: 4})
    expect(log).toEqual([])
  })

  it('a dry run whose plan cannot be made exits 3, as the real run would fail there', async () => {
    // Given a step that cannot even plan (e.g. a config that does not parse)
    const log: string[] = []
    TEST_ACTIONS['t-noplan'] = recorder('t-noplan', log, {failPlan: true})
    TEST_ACTIONS['t-a'] = recorder('t-a', log)
    // When it is dry-run
    const dry = await runPlaybook(
      pb({id: 'x', action: 't-noplan', onError: 'continue'}, {id: 'a', action: 't-a'}),
      ctx(defaultsPrompter, true),
      {mayChange: true, actions: TEST_ACTIONS},
    )
    // Then the step says why, nothing ran, and the exit code is not "ok"
    expect(dry.steps.map((s) => `${s.status}:${s.detail}`)).toEqual(['failed:t-noplan cannot plan', 'planned:t-a 1'])
    expect(dry.exitCode).toBe(3)
    expect(log).toEqual([])
  })

  it('stops after a failure unless onError is continue; exit 5 partial', async () => {
    const log: string[] = []
    TEST_ACTIONS['t-bad'] = recorder('t-bad', log, {fail: true})
    TEST_ACTIONS['t-a'] = recorder('t-a', log)
    const stop = await runPlaybook(pb({id: 'x', action: 't-bad'}, {id: 'a', action: 't-a'}), ctx(defaultsPrompter), {
      mayChange: true,
      actions: TEST_ACTIONS,
    })
    expect(stop.steps.map((s) => `${s.status}:${s.detail}`)).toEqual([
      'failed:t-bad broke',
      'not-run:an earlier step failed',
    ])
    expect(stop.exitCode).toBe(5)
    const cont = await runPlaybook(
      pb({id: 'x', action: 't-bad', onError: 'continue'}, {id: 'a', action: 't-a'}),
      ctx(defaultsPrompter),
      {mayChange: true, actions: TEST_ACTIONS},
    )
    expect(cont.steps.map((s) => s.status)).toEqual(['failed', 'done'])
    expect(cont.exitCode).toBe(5)
  })

  it('a failed verification is a failed step and the run is not verified (exit 3)', async () => {
    TEST_ACTIONS['t-unverified'] = recorder('t-unverified', [], {verifyOk: false})
    const out = await runPlaybook(pb({id: 'v', action: 't-unverified'}), ctx(defaultsPrompter), {
      mayChange: true,
      actions: TEST_ACTIONS,
    })
    expect(out.steps[0]).toMatchObject({status: 'failed', verified: false})
    expect(out).toMatchObject({verified: false, exitCode: 3})
  })

  it('honours when and ask, and noop plans are not applied', async () => {
    const log: string[] = []
    TEST_ACTIONS['t-a'] = recorder('t-a', log)
    TEST_ACTIONS['t-noop'] = recorder('t-noop', log, {noop: true})
    const prompter = scriptedPrompter(['pairing', true])
    const c = ctx(prompter, false, {keepRunning: true})
    const out = await runPlaybook(
      pb(
        {id: 'stop', action: 't-a', when: '!keepRunning'},
        {
          id: 'ask',
          action: 't-a',
          ask: {var: 'dmPolicy', message: 'DM policy?', choices: ['disabled', 'pairing'], default: 'disabled'},
        },
        {id: 'same', action: 't-noop'},
      ),
      c,
      {mayChange: true, actions: TEST_ACTIONS},
    )
    expect(out.steps.map((s) => s.status)).toEqual(['skipped', 'done', 'noop'])
    expect(c.vars.dmPolicy).toBe('pairing')
    expect(log).toEqual(['t-a'])
  })
})
