import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requiredReadings } from '../../src/engine/requests.js'
import type { MetricReading, MetricsConfig, Policy } from '../../src/engine/types.js'
import { canCombine } from '../../src/metrics/batch.js'
import { createProvider } from '../../src/metrics/index.js'
import type { MetricRequest } from '../../src/metrics/provider.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { initialState } from '../../src/state/file.js'
import { sendJson, startCutoffProxy, startServer, type TestServer } from '../support/http-server.js'
import { scenarioPolicyText } from '../support/policy.js'
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js'
import { FEATURE, openMetrics, SPIKE_START, STEADY } from '../support/scenario.js'

// A run's queries to one server are combined into few requests (src/metrics/batch.ts). Every
// reading must be exactly what the query gets when sent alone: the same value, the same range
// data, the same reason for no data.

let prometheus: PrometheusServer
let proxy: TestServer
let policy: Policy

beforeAll(async () => {
  prometheus = await startPrometheus(openMetrics())
  // A proxy that never cuts off, to count the requests that reach Prometheus.
  proxy = await startCutoffProxy(prometheus.url, Infinity, async () => {})
  policy = parsePolicyText(scenarioPolicyText(proxy.url), 'production_deployment.yaml')
})

afterAll(async () => {
  await proxy?.close()
  await prometheus?.remove()
})

function withOptions(config: MetricsConfig, options: Record<string, unknown>): MetricsConfig {
  return { ...config, options: { ...config.options, ...options } }
}

async function read(
  config: MetricsConfig,
  requests: MetricRequest[],
  atS: number,
  feature = FEATURE
): Promise<MetricReading[]> {
  return createProvider(config).read(requests, {
    feature,
    phase: 'canary',
    now: new Date(atS * 1000),
    baseDir: '.',
    window: '5m',
    env: {}
  })
}

async function counted<T>(run: () => Promise<T>): Promise<{ result: T; requests: number }> {
  const before = proxy.received.length
  const result = await run()
  return { result, requests: proxy.received.length - before }
}

describe('combined Prometheus queries', () => {
  it('read every seed metric, per group and over ranges, exactly as single queries do', async () => {
    const state = { ...initialState(policy, new Date(STEADY * 1000)), phase: 'canary' }
    const requests: MetricRequest[] = [
      ...requiredReadings(policy, state),
      ...['error_rate', 'response_time', 'user_satisfaction', 'accuracy', 'cost_per_request'].map(
        metric => ({ metric, rangeMs: 30 * 60_000 })
      ),
      ...['control', 'treatment'].flatMap(group =>
        ['error_rate', 'performance_degradation', 'response_time', 'accuracy'].map(metric => ({
          metric,
          group
        }))
      )
    ]
    for (const atS of [STEADY, SPIKE_START + 15 * 60]) {
      const single = await counted(() =>
        read(withOptions(policy.metrics, { batch_size: 1 }), requests, atS)
      )
      const combined = await counted(() => read(policy.metrics, requests, atS))
      expect(combined.result).toEqual(single.result)
      expect(combined.result.every(r => r.value !== null)).toBe(true)
      expect(combined.result.some(r => r.series && r.series.length > 10)).toBe(true)
      // One request per evaluation time or range (now, the range, and the baseline 2h earlier).
      expect(single.requests).toBeGreaterThan(10)
      expect(combined.requests).toBeLessThanOrEqual(4)
    }
  })

  it('gives each query of a batch its own answer when some of them fail', async () => {
    const queries: Record<string, string> = {
      good: 'sum(rate(app_requests_total[5m]))',
      scalar: 'scalar(sum(app_up))',
      literal: '0.25',
      wrong_type: 'sum(rate(app_requests_total))',
      two_series: 'app_up',
      empty: 'sum(app_no_such_metric)',
      nan: 'sum(app_up) * (0/0)',
      commented: 'sum(app_accuracy_ratio) / 2 # the mean of two groups',
      unbalanced: 'sum(app_up',
      top_level_comma: 'app_up, "x"'
    }
    const config: MetricsConfig = {
      provider: 'prometheus',
      queries,
      options: { url: proxy.url }
    }
    const requests = Object.keys(queries).map(metric => ({ metric }))
    const single = await read(withOptions(config, { batch_size: 1 }), requests, STEADY)
    const combined = await read(config, requests, STEADY)
    expect(combined).toEqual(single)
    const by = Object.fromEntries(combined.map(r => [r.metric, r]))
    expect(by.good!.value).toBeGreaterThan(0)
    expect(by.scalar!.value).toBe(2)
    expect(by.literal!.value).toBe(0.25)
    expect(by.commented!.value).toBeGreaterThan(0)
    expect(by.wrong_type!.reason).toMatch(/bad_data: .*range vector/)
    expect(by.two_series!.reason).toMatch(/returned 2 series where one is expected/)
    expect(by.two_series!.reason).not.toMatch(/phasegate_query/)
    expect(by.empty!.reason).toMatch(/empty result/)
    expect(by.nan!.reason).toMatch(/NaN/)
    expect(by.unbalanced!.reason).toMatch(/bad_data/)
    expect(by.top_level_comma!.reason).toMatch(/bad_data/)
  })

  it('sends a query many policies ask for once, and combines the rest across policies', async () => {
    // Twenty policies' providers read at once, as in one tick: each asks for its own feature's
    // error_rate (different queries) and for the same system_failure query (identical).
    const config: MetricsConfig = {
      provider: 'prometheus',
      queries: {
        error_rate: 'sum(rate(app_request_errors_total{feature="{{feature}}"}[{{window}}]))',
        system_failure: '1 - min(app_up)'
      },
      options: { url: proxy.url }
    }
    const requests = [{ metric: 'error_rate' }, { metric: 'system_failure' }]
    const features = Array.from({ length: 20 }, (_, i) => (i === 0 ? FEATURE : `other_${i}`))
    const { result, requests: sent } = await counted(() =>
      Promise.all(features.map(feature => read(config, requests, STEADY, feature)))
    )
    expect(sent).toBe(2) // 21 different queries, at most 20 to a request
    expect(result[0]!.map(r => r.value)).toEqual([expect.any(Number), 0])
    for (const readings of result.slice(1)) {
      expect(readings[0]!.reason).toMatch(/empty result/)
      expect(readings[1]!.value).toBe(0)
    }
  })
})

describe('combining never changes a reading (property)', () => {
  // Queries of every kind a policy may hold: values, scalars, errors, empty and multi-series
  // results, range-only metrics, comments, brackets and commas inside strings, and ones that cannot
  // be combined at all.
  const POOL: Record<string, string> = {
    rate: 'sum(rate(app_requests_total[{{window}}]))',
    ratio:
      'sum(rate(app_request_errors_total{feature="{{feature}}"}[{{window}}])) / sum(rate(app_requests_total{feature="{{feature}}"}[{{window}}]))',
    by_group: 'sum by (group) (rate(app_requests_total[{{window}}]))',
    scalar: 'scalar(sum(app_up))',
    literal: '42',
    wrong_type: 'sum(rate(app_requests_total))',
    parse_error: 'sum(app_up',
    comma: 'app_up, "x"',
    empty: 'sum(app_no_such_metric)',
    nan: 'sum(app_up) * (0/0)',
    inf: 'sum(app_up) / 0',
    commented: 'avg(app_accuracy_ratio) # a ) , " comment',
    in_string: 'count(label_replace(app_up, "x", "),(", "", ""))',
    regex: 'sum(app_up{group=~"contr.*|treat(ment)"})'
  }
  const names = Object.keys(POOL)
  const config = (batchSize: number): MetricsConfig => ({
    provider: 'prometheus',
    queries: POOL,
    options: { url: proxy.url, batch_size: batchSize }
  })
  const request = fc.record({
    metric: fc.constantFrom(...names),
    range: fc.boolean()
  })

  it('reads any mix of queries, repeated or not, in any batch size as it reads each alone', async () => {
    const at = SPIKE_START + 5 * 60
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 24 }),
        fc.integer({ min: 2, max: 8 }),
        async (picked, batchSize) => {
          const requests = picked.map(({ metric, range }) =>
            range ? { metric, rangeMs: 10 * 60_000 } : { metric }
          )
          const alone = await read(config(1), requests, at)
          expect(await read(config(batchSize), requests, at)).toEqual(alone)
        }
      ),
      { numRuns: 40 }
    )
  })
})

describe('combined queries against a server that refuses them', () => {
  let fake: TestServer
  beforeAll(async () => {
    fake = await startServer(async ({ body }, response) => {
      const query = new URLSearchParams(body).get('query') ?? ''
      if (query.includes('phasegate_query')) {
        if (query.includes('slow')) await new Promise(resolve => setTimeout(resolve, 500))
        if (query.includes('storage')) return sendJson(response, 500, 'storage unavailable')
        return sendJson(response, 422, {
          status: 'error',
          errorType: 'execution',
          error: 'query too large'
        })
      }
      if (query === 'storage') return sendJson(response, 500, 'storage unavailable')
      return sendJson(response, 200, {
        status: 'success',
        data: {
          resultType: 'vector',
          result: [{ metric: {}, value: [STEADY, String(query.length)] }]
        }
      })
    })
  })
  afterAll(async () => {
    await fake?.close()
  })

  const config = (queries: Record<string, string>, options = {}): MetricsConfig => ({
    provider: 'prometheus',
    queries,
    options: { url: fake.url, timeout_ms: 200, retries: 2, ...options }
  })

  it('falls back to single queries when the combined one is refused', async () => {
    const before = fake.received.length
    const readings = await read(
      config({ a: 'one', b: 'three' }),
      [{ metric: 'a' }, { metric: 'b' }],
      STEADY
    )
    expect(readings.map(r => r.value)).toEqual([3, 5])
    expect(fake.received.length - before).toBe(3)
  })

  it('does not retry a combined query that is too slow, but its queries singly', async () => {
    const before = fake.received.length
    const readings = await read(
      config({ a: 'slow', b: 'fine' }),
      [{ metric: 'a' }, { metric: 'b' }],
      STEADY
    )
    expect(readings.map(r => r.value)).toEqual([4, 4])
    expect(fake.received.length - before).toBe(3)
  })
  it('sends the queries of a combined query that got a 5xx singly, with their own retries', async () => {
    const before = fake.received.length
    const readings = await read(
      config({ a: 'storage', b: 'fine' }),
      [{ metric: 'a' }, { metric: 'b' }],
      STEADY
    )
    expect(readings[0]!.reason).toMatch(
      /answered HTTP 500: storage unavailable \(after 3 attempts\)/
    )
    expect(readings[1]!.value).toBe(4)
    expect(fake.received.length - before).toBe(1 + 3 + 1)
  })

  it('fails every query of a batch when the server cannot be reached at all', async () => {
    const gone = await startServer(() => {})
    const url = gone.url
    await gone.close()
    const readings = await read(
      { ...config({ a: 'one', b: 'two' }), options: { url, retries: 1 } },
      [{ metric: 'a' }, { metric: 'b' }],
      STEADY
    )
    for (const reading of readings)
      expect(reading.reason).toMatch(/could not be reached \(ECONNREFUSED\) \(after 2 attempts\)$/)
  })
})

describe('canCombine', () => {
  it.each([
    ['sum(rate(x{a="b"}[5m]))', true],
    ['x{a="(", b=")"}', true],
    ["x{a='\\')'}", true],
    ['x{a=`)`}', true],
    ['sum(x) # a comment with ) and ,', true],
    ['sum(x', false],
    ['x)', false],
    ['sum(x]', false],
    ['x, "y"', false],
    ['x{a="unterminated}', false],
    ['sum by (a, b) (x)', true]
  ])('%s: %s', (query, expected) => {
    expect(canCombine(query)).toBe(expected)
  })
})
