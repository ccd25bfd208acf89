import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import { knownRange, screenReading } from '../../../src/engine/plausible.js'
import type { Observations } from '../../../src/engine/types.js'
import { at, HEALTHY, observations, policy, seedPolicy, state, T0 } from '../../support/policies.js'

// Readings that cannot be true are "no data" for that metric alone, with the reason: never a pass,
// never an alert, never a rollback, and never a reason to stop deciding the other metrics.

const seed = seedPolicy()
const approved = (values: Record<string, number | null>, extra: Partial<Observations> = {}) =>
  observations(values, { approvals: [{ user: 'alice' }], ...extra })

describe('impossible readings are no data for that metric alone', () => {
  it('a negative error rate does not pass "< 0.01": the gate is pending with the reason', () => {
    const d = decide(
      seed,
      state(seed, 'canary'),
      approved({ ...HEALTHY, error_rate: -0.5 }),
      at(25)
    )
    expect(d.action).toBe('hold')
    const gate = d.gates.find(g => g.gate === 'success_criteria')!
    expect(gate.outcome).toBe('pending')
    expect(gate.reason).toContain('-0.5 is below 0, which a rate cannot be')
    expect(gate.evidence).toContainEqual(
      expect.objectContaining({ metric: 'error_rate', value: null, result: 'pending' })
    )
  })

  it('a rate above 1 is no data: it neither passes a gate nor fires a trigger', () => {
    const d = decide(seed, state(seed, 'canary'), approved({ ...HEALTHY, error_rate: 1.5 }), at(25))
    expect(d.action).toBe('hold')
    expect(d.alerts).toEqual([])
    const trigger = d.triggers.find(t => t.trigger.startsWith('error_rate'))!
    expect(trigger.fired).toBe(false)
    expect(trigger.reason).toContain('1.5 is above 1, which a rate cannot be')
  })

  it('NaN or infinite readings are no data, and the other metrics still decide', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const d = decide(
        seed,
        state(seed, 'canary'),
        approved({ ...HEALTHY, user_satisfaction: bad, error_rate: 0.05 }),
        at(25)
      )
      // error_rate 0.05 breaches the canary's trigger at critical severity: the rollback goes on.
      expect(d.action, String(bad)).toBe('rollback')
      expect(d.gates.find(g => g.gate === 'success_criteria')!.reason).toContain(
        'no data for user_satisfaction'
      )
    }
  })

  it('a negative rate or latency raises no alert', () => {
    const p = policy(`
feature: f
deployment: {}
monitoring:
  alerts:
    error_rate: { warning: 0.01, critical: 0.02 }
    response_time: { warning: 500ms, critical: 1000ms }
`)
    const d = decide(
      p,
      state(p, 'development'),
      observations({ error_rate: -1, response_time: -20 }),
      T0
    )
    expect(d.alerts).toEqual([])
  })

  it('a negative sample count makes the reading no data, so min_samples cannot pass on it', () => {
    expect(screenReading({ metric: 'conversion', value: 0.3, samples: -5 }, undefined)).toEqual({
      metric: 'conversion',
      value: null,
      reason: 'impossible reading: its sample count -5 is impossible'
    })
  })

  it('impossible points of range data are gaps, never a sustained breach', () => {
    const p = policy(`
feature: f
deployment:
  order: [a, b]
  phases:
    a: { user_percentage: 10 }
    b: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - when: error_rate > 0.02
      for: 10m
`)
    const now = at(1)
    const t = now.getTime() / 1000
    const series: Array<[number, number]> = [-600, -480, -360, -240, -120, 0].map(s => [
      t + s,
      0.05
    ])
    series[2]![1] = 7 // impossible for a rate: a gap in the breach, not part of it
    const d = decide(
      p,
      state(p, 'b'),
      { readings: [{ metric: 'error_rate', value: 0.05, series }], approvals: [], checks: [] },
      now
    )
    expect(d.action).toBe('hold')
  })

  it('names say which readings are impossible until a policy declares the kind', () => {
    expect(knownRange('error_rate')).toMatchObject({ min: 0, max: 1 })
    expect(knownRange('conversion_ratio')).toMatchObject({ max: 1 })
    expect(knownRange('requests_total')).toMatchObject({ min: 0 })
    expect(knownRange('response_time')).toMatchObject({ min: 0 })
    expect(knownRange('p99_latency')).toMatchObject({ min: 0 })
    expect(knownRange('performance_degradation')).toBeUndefined()
    expect(knownRange('user_satisfaction')).toBeUndefined()
  })
})
