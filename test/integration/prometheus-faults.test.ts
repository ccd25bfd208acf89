import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decide } from '../../src/engine/decide.js'
import type { Observations, Policy, State } from '../../src/engine/types.js'
import { createProvider, sourceFailuresOf } from '../../src/metrics/index.js'
import type { MetricsProvider } from '../../src/metrics/provider.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { sendJson, startCutoffProxy, startServer, type TestServer } from '../support/http-server.js'
import { startPrometheus } from '../support/prometheus.js'
import { openMetrics, STEADY } from '../support/scenario.js'

// Everything that can go wrong between phasegate and Prometheus yields "no data" with a reason a
// person can act on, and a gate on such a reading holds the rollout; it never advances it.

const NOW = new Date(STEADY * 1000)

/** A rollout at canary whose only gate is error_rate < 0.01, read with `query`. */
function policyFor(url: string, query: string, extra = ''): Policy {
  return parsePolicyText(
    `feature: checkout
deployment:
  order: [staging, canary, full_production]
  phases:
    staging: { user_percentage: 100 }
    full_production: { user_percentage: 100 }
    canary:
      user_percentage: 1
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "< 0.01" }
${extra}metrics:
  provider: prometheus
  url: ${url}
  timeout_ms: 300
  retries: 2
  queries:
    error_rate: ${JSON.stringify(query)}
    system_failure: "1 - min(app_up)"
`,
    'checkout.yaml'
  )
}

const state: State = {
  feature: 'checkout',
  phase: 'canary',
  enteredAt: new Date(NOW.getTime() - 86_400_000).toISOString(),
  enabled: true,
  experiments: {}
}

async function observe(provider: MetricsProvider, metrics: string[]): Promise<Observations> {
  const readings = await provider.read(
    metrics.map(metric => ({ metric })),
    { feature: 'checkout', phase: 'canary', now: NOW, baseDir: '.', window: '5m', env: {} }
  )
  const failures = sourceFailuresOf(provider)
  return { readings, approvals: [], checks: [], ...(failures ? { sourceFailures: failures } : {}) }
}

// A stand-in Prometheus whose answer depends on the query text.
const sample = (value: string) => [STEADY, value]
const vector = (...values: Array<[Record<string, string>, string]>) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: values.map(([metric, v]) => ({ metric, value: sample(v) }))
  }
})

let fake: TestServer
const attempts = new Map<string, number>()

beforeAll(async () => {
  fake = await startServer(async ({ body }, response) => {
    const query = new URLSearchParams(body).get('query') ?? ''
    const attempt = (attempts.get(query) ?? 0) + 1
    attempts.set(query, attempt)
    switch (query) {
      case 'good':
        return sendJson(response, 200, vector([{}, '0.004']))
      case 'slow':
        await new Promise(resolve => setTimeout(resolve, 1500))
        return sendJson(response, 200, vector([{}, '0.004']))
      case 'malformed':
        return sendJson(response, 200, '{"status":"success","data":{"resultType":"vec')
      case 'error500':
        return sendJson(response, 500, 'upstream storage unavailable')
      case 'flaky':
        return attempt < 3
          ? sendJson(response, 503, 'overloaded')
          : sendJson(response, 200, vector([{}, '0.004']))
      case 'empty':
        return sendJson(response, 200, vector())
      case 'nan':
        return sendJson(response, 200, vector([{}, 'NaN']))
      case 'inf':
        return sendJson(response, 200, vector([{}, '+Inf']))
      case 'two':
        return sendJson(response, 200, vector([{ pod: 'a' }, '0.004'], [{ pod: 'b' }, '0.006']))
      case 'range':
        return sendJson(response, 200, {
          status: 'success',
          data: { resultType: 'matrix', result: [{ metric: {}, values: [sample('0.004')] }] }
        })
      case 'bad':
        return sendJson(response, 400, {
          status: 'error',
          errorType: 'bad_data',
          error: '1:4: parse error: unexpected end of input'
        })
      default:
        return sendJson(response, 200, { hello: 'not prometheus' })
    }
  })
})

afterAll(async () => {
  await fake?.close()
})

describe('prometheus provider faults', () => {
  it('advances on a good reading (so the holds below are the faults’ doing)', async () => {
    const policy = policyFor(fake.url, 'good')
    const observations = await observe(createProvider(policy.metrics), ['error_rate'])
    expect(
      decide(policy, state, { ...observations, approvals: [{ user: 'alice' }] }, NOW).action
    ).toBe('advance')
  })

  const faults: Array<[string, string, RegExp]> = [
    [
      'slow',
      'an answer slower than the timeout',
      /did not answer within 300 ms \(after 3 attempts\)/
    ],
    ['malformed', 'malformed JSON', /answered HTTP 200 with malformed JSON/],
    [
      'error500',
      'HTTP 500s',
      /answered HTTP 500: upstream storage unavailable \(after 3 attempts\)/
    ],
    ['empty', 'an empty vector', /the query returned no series \(empty result\)/],
    ['nan', 'NaN', /the value is NaN/],
    ['inf', '+Inf', /the value is \+Inf/],
    [
      'two',
      'two series',
      /returned 2 series where one is expected \(\{pod="a"\}, \{pod="b"\}\); aggregate them/
    ],
    ['range', 'a range vector', /returns a matrix, not one number/],
    [
      'bad',
      'a query Prometheus rejects',
      /answered HTTP 400.*\(bad_data: 1:4: parse error: unexpected end of input\)/
    ],
    [
      'other',
      'JSON that is not a query result',
      /answered with JSON that is not a Prometheus query result/
    ]
  ]

  it.each(faults)(
    '%s: %s is no data with a reason, and the gate holds',
    async (query, _, reason) => {
      const policy = policyFor(fake.url, query)
      const observations = await observe(createProvider(policy.metrics), ['error_rate'])
      const [reading] = observations.readings
      expect(reading!.value).toBeNull()
      expect(reading!.reason).toMatch(/^error_rate: /)
      expect(reading!.reason).toMatch(reason)
      const decision = decide(
        policy,
        state,
        { ...observations, approvals: [{ user: 'alice' }] },
        NOW
      )
      expect(decision.action).toBe('hold')
      expect(decision.gates[0]!.outcome).toBe('pending')
    }
  )

  it('retries a 503 within its bound and then reads the value', async () => {
    const policy = policyFor(fake.url, 'flaky')
    const provider = createProvider(policy.metrics)
    const observations = await observe(provider, ['error_rate'])
    expect(observations.readings[0]).toEqual({ metric: 'error_rate', value: 0.004 })
    expect(attempts.get('flaky')).toBe(3)
    expect(observations.sourceFailures).toBeUndefined()
  })

  it('counts attempts that got no answer in time towards system_failure', async () => {
    const policy = policyFor(
      fake.url,
      'slow',
      'rollback:\n  automatic_triggers: [system_failure]\n'
    )
    const provider = createProvider(policy.metrics)
    const observations = await observe(provider, ['error_rate'])
    expect(observations.sourceFailures).toEqual({
      consecutive: 3,
      reason: expect.stringMatching(/did not answer within 300 ms/)
    })
  })
})

describe('prometheus provider authentication', () => {
  const read = async (options: Record<string, unknown>, env: Record<string, string>) => {
    const provider = createProvider({
      provider: 'prometheus',
      queries: { error_rate: 'good' },
      options: { url: fake.url, ...options }
    })
    const [reading] = await provider.read([{ metric: 'error_rate' }], {
      feature: 'checkout',
      phase: 'canary',
      now: NOW,
      baseDir: '.',
      window: '5m',
      env
    })
    expect(reading).toEqual({ metric: 'error_rate', value: 0.004 })
    return fake.received.at(-1)!.headers
  }

  it('sends a bearer token, basic auth and custom headers taken from the environment', async () => {
    const bearer = await read(
      { bearer_token_env: 'PROM_TOKEN', headers: { 'X-Scope-OrgID': 'tenant-1' } },
      { PROM_TOKEN: 's3cret' }
    )
    expect(bearer.authorization).toBe('Bearer s3cret')
    expect(bearer['x-scope-orgid']).toBe('tenant-1')
    const basic = await read(
      { basic_auth: { username: 'grafana', password_env: 'PROM_PASSWORD' } },
      { PROM_PASSWORD: 'pw' }
    )
    expect(basic.authorization).toBe(`Basic ${Buffer.from('grafana:pw').toString('base64')}`)
  })
})

describe('Prometheus stopped in the middle of a run', () => {
  it('reads what it could, gives the rest no data, and fires system_failure', async () => {
    const prometheus = await startPrometheus(openMetrics())
    // The first two answers pass; then Prometheus is stopped and its address goes dead.
    const proxy = await startCutoffProxy(prometheus.url, 2, prometheus.stop)
    try {
      const policy = policyFor(
        proxy.url,
        'sum(rate(app_request_errors_total[{{window}}])) / sum(rate(app_requests_total[{{window}}]))',
        'rollback:\n  automatic_triggers: [system_failure]\n'
      )
      // One query per request, one request at a time, so the cutoff falls between queries.
      const config = {
        ...policy.metrics,
        options: { ...policy.metrics.options, concurrency: 1, batch_size: 1 }
      }
      const metrics = ['error_rate', 'system_failure', 'error_rate_again', 'system_failure_again']
      // Copies written differently, since a run sends a query asked for twice only once.
      const withCopies = {
        ...config,
        queries: {
          ...config.queries,
          error_rate_again: `(${config.queries.error_rate!}) * 1`,
          system_failure_again: `(${config.queries.system_failure!}) * 1`
        }
      }
      const observations = await observe(createProvider(withCopies), metrics)
      const [first, second, third, fourth] = observations.readings
      expect(first).toEqual({ metric: 'error_rate', value: expect.closeTo(0.005, 12) })
      expect(second).toEqual({ metric: 'system_failure', value: 0 })
      for (const lost of [third!, fourth!]) {
        expect(lost.value).toBeNull()
        expect(lost.reason).toMatch(/could not be reached \(ECONNREFUSED\) \(after 3 attempts\)$/)
      }
      expect(observations.sourceFailures?.consecutive).toBeGreaterThanOrEqual(3)
      const decision = decide(policy, state, observations, NOW)
      expect(decision.action).toBe('rollback')
      expect(decision.reason).toMatch(
        /system_failure|the metrics source failed \d+ consecutive times \(limit 3\)/
      )
    } finally {
      await proxy.close().catch(() => {})
      await prometheus.remove()
    }
  })
})
