import { describe, expect, it } from 'vitest'
import { evaluateAlerts } from '../../../src/engine/alerts.js'
import { evaluateTriggers } from '../../../src/engine/triggers.js'
import type { Observations, Policy } from '../../../src/engine/types.js'
import { observations, policy, SEED_POLICY_TEXT, seedPolicy, T0 } from '../../support/policies.js'

function fired(p: Policy, phase: string, obs: Observations, now = T0) {
  const ph = p.phases.find(x => x.name === phase)!
  return evaluateTriggers(p, ph, obs, evaluateAlerts(p.alerts, obs.readings, now), now)
    .filter(t => t.fired)
    .map(t => t.trigger)
}

describe("the seed's automatic triggers", () => {
  const seed = seedPolicy()

  it('error_rate above the written trigger at critical severity fires', () => {
    expect(fired(seed, 'canary', observations({ error_rate: 0.05 }))).toEqual(['error_rate > 0.02'])
  })

  it('a breach of the trigger below high alert severity does not roll back', () => {
    // The phase writes 0.005; 0.006 is below the 0.01 warning: no severity.
    const strict = policy(
      SEED_POLICY_TEXT.replace(
        '      duration: null\n',
        '      duration: null\n      rollback_threshold: { error_rate: 0.005 }\n'
      )
    )
    expect(fired(strict, 'full_production', observations({ error_rate: 0.006 }))).toEqual([])
    const reasons = evaluateTriggers(
      strict,
      strict.phases[4]!,
      observations({ error_rate: 0.006 }),
      [],
      T0
    ).map(t => t.reason)
    expect(reasons[0]).toContain('rollback needs high or critical')
  })

  it('performance_degradation rolls back past its written 0.3 only', () => {
    // The seed's PhaseConfig suggests 0.15 for canary; nobody wrote it, so it does nothing.
    expect(fired(seed, 'canary', observations({ performance_degradation: 0.21 }))).toEqual([])
    expect(fired(seed, 'canary', observations({ performance_degradation: 0.31 }))).toEqual([
      'performance_degradation > 0.3'
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
  phases:
    a: { user_percentage: 10 }
    b: { user_percentage: 100 }
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

describe('defaults never override what was written (issue 12, kind 3)', () => {
  const ladder = (phases: string) => `
deployment:
  order: [dev, canary, full]
  phases:
${phases}
rollback:
  automatic_triggers:
    - error_rate > 0.01
`

  it('a phase named canary on another ladder keeps the written trigger, and gains none', () => {
    const p = policy(
      ladder(
        '    dev: { user_percentage: 100 }\n    canary: { user_percentage: 5 }\n    full: { user_percentage: 100 }'
      )
    )
    // Before: the seed's canary rollback_threshold (0.02) replaced "> 0.01" and a
    // performance_degradation trigger nobody wrote rolled back.
    expect(fired(p, 'canary', observations({ error_rate: 0.015 }))).toEqual(['error_rate > 0.01'])
    expect(fired(p, 'canary', observations({ performance_degradation: 0.9 }))).toEqual([])
  })

  it("on the seed's own ladder too, a built-in rollback_threshold creates no trigger", () => {
    const p = policy('deployment:\n  phases:\n    canary: { user_percentage: 1 }\n')
    expect(
      fired(p, 'canary', observations({ error_rate: 0.9, performance_degradation: 0.9 }))
    ).toEqual([])
  })

  it("a phase's written rollback_threshold replaces the trigger's number, and says where it came from", () => {
    const p = policy(
      ladder(
        '    dev: { user_percentage: 100 }\n    canary:\n      user_percentage: 5\n      rollback_threshold: { error_rate: 0.05 }\n    full: { user_percentage: 100 }'
      )
    )
    expect(fired(p, 'canary', observations({ error_rate: 0.03 }))).toEqual([])
    expect(fired(p, 'canary', observations({ error_rate: 0.06 }))).toEqual([
      "error_rate > 0.05 (canary's rollback_threshold)"
    ])
    expect(fired(p, 'dev', observations({ error_rate: 0.03 }))).toEqual(['error_rate > 0.01'])
  })
})

describe('a for: window counts as held only where the data covers it (kind 5)', () => {
  const p = policy(`
deployment:
  order: [a, b]
  phases:
    a: { user_percentage: 10 }
    b: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - when: error_rate > 0.02
      for: 30m
`)
  const now = new Date('2026-03-02T10:00:00Z')
  const minute = (m: number) => now.getTime() / 1000 - m * 60
  const reading = (minutes: number[]) => ({
    metric: 'error_rate',
    value: 0.05,
    series: minutes.map(m => [minute(m), 0.05] as [number, number])
  })
  const obs = (r: ReturnType<typeof reading>) => ({ readings: [r], approvals: [], checks: [] })

  it('fires when every minute of the 30 breaches', () => {
    const all = Array.from({ length: 31 }, (_, i) => 30 - i)
    expect(fired(p, 'b', obs(reading(all)), now)).toEqual(['error_rate > 0.02'])
  })

  it('does not fire with no samples for twenty of the thirty minutes', () => {
    // Samples from 30 to 25 minutes ago and in the last 5: 20 minutes unseen in between.
    const gappy = [30, 29, 28, 27, 26, 25, 4, 3, 2, 1, 0]
    expect(fired(p, 'b', obs(reading(gappy)), now)).toEqual([])
    const [result] = evaluateTriggers(p, p.phases[1]!, obs(reading(gappy)), [], now)
    expect(result!.reason).toMatch(/no data between .* \(21m\)/)
  })

  it('does not fire when the samples stop before now', () => {
    const stale = Array.from({ length: 16 }, (_, i) => 30 - i) // 30 .. 15 minutes ago
    expect(fired(p, 'b', obs(reading(stale)), now)).toEqual([])
  })

  it('says a latest value without range data cannot show a sustained breach', () => {
    const [result] = evaluateTriggers(
      p,
      p.phases[1]!,
      { readings: [{ metric: 'error_rate', value: 0.05 }], approvals: [], checks: [] },
      [],
      now
    )
    expect(result!.fired).toBe(false)
    expect(result!.reason).toMatch(/no range data covering the last 30m/)
  })
})
