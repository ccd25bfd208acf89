import { describe, expect, it } from 'vitest'
import type { MetricReading } from '../../../src/engine/types.js'
import { readGroupStatistics } from '../../../src/experiments/observe.js'
import type { MetricRequest, MetricsProvider } from '../../../src/metrics/provider.js'
import { policy } from '../../support/policies.js'

// An experiment's per-group reading that cannot be true is no data for that group and metric:
// the analysis says to keep running, and nothing else stops.

const p = policy(`
feature: checkout
deployment: {}
experiments:
  new_flow:
    groups:
      control: { weight: 50 }
      treatment: { weight: 50 }
    success_metrics: [conversion_rate, response_time]
`)

function provider(values: Record<string, { value: number; samples: number }>): MetricsProvider {
  return {
    name: 'fixed',
    async read(requests: MetricRequest[]): Promise<MetricReading[]> {
      return requests.map(r => {
        const found = values[`${r.metric}[${r.group}]`]
        return found
          ? { metric: r.metric, group: r.group, ...found }
          : { metric: r.metric, group: r.group, value: null, reason: 'not served' }
      })
    }
  }
}

const context = {
  feature: 'checkout',
  phase: 'development',
  now: new Date('2026-03-02T09:00:00Z'),
  baseDir: '.',
  window: '5m',
  env: {}
}

describe('experiment readings that cannot be true', () => {
  it('a rate above 1 or a negative mean of a duration leaves that group out instead of stopping', async () => {
    const data = await readGroupStatistics(
      provider({
        'conversion_rate[control]': { value: 0.1, samples: 1000 },
        'conversion_rate[treatment]': { value: 1.5, samples: 1000 },
        'response_time[control]': { value: 800, samples: 1000 },
        'response_time_stddev[control]': { value: 50, samples: 1000 },
        'response_time[treatment]': { value: -20, samples: 1000 },
        'response_time_stddev[treatment]': { value: 50, samples: 1000 }
      }),
      p.experiments[0]!,
      context
    )
    expect(Object.keys(data.metrics.conversion_rate!)).toEqual(['control'])
    expect(Object.keys(data.metrics.response_time!)).toEqual(['control'])
  })

  it('a negative standard deviation is no data, not a mean with an imaginary spread', async () => {
    const data = await readGroupStatistics(
      provider({
        'response_time[control]': { value: 800, samples: 1000 },
        'response_time_stddev[control]': { value: -50, samples: 1000 },
        'response_time[treatment]': { value: 810, samples: 1000 },
        'response_time_stddev[treatment]': { value: NaN, samples: 1000 }
      }),
      p.experiments[0]!,
      context
    )
    expect(data.metrics.response_time).toEqual({})
  })
})
