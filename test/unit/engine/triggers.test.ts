import { describe, expect, it } from 'vitest'
import { evaluateAlerts } from '../../../src/engine/alerts.js'
import { evaluateTriggers } from '../../../src/engine/triggers.js'
import type { Observations, Policy } from '../../../src/engine/types.js'
import { observations, policy, seedPolicy, T0 } from '../../support/policies.js'

function fired(p: Policy, phase: string, obs: Observations, now = T0) {
  const ph = p.phases.find(x => x.name === phase)!
  return evaluateTriggers(p, ph, obs, evaluateAlerts(p.alerts, obs.readings, now), now)
    .filter(t => t.fired)
    .map(t => t.trigger)
}

describe("the seed's automatic triggers", () => {
  const seed = seedPolicy()

  it('error_rate above the threshold at critical severity fires', () => {
    expect(fired(seed, 'canary', observations({ error_rate: 0.05 }))).toEqual([
      "error_rate > 0.02 (canary's rollback_threshold)"
    ])
  })

  it('a breach of the trigger below high alert severity does not roll back', () => {
    // full_production's rollback_threshold is 0.005; 0.006 is below the 0.01 warning: no severity.
    expect(fired(seed, 'full_production', observations({ error_rate: 0.006 }))).toEqual([])
    const reasons = evaluateTriggers(
      seed,
      seed.phases[4]!,
      observations({ error_rate: 0.006 }),
      [],
      T0
    ).map(t => t.reason)
    expect(reasons[0]).toContain('rollback needs high or critical')
  })

  it("performance_degradation uses the phase's rollback_threshold and needs high severity", () => {
    // canary: threshold 0.15; the alert goes high at 0.2 (critical threshold)
    expect(fired(seed, 'canary', observations({ performance_degradation: 0.17 }))).toEqual([])
    expect(fired(seed, 'canary', observations({ performance_degradation: 0.21 }))).toEqual([
      "performance_degradation > 0.15 (canary's rollback_threshold)"
    ])
  })

  it('system_failure always fires when the system reports down, whatever the severity rules', () => {
    expect(fired(seed, 'canary', observations({ system_failure: 1 }))).toEqual(['system_failure'])
    expect(fired(seed, 'canary', observations({ system_failure: 0 }))).toEqual([])
  })

  it('system_failure fires when the metrics source failed the limit of consecutive times', () => {
    const obs = observations(
      {},
      { sourceFailures: { consecutive: 3, reason: 'connection refused' } }
    )
    expect(fired(seed, 'canary', obs)).toEqual(['system_failure'])
    expect(
      fired(
        seed,
        'canary',
        observations({}, { sourceFailures: { consecutive: 2, reason: 'connection refused' } })
      )
    ).toEqual([])
  })

  it('missing data never fires a metric trigger', () => {
    expect(
      fired(seed, 'canary', observations({ error_rate: null, performance_degradation: Number.NaN }))
    ).toEqual([])
  })
})

describe('triggers with for:', () => {
  const p = policy(`
deployment:
  order: [a, b]
rollback:
  automatic_triggers:
    - when: error_rate > 0.02
      for: 10m
`)
  const now = new Date('2026-03-02T10:00:00Z')
  const minute = (m: number) => now.getTime() / 1000 - m * 60

  it('fires only after the breach has held for the whole window', () => {
    const young = {
      metric: 'error_rate',
      value: 0.05,
      series: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map(
        m => [minute(m), m > 7 ? 0.001 : 0.05] as [number, number]
      )
    }
    expect(fired(p, 'b', { readings: [young], approvals: [], checks: [] }, now)).toEqual([])
    const held = { ...young, series: young.series.map(([t]) => [t, 0.05] as [number, number]) }
    expect(fired(p, 'b', { readings: [held], approvals: [], checks: [] }, now)).toEqual([
      'error_rate > 0.02'
    ])
  })
})
