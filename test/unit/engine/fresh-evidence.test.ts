import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import type { MetricReading } from '../../../src/engine/types.js'
import { observations, policy, seedPolicy, state, T0 } from '../../support/policies.js'

// A trigger fires only on evidence whose window starts at or after the phase was entered: an
// instant query of rate(x[5m]) one minute after a rollback is mostly data from before it.

const seed = seedPolicy()
const now = new Date(T0.getTime() + 10 * 3_600_000)
const enteredAt = new Date(now.getTime() - 60_000)
const s = (n: number) => now.getTime() / 1000 - n * 60

function bad(windowStart?: number): MetricReading {
  return { metric: 'error_rate', value: 0.05, ...(windowStart ? { windowStart } : {}) }
}

describe('evidence older than the transition', () => {
  const inLimited = state(seed, 'limited_production', { enteredAt: enteredAt.toISOString() })

  it('a reading whose window starts before the phase was entered does not roll back', () => {
    const decision = decide(seed, inLimited, { ...observations(), readings: [bad(s(5))] }, now)
    expect(decision.action).toBe('hold')
    const trigger = decision.triggers.find(t => t.trigger.startsWith('error_rate'))!
    expect(trigger.fired).toBe(false)
    expect(trigger.reason).toMatch(/before limited_production was entered/)
  })

  it('a reading whose window starts after it does', () => {
    const decision = decide(seed, inLimited, { ...observations(), readings: [bad(s(0.5))] }, now)
    expect(decision.action).toBe('rollback')
  })

  it('a for: window reaching back before the phase was entered does not roll back', () => {
    const p = policy(`feature: f
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - when: error_rate > 0.05
      for: 10m
`)
    const series: Array<[number, number]> = []
    for (let m = 20; m >= 0; m--) series.push([s(m), 0.2])
    const reading = { metric: 'error_rate', value: 0.2, series, windowStart: s(0.5) }
    const entered = state(p, 'full', {
      enteredAt: new Date(now.getTime() - 5 * 60_000).toISOString()
    })
    expect(decide(p, entered, { ...observations(), readings: [reading] }, now).action).toBe('hold')
    const longAgo = state(p, 'full', {
      enteredAt: new Date(now.getTime() - 3_600_000).toISOString()
    })
    expect(decide(p, longAgo, { ...observations(), readings: [reading] }, now).action).toBe(
      'rollback'
    )
  })

  it('a system_failure reading from before the transition does not roll back again', () => {
    const decision = decide(
      seed,
      inLimited,
      {
        ...observations(),
        readings: [{ metric: 'system_failure', value: 1, windowStart: s(5) }]
      },
      now
    )
    expect(decision.action).toBe('hold')
  })
})
