import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import { at, HEALTHY, observations, seedPolicy, state } from '../../support/policies.js'

const seed = seedPolicy()
const approved = (values: Record<string, number | null> = HEALTHY) =>
  observations(values, { approvals: [{ user: 'alice' }] })

describe('decide()', () => {
  it('advances one phase when every gate passes, recording approvers and evidence', () => {
    const d = decide(seed, state(seed, 'canary'), approved(), at(25))
    expect(d.action).toBe('advance')
    expect(d.target).toBe('limited_production')
    expect(d.transition).toMatchObject({
      kind: 'advance',
      from: 'canary',
      to: 'limited_production',
      approvers: ['alice'],
      at: at(25).toISOString()
    })
    expect(d.transition!.evidence).toContainEqual({
      gate: 'success_criteria',
      metric: 'error_rate',
      value: 0.0005,
      threshold: '< 0.01',
      result: 'pass'
    })
  })

  it('holds, naming every gate that is not passing', () => {
    const d = decide(seed, state(seed, 'canary'), observations(HEALTHY), at(2))
    expect(d.action).toBe('hold')
    expect(d.reason).toContain('duration pending')
    expect(d.reason).toContain('approval pending')
    expect(d.transition).toBeUndefined()
  })

  it('says when only people are missing (the advance PR can be opened)', () => {
    expect(
      decide(seed, state(seed, 'canary'), observations(HEALTHY), at(25)).awaitingApproval
    ).toBe(true)
    expect(decide(seed, state(seed, 'canary'), observations(HEALTHY), at(2)).awaitingApproval).toBe(
      false
    )
  })

  it('rolls back one phase on a fired trigger, even when gates would pass', () => {
    const d = decide(
      seed,
      state(seed, 'limited_production'),
      approved({ ...HEALTHY, error_rate: 0.05 }),
      at(100)
    )
    expect(d.action).toBe('rollback')
    expect(d.target).toBe('canary')
    expect(d.transition).toMatchObject({
      kind: 'rollback',
      from: 'limited_production',
      to: 'canary'
    })
    expect(d.transition!.evidence).toEqual([
      expect.objectContaining({ metric: 'error_rate', value: 0.05, result: 'fired' })
    ])
  })

  it('the final phase cannot advance, and says so', () => {
    const d = decide(seed, state(seed, 'full_production'), approved(), at(1000))
    expect(d.action).toBe('hold')
    expect(d.reason).toBe(
      'full_production is the final phase: the rollout is complete and cannot advance; steady-state check success_criteria: met'
    )
  })

  // The seed writes success_criteria on its final phase: they are the steady-state check, read
  // every run and reported (a miss is said, never acted on: rollback triggers act).
  it("the final phase's success_criteria are its steady-state check: evaluated and reported", () => {
    const d = decide(
      seed,
      state(seed, 'full_production'),
      approved({ ...HEALTHY, error_rate: 0.004 }),
      at(1000)
    )
    expect(d.action).toBe('hold')
    expect(d.gates.map(g => [g.gate, g.outcome])).toEqual([['success_criteria', 'fail']])
    expect(d.reason).toMatch(
      /^full_production is the final phase: the rollout is complete and cannot advance; steady-state check success_criteria: NOT met \(.*error_rate.*\), reported only$/
    )
  })

  it('the first phase cannot roll back, and says so', () => {
    const d = decide(
      seed,
      state(seed, 'development'),
      approved({ ...HEALTHY, system_failure: 1 }),
      at(1)
    )
    expect(d.action).toBe('hold')
    expect(d.reason).toContain('development is the first phase: there is nothing to roll back to')
  })

  it('with the kill switch off, nothing moves', () => {
    const d = decide(
      seed,
      state(seed, 'canary', { enabled: false }),
      approved({ ...HEALTHY, error_rate: 0.05 }),
      at(30)
    )
    expect(d.action).toBe('hold')
    expect(d.reason).toContain('kill switch is off')
  })

  it('missing metrics hold the advance instead of passing it', () => {
    const d = decide(seed, state(seed, 'canary'), approved({ error_rate: 0.001 }), at(30))
    expect(d.action).toBe('hold')
    expect(d.gates.find(g => g.gate === 'success_criteria')!.outcome).toBe('pending')
  })

  it('is deterministic and does not read the clock', () => {
    const a = decide(seed, state(seed, 'canary'), approved(), at(25))
    const b = decide(seed, state(seed, 'canary'), approved(), at(25))
    expect(a).toEqual(b)
  })
})

describe('trend alerts in decide()', () => {
  it('reports a rise of the latest window over the one before, without rolling back', async () => {
    const { policy: parse } = await import('../../support/policies.js')
    const p = parse(
      'deployment:\n  order: [a, b]\n  phases:\n    a: { user_percentage: 10 }\n    b: { user_percentage: 100 }\nmonitoring:\n  trends:\n    error_rate: { window: 10m, increase: 0.5 }\n'
    )
    const now = new Date('2026-03-02T10:00:00Z')
    const end = now.getTime() / 1000
    const series = Array.from(
      { length: 21 },
      (_, i) => [end - (20 - i) * 60, i > 10 ? 0.004 : 0.002] as [number, number]
    )
    const d = decide(
      p,
      state(p, 'b'),
      { readings: [{ metric: 'error_rate', value: 0.004, series }], approvals: [], checks: [] },
      now
    )
    expect(d.trends).toEqual([
      expect.objectContaining({
        metric: 'error_rate',
        direction: 'increase',
        current: expect.closeTo(0.004, 12),
        previous: expect.closeTo(0.002, 12),
        change: 1
      })
    ])
    expect(d.action).toBe('hold')
  })
})
