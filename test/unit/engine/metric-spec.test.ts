import { describe, expect, it } from 'vitest'
import { evaluateAlerts } from '../../../src/engine/alerts.js'
import { metricSpec } from '../../../src/engine/metric-spec.js'
import { metricDirection } from '../../../src/experiments/analysis.js'
import { observations, policy, T0 } from '../../support/policies.js'

describe('metricSpec: what is known of a metric', () => {
  const none = { metricDefinitions: {} }

  it.each([
    ['error_rate', 'higher_is_worse', 'rate'],
    ['checkout_error_rate', 'higher_is_worse', 'rate'],
    ['errors', 'higher_is_worse', undefined],
    ['latency', 'higher_is_worse', undefined],
    ['p99_latency_ms', 'higher_is_worse', undefined],
    ['response_time', 'higher_is_worse', undefined],
    ['performance_degradation', 'higher_is_worse', undefined],
    ['cost_per_request', 'higher_is_worse', undefined],
    ['user_satisfaction', 'lower_is_worse', undefined],
    ['accuracy', 'lower_is_worse', undefined],
    ['conversion_rate', 'lower_is_worse', 'rate'],
    ['queue_depth', undefined, undefined],
    ['terror_index', undefined, undefined]
  ])('%s: %s, %s', (metric, direction, kind) => {
    const spec = metricSpec(none, metric)
    expect(spec.direction).toBe(direction)
    expect(spec.kind).toBe(kind)
    expect(spec.directionFrom).toBe(direction ? 'known name' : undefined)
  })

  it('takes what the policy declares over what the name implies, field by field', () => {
    const p = { metricDefinitions: { error_rate: { unit: '%', kind: 'mean' as const } } }
    expect(metricSpec(p, 'error_rate')).toEqual({
      metric: 'error_rate',
      direction: 'higher_is_worse',
      kind: 'mean',
      unit: '%',
      unitFrom: 'declared',
      directionFrom: 'known name'
    })
  })
})

describe('alerts follow the metric, whatever order its thresholds are written in', () => {
  const p = policy(`
deployment:
  phases:
    canary: { user_percentage: 1 }
monitoring:
  alerts:
    error_rate: { warning: 0.01, critical: 0.02 }
    user_satisfaction: { warning: 0.9, critical: 0.8 }
`)

  it('an error rate of 0 raises nothing; 0.5 raises a critical alert', () => {
    expect(evaluateAlerts(p.alerts, observations({ error_rate: 0 }).readings, T0)).toEqual([])
    expect(evaluateAlerts(p.alerts, observations({ error_rate: 0.5 }).readings, T0)).toEqual([
      expect.objectContaining({ metric: 'error_rate', severity: 'critical' })
    ])
  })

  it('a satisfaction of 0.5 is critical, 0.99 raises nothing', () => {
    expect(evaluateAlerts(p.alerts, observations({ user_satisfaction: 0.5 }).readings, T0)).toEqual(
      [expect.objectContaining({ severity: 'critical' })]
    )
    expect(
      evaluateAlerts(p.alerts, observations({ user_satisfaction: 0.99 }).readings, T0)
    ).toEqual([])
  })
})

describe("experiments' metricDirection reads the declaration", () => {
  it('a declared direction wins over the name', () => {
    const p = policy(`
deployment:
  phases:
    canary: { user_percentage: 1 }
metrics:
  definitions:
    error_budget_left: { direction: lower_is_worse }
    wait_ms: { direction: higher_is_worse }
`)
    // Before: "error" in the name made the budget something to decrease.
    expect(metricDirection('error_budget_left', p)).toBe('increase')
    expect(metricDirection('wait_ms', p)).toBe('decrease')
  })
})
