import { describe, expect, it } from 'vitest'
import { evaluateTrend, trendRangeMs, type TrendRule } from '../../../src/engine/trends.js'
import type { MetricReading } from '../../../src/engine/types.js'

const NOW = new Date('2026-01-05T12:00:00Z')
const END = NOW.getTime() / 1000
const rule: TrendRule = { metric: 'error_rate', windowMs: 10 * 60_000, increase: 0.5 }

/** One point a minute over the last 20 minutes: `before` in the older half, `after` in the newer. */
function reading(before: number, after: number): MetricReading {
  const series: Array<[number, number]> = []
  for (let i = 0; i <= 20; i++) {
    const t = END - 1200 + i * 60
    series.push([t, t > END - 600 ? after : before])
  }
  return { metric: 'error_rate', value: after, series }
}

describe('evaluateTrend', () => {
  it('asks for range data covering both windows', () => {
    expect(trendRangeMs(rule)).toBe(20 * 60_000)
  })

  it('alerts when the latest window rose by at least the rule’s share over the one before', () => {
    const outcome = evaluateTrend(rule, reading(0.004, 0.006), NOW)
    expect(outcome.alert?.direction).toBe('increase')
    expect(outcome.alert!.current).toBeCloseTo(0.006, 15)
    expect(outcome.alert!.previous).toBeCloseTo(0.004, 15)
    expect(outcome.alert!.change).toBeCloseTo(0.5, 12)
    expect(outcome.alert!.message).toBe(
      'error_rate averaged 0.006 over the last 10m, against 0.004 over the 10m before: up 50% (alerts at +50%)'
    )
  })

  it('stays quiet below the rule’s share, and says by how much it moved', () => {
    const outcome = evaluateTrend(rule, reading(0.004, 0.0059), NOW)
    expect(outcome.alert).toBeUndefined()
    expect(outcome).toEqual({
      reason:
        'error_rate averaged 0.0059 over the last 10m, against 0.004 over the 10m before: up 47.5%, within bounds'
    })
  })

  it('alerts on a fall for a metric where lower is worse', () => {
    const satisfaction: TrendRule = {
      metric: 'user_satisfaction',
      windowMs: 600_000,
      decrease: 0.02
    }
    const outcome = evaluateTrend(
      satisfaction,
      { ...reading(0.98, 0.95), metric: 'user_satisfaction' },
      NOW
    )
    expect(outcome.alert?.direction).toBe('decrease')
    expect(outcome.alert!.change).toBeCloseTo(0.95 / 0.98 - 1, 12)
  })

  it('averages each window, so one noisy point does not make a trend', () => {
    const noisy = reading(0.004, 0.004)
    noisy.series![15]![1] = 0.02
    // mean of the newer window: nine points of 0.004 and one of 0.02 = 0.0056, +40%
    expect(evaluateTrend(rule, noisy, NOW).alert).toBeUndefined()
  })

  it('treats a rise from zero as an unbounded increase', () => {
    const outcome = evaluateTrend(rule, reading(0, 0.001), NOW)
    expect(outcome.alert?.change).toBe(Infinity)
    expect(outcome.alert?.message).toMatch(/up from 0/)
  })

  it('gives a reason, not an alert, without range data or with an empty window', () => {
    expect(evaluateTrend(rule, undefined, NOW)).toEqual({
      reason: 'no range data for error_rate to compare two 10m windows'
    })
    const recent = reading(0.004, 0.006)
    recent.series = recent.series!.filter(([t]) => t > END - 600)
    expect(evaluateTrend(rule, recent, NOW)).toEqual({
      reason: 'error_rate has no usable samples in the previous 10m window'
    })
    const nan = reading(Number.NaN, 0.006)
    expect(evaluateTrend(rule, nan, NOW)).toEqual({
      reason: 'error_rate has no usable samples in the previous 10m window'
    })
  })
})
