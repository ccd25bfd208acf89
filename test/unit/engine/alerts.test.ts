import { describe, expect, it } from 'vitest'
import { evaluateAlerts, severityOf } from '../../../src/engine/alerts.js'
import { observations, seedPolicy, T0 } from '../../support/policies.js'

describe('alert severities (warning 0.01, critical 0.02, as the seed sets error_rate)', () => {
  const rule = { warning: 0.01, critical: 0.02, direction: 'higher_is_worse' as const }
  it.each([
    [0.009, undefined],
    [0.01, 'low'],
    [0.0149, 'low'],
    [0.015, 'medium'],
    [0.0199, 'medium'],
    [0.02, 'high'],
    [0.0299, 'high'],
    [0.03, 'critical'],
    [0.05, 'critical']
  ])('%s -> %s', (value, severity) => {
    expect(severityOf(rule, value)).toBe(severity)
  })

  it('reads lower-is-worse metrics (critical below warning) the other way round', () => {
    const satisfaction = { warning: 0.9, critical: 0.8, direction: 'lower_is_worse' as const }
    expect(severityOf(satisfaction, 0.95)).toBeUndefined()
    expect(severityOf(satisfaction, 0.88)).toBe('low')
    expect(severityOf(satisfaction, 0.84)).toBe('medium')
    expect(severityOf(satisfaction, 0.75)).toBe('high')
    expect(severityOf(satisfaction, 0.7)).toBe('critical')
  })
})

describe("the seed's monitoring test", () => {
  it('an error rate of 0.05 raises an error_rate alert', () => {
    const alerts = evaluateAlerts(
      seedPolicy().alerts,
      observations({ error_rate: 0.05 }).readings,
      T0
    )
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ metric: 'error_rate', value: 0.05, severity: 'critical' })
  })

  it('response_time in milliseconds against 5000ms / 10000ms', () => {
    const alerts = evaluateAlerts(
      seedPolicy().alerts,
      observations({ response_time: 7600 }).readings,
      T0
    )
    expect(alerts).toEqual([
      expect.objectContaining({ metric: 'response_time', severity: 'medium' })
    ])
  })

  it('raises nothing on missing or NaN data', () => {
    expect(
      evaluateAlerts(
        seedPolicy().alerts,
        observations({ error_rate: null, response_time: Number.NaN }).readings,
        T0
      )
    ).toEqual([])
  })
})

describe('alerts with a for: window', () => {
  const rules = [
    {
      metric: 'error_rate',
      direction: 'higher_is_worse' as const,
      warning: 0.01,
      critical: 0.02,
      forMs: 10 * 60_000
    }
  ]
  const now = new Date('2026-03-02T10:00:00Z')
  const t = (minutesAgo: number) => now.getTime() / 1000 - minutesAgo * 60
  const series = (values: number[]) =>
    values.map((v, i) => [t(values.length - 1 - i), v] as [number, number])

  it('stays quiet while the breach is younger than the window', () => {
    const readings = [
      {
        metric: 'error_rate',
        value: 0.05,
        series: series([0.001, 0.001, 0.001, 0.001, 0.001, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05])
      }
    ]
    expect(evaluateAlerts(rules, readings, now)).toEqual([])
  })

  it('fires once every sample in the window breaches', () => {
    const readings = [{ metric: 'error_rate', value: 0.05, series: series(Array(11).fill(0.05)) }]
    expect(evaluateAlerts(rules, readings, now)).toHaveLength(1)
  })

  it('does not read a gap in the data as a sustained breach', () => {
    const readings = [
      { metric: 'error_rate', value: 0.05, series: series(Array(11).fill(0.05)).slice(8) }
    ]
    expect(evaluateAlerts(rules, readings, now)).toEqual([])
  })
})
