import { describe, expect, it } from 'vitest'
import type { MetricReading } from '../../../src/engine/types.js'
import {
  readWithDerived,
  relativeChange,
  relativeSeries,
  type DegradationOptions
} from '../../../src/metrics/derived.js'
import type { MetricRequest, ReadContext } from '../../../src/metrics/provider.js'

const NOW = new Date('2026-01-05T12:00:00Z')
const NOW_S = NOW.getTime() / 1000
const context: ReadContext = {
  feature: 'checkout',
  phase: 'canary',
  now: NOW,
  baseDir: '.',
  window: '5m',
  env: {}
}

// Latency by group, and an hour earlier, as a metrics source would report it.
const LATENCY: Record<string, number> = { control: 800, treatment: 880, '': 840 }
const LATENCY_HOUR_AGO: Record<string, number> = { '': 700 }

function source(calls: Array<{ at: number; requests: MetricRequest[] }>) {
  return async (requests: MetricRequest[], at: ReadContext): Promise<MetricReading[]> => {
    calls.push({ at: at.now.getTime() / 1000, requests })
    const table = at.now.getTime() === NOW.getTime() ? LATENCY : LATENCY_HOUR_AGO
    return requests.map(r => {
      const value = r.metric === 'response_time' ? table[r.group ?? ''] : undefined
      const base = { metric: r.metric, ...(r.group ? { group: r.group } : {}) }
      if (value === undefined) return { ...base, value: null, reason: `no ${r.metric}` }
      return r.rangeMs
        ? {
            ...base,
            value,
            series: [
              [at.now.getTime() / 1000 - 60, value] as [number, number],
              [at.now.getTime() / 1000, value] as [number, number]
            ]
          }
        : { ...base, value }
    })
  }
}

const options: DegradationOptions = {
  latency: 'response_time',
  control_group: 'control',
  baseline_offset: '1h'
}

describe('performance_degradation', () => {
  it('is the relative latency increase of a group over the control group', async () => {
    const calls: Array<{ at: number; requests: MetricRequest[] }> = []
    const readings = await readWithDerived(
      [
        { metric: 'performance_degradation', group: 'treatment' },
        { metric: 'performance_degradation', group: 'control' },
        { metric: 'response_time', group: 'treatment' }
      ],
      context,
      options,
      () => false,
      source(calls)
    )
    expect(readings).toEqual([
      { metric: 'performance_degradation', group: 'treatment', value: expect.closeTo(0.1, 12) },
      { metric: 'performance_degradation', group: 'control', value: 0 },
      { metric: 'response_time', group: 'treatment', value: 880 }
    ])
    // Each latency is read once, however many readings need it.
    expect(calls).toHaveLength(1)
    expect(calls[0]!.requests).toEqual([
      { metric: 'response_time', group: 'treatment' },
      { metric: 'response_time', group: 'control' }
    ])
  })

  it('is the relative change of the rollout latency over baseline_offset earlier', async () => {
    const calls: Array<{ at: number; requests: MetricRequest[] }> = []
    const [reading] = await readWithDerived(
      [{ metric: 'performance_degradation', rangeMs: 60_000 }],
      context,
      options,
      () => false,
      source(calls)
    )
    expect(reading!.value).toBeCloseTo(840 / 700 - 1, 12)
    // Range data compares each point with the point one offset earlier.
    expect(reading!.series).toEqual([
      [NOW_S - 60, expect.closeTo(840 / 700 - 1, 12)],
      [NOW_S, expect.closeTo(840 / 700 - 1, 12)]
    ])
    expect(calls.map(c => c.at).sort()).toEqual([NOW_S - 3600, NOW_S])
  })

  it('uses the policy’s own query when it has one', async () => {
    const calls: Array<{ at: number; requests: MetricRequest[] }> = []
    const [reading] = await readWithDerived(
      [{ metric: 'performance_degradation' }],
      context,
      options,
      () => true,
      source(calls)
    )
    expect(reading).toEqual({
      metric: 'performance_degradation',
      value: null,
      reason: 'no performance_degradation'
    })
  })

  it('explains why there is no value', async () => {
    const read = source([])
    const [noOffset] = await readWithDerived(
      [{ metric: 'performance_degradation' }],
      context,
      { latency: 'response_time', control_group: 'control' },
      () => false,
      read
    )
    expect(noOffset!.reason).toBe(
      'performance_degradation: the policy has no query for it and no baseline_offset to compare response_time with'
    )
    const [noControl] = await readWithDerived(
      [{ metric: 'performance_degradation', group: 'treatment' }],
      context,
      { ...options, control_group: 'baseline' },
      () => false,
      read
    )
    expect(noControl!.reason).toBe(
      'performance_degradation for group treatment: response_time of group baseline has no data: no response_time'
    )
  })

  it('refuses a baseline that is not above zero', () => {
    expect(relativeChange(5, 0)).toEqual({ reason: 'the baseline latency is 0, not above 0' })
    expect(relativeChange(110, 100)).toEqual({ value: expect.closeTo(0.1, 12) })
    expect(
      relativeSeries(
        [
          [10, 2],
          [20, 3]
        ],
        [
          [10, 1],
          [15, 1]
        ]
      )
    ).toEqual([[10, 1]])
  })
})
