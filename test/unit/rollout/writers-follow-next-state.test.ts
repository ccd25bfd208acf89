import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import type { State, Transition } from '../../../src/engine/types.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, readState, renderState } from '../../../src/state/file.js'
import { removeTempRepos, tempRepo, writeMetrics } from '../../support/repo.js'

// One rule writes every state: change nextState() here, in one place, and every writer (the CLI's
// tick, rollback and resume; the action's landings and advance PR, which share
// commitTransitionFrom) and the policy check's expectation follow it.

const MARK = '2001-02-03T04:05:06.000Z'

vi.mock('../../../src/engine/next-state.js', async importOriginal => {
  const real = await importOriginal<typeof import('../../../src/engine/next-state.js')>()
  return {
    nextState: (state: State, transition: Transition): State => ({
      ...real.nextState(state, transition),
      enteredAt: MARK
    })
  }
})

afterAll(removeTempRepos)

// The test setup loads the CLI already; the writers are loaded afresh, with the rule changed.
let tick: typeof import('../../../src/commands/tick.js').tick
let rollback: typeof import('../../../src/commands/rollback.js').rollback
let resume: typeof import('../../../src/commands/resume.js').resume
let judgeStateChange: typeof import('../../../src/action/state-change.js').judgeStateChange
beforeAll(async () => {
  vi.resetModules()
  ;({ tick } = await import('../../../src/commands/tick.js'))
  ;({ rollback } = await import('../../../src/commands/rollback.js'))
  ;({ resume } = await import('../../../src/commands/resume.js'))
  ;({ judgeStateChange } = await import('../../../src/action/state-change.js'))
})

const POLICY = `feature: ladder
deployment:
  order: [a, b, c]
  phases:
    a:
      user_percentage: 5
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "< 0.01" }
    b:
      user_percentage: 50
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "< 0.01" }
    c: { user_percentage: 100 }
rollback:
  operators: [alice]
  automatic_triggers:
    - error_rate > 0.05
`
const policy = parsePolicyText(POLICY, 'ladder.yaml')
const T0 = new Date('2026-11-27T09:00:00Z')
const NOW = new Date('2026-11-28T09:00:00Z')

function repoAt(phase: string, overrides: Partial<State> = {}): string {
  return tempRepo({
    'policies/ladder.yaml': POLICY,
    [policy.statePath]: renderState({ ...initialState(policy, T0), phase, ...overrides })
  })
}

const written = (dir: string) => readState(join(dir, policy.statePath), policy)!

describe('every state writer follows nextState', () => {
  test("the CLI tick's advance", async () => {
    const dir = repoAt('a')
    writeMetrics(dir, { error_rate: 0.001 }, 'ladder')
    const [outcome] = await tick({
      cwd: dir,
      policies: [],
      now: NOW,
      dryRun: false,
      approvedBy: [],
      checks: []
    })
    expect(outcome!.decision.action).toBe('advance')
    expect(written(dir)).toMatchObject({ phase: 'b', enteredAt: MARK })
  })

  test("the CLI tick's automatic rollback", async () => {
    const dir = repoAt('b')
    writeMetrics(dir, { error_rate: 0.5 }, 'ladder')
    const [outcome] = await tick({
      cwd: dir,
      policies: [],
      now: NOW,
      dryRun: false,
      approvedBy: [],
      checks: []
    })
    expect(outcome!.decision.action).toBe('rollback')
    expect(written(dir)).toMatchObject({ phase: 'a', enteredAt: MARK })
  })

  test('a manual rollback, graceful and emergency', async () => {
    for (const emergency of [false, true]) {
      const dir = repoAt('b')
      await rollback({
        cwd: dir,
        policies: [],
        reason: 'test',
        emergency,
        operator: 'alice',
        now: NOW
      })
      expect(written(dir)).toMatchObject({ phase: 'a', enabled: !emergency, enteredAt: MARK })
    }
  })

  test('a resume', async () => {
    const dir = repoAt('b', { enabled: false })
    await resume({ cwd: dir, policies: [], reason: 'fixed', operator: 'alice', now: NOW })
    expect(written(dir)).toMatchObject({ phase: 'b', enabled: true, enteredAt: MARK })
  })

  test("the policy check expects the rule's state, and refuses one written by another rule", () => {
    const base = { ...initialState(policy, T0), phase: 'b' }
    const t: Transition = {
      kind: 'rollback',
      from: 'b',
      to: 'a',
      at: NOW.toISOString(),
      reason: 'test',
      approvers: [],
      evidence: []
    }
    const baseText = renderState(base)
    const judge = (head: State) =>
      judgeStateChange({
        policy,
        statePath: policy.statePath,
        baseState: base,
        baseText,
        headText: renderState(head, baseText),
        headRecord: { feature: 'ladder', ...t },
        decision: decide(policy, base, { readings: [], approvals: [], checks: [] }, NOW)
      })
    const byRule = { ...base, phase: 'a', enteredAt: MARK, lastTransition: t }
    expect(judge(byRule)).toMatchObject({ ok: true })
    expect(judge({ ...byRule, enteredAt: t.at })).toMatchObject({ ok: false })
  })

  test('no code in src writes a state file except through commitTransitionFrom (and init)', () => {
    const src = new URL('../../../src', import.meta.url).pathname
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap(name => {
        const path = join(dir, name)
        return statSync(path).isDirectory() ? files(path) : [path]
      })
    const callers = files(src)
      .filter(f => f.endsWith('.ts'))
      .filter(f => /\b(commitTransition|writeState)\(/.test(readFileSync(f, 'utf8')))
      .map(f => f.slice(src.length + 1))
      .sort()
    // git/transitions.ts and state/file.ts define them; rollout/write.ts applies nextState;
    // init writes the first state, before any transition.
    expect(callers).toEqual([
      'commands/init.ts',
      'git/transitions.ts',
      'rollout/write.ts',
      'state/file.ts'
    ])
  })
})
