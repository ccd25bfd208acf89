import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PhasegateError } from '../../src/errors.js'
import type { MetricsConfig } from '../../src/engine/types.js'
import { createProvider } from '../../src/metrics/index.js'
import type { MetricRequest, ReadContext } from '../../src/metrics/provider.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { sendJson, startServer, type TestServer } from '../support/http-server.js'

// The http provider against a JSON server on 127.0.0.1 that answers in the shapes of Datadog's
// metrics query API and New Relic's NerdGraph, configured exactly as the README shows.

const NOW = new Date('2026-01-05T03:00:00Z')
const NOW_S = NOW.getTime() / 1000
const context = (env: Record<string, string> = {}): ReadContext => ({
  feature: 'checkout',
  phase: 'canary',
  now: NOW,
  baseDir: '.',
  window: '5m',
  env
})

let server: TestServer

beforeAll(async () => {
  server = await startServer(({ url, body }, response) => {
    if (url.pathname === '/api/v1/query') {
      const query = url.searchParams.get('query') ?? ''
      const value = query.includes('version:treatment') ? 0.006 : 0.004
      const from = Number(url.searchParams.get('from'))
      const points = []
      for (let t = from; t <= NOW_S; t += 60) points.push([t * 1000, value])
      return sendJson(response, 200, { status: 'ok', series: [{ pointlist: points }] })
    }
    if (url.pathname === '/graphql') {
      const { variables } = JSON.parse(body) as { variables: { nrql: string } }
      const value = variables.nrql.includes("'treatment'") ? 812 : 790
      return sendJson(response, 200, {
        data: { actor: { account: { nrql: { results: [{ value }] } } } }
      })
    }
    if (url.pathname === '/broken') return sendJson(response, 502, 'bad gateway')
    return sendJson(response, 200, { unexpected: true })
  })
})

afterAll(async () => {
  await server?.close()
})

// The README's examples, as written there, pointed at this test server instead of the vendors'.
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

const DOCS = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8')

/** The first yaml block after the heading. */
function yamlBlock(markdown: string, heading: string): string {
  const at = markdown.indexOf(`### ${heading}`)
  const block = at < 0 ? null : /```yaml\n([\s\S]*?)```/.exec(markdown.slice(at))
  if (!block) throw new Error(`no yaml block under "### ${heading}"`)
  return block[1]!
}

function readmeExample(heading: string, host: string): MetricsConfig {
  const block = yamlBlock(README, heading)
  const text = `feature: checkout\ndeployment: {}\n${block.replaceAll(host, server.url)}`
  return parsePolicyText(text, 'checkout.yaml').metrics
}

const datadog = () => readmeExample('Datadog (http provider)', 'https://api.datadoghq.com')
const newRelic = () => readmeExample('New Relic (http provider)', 'https://api.newrelic.com')

const ddEnv = { DD_API_KEY: 'dd-key', DD_APP_KEY: 'dd-app' }

describe('http provider', () => {
  it('is documented in docs/metrics.md with the same examples as the README', () => {
    expect(yamlBlock(DOCS, 'Datadog')).toBe(yamlBlock(README, 'Datadog (http provider)'))
    expect(yamlBlock(DOCS, 'New Relic')).toBe(yamlBlock(README, 'New Relic (http provider)'))
  })

  it('reads a Datadog-style answer: query in the URL, keys from the environment, last point', async () => {
    const provider = createProvider(datadog())
    const readings = await provider.read(
      [{ metric: 'error_rate' }, { metric: 'error_rate', group: 'treatment' }],
      context(ddEnv)
    )
    expect(readings).toEqual([
      { metric: 'error_rate', value: 0.004 },
      { metric: 'error_rate', group: 'treatment', value: 0.006 }
    ])
    const sent = server.received.at(-1)!
    const url = new URL(sent.url, server.url)
    expect(url.searchParams.get('query')).toBe(
      'sum:trace.http.request.errors{service:checkout,version:treatment}.as_count() / sum:trace.http.request.hits{service:checkout,version:treatment}.as_count()'
    )
    expect(url.searchParams.get('to')).toBe(String(NOW_S))
    expect(url.searchParams.get('from')).toBe(String(NOW_S - 300))
    expect(sent.headers['dd-api-key']).toBe('dd-key')
    expect(sent.headers['dd-application-key']).toBe('dd-app')
  })

  it('returns range data from series_path for a `for:` window, oldest first, in seconds', async () => {
    const provider = createProvider(datadog())
    const [reading] = await provider.read(
      [{ metric: 'error_rate', rangeMs: 10 * 60_000 }],
      context(ddEnv)
    )
    expect(reading!.value).toBe(0.004)
    expect(reading!.series).toEqual(
      Array.from({ length: 11 }, (_, i) => [NOW_S - 600 + i * 60, 0.004])
    )
  })

  it('reads a New Relic NerdGraph answer: NRQL in a JSON body variable', async () => {
    const provider = createProvider(newRelic())
    const [reading] = await provider.read(
      [{ metric: 'response_time', group: 'treatment' }],
      context({ NEW_RELIC_API_KEY: 'nr-key' })
    )
    expect(reading).toEqual({ metric: 'response_time', group: 'treatment', value: 812 })
    const sent = server.received.at(-1)!
    expect(sent.method).toBe('POST')
    expect(sent.headers['api-key']).toBe('nr-key')
    expect(JSON.parse(sent.body).variables.nrql).toBe(
      "SELECT average(duration) * 1000 AS value FROM Transaction WHERE appName = 'checkout' AND variant = 'treatment' SINCE 5 minutes AGO"
    )
  })

  it('refuses values that are not plain names instead of putting them in a query', async () => {
    const provider = createProvider(datadog())
    const requests: MetricRequest[] = [
      { metric: 'error_rate', group: "x' OR 1=1 --" },
      { metric: 'error_rate', group: 'a}.as_count() + sum:other{*' }
    ]
    const before = server.received.length
    for (const reading of await provider.read(requests, context(ddEnv))) {
      expect(reading.value).toBeNull()
      expect(reading.reason).toMatch(/\{\{group\}\} value .* is not a plain name/)
    }
    expect(server.received.length).toBe(before)
  })

  it('gives no data with a reason when the path finds nothing or the server fails', async () => {
    const missing = createProvider({
      ...datadog(),
      options: { ...datadog().options, url: `${server.url}/other?q={{query}}` }
    })
    const [nothing] = await missing.read([{ metric: 'error_rate' }], context(ddEnv))
    expect(nothing).toEqual({
      metric: 'error_rate',
      value: null,
      reason: 'error_rate: no value in the answer: $ has no "series"'
    })
    const broken = createProvider({
      ...datadog(),
      options: { ...datadog().options, url: `${server.url}/broken?q={{query}}`, retries: 1 }
    })
    const [failed] = await broken.read([{ metric: 'error_rate' }], context(ddEnv))
    expect(failed!.value).toBeNull()
    expect(failed!.reason).toMatch(
      /the metrics endpoint http:\/\/127\.0\.0\.1:\d+ answered HTTP 502: bad gateway \(after 2 attempts\)/
    )
  })

  it('says which environment variable is missing instead of sending an unauthenticated query', async () => {
    const provider = createProvider(datadog())
    const before = server.received.length
    const error = await provider.read([{ metric: 'error_rate' }], context({})).catch(e => e)
    expect(error).toBeInstanceOf(PhasegateError)
    expect((error as PhasegateError).format()).toBe(
      "metrics.headers.DD-API-KEY.env: environment variable DD_API_KEY is not set, so the metrics server cannot be authenticated (hint: set DD_API_KEY in the workflow's env (from a secret))"
    )
    expect(server.received.length).toBe(before)
  })

  it('rejects bad options when the policy is loaded, naming the option', () => {
    expect(() =>
      createProvider({ ...datadog(), options: { ...datadog().options, value_path: 'series[0]' } })
    ).toThrow(
      'metrics.value_path: not a JSON path such as $.series[0].pointlist[-1][1] (http provider)'
    )
    expect(() =>
      createProvider({ ...newRelic(), options: { ...newRelic().options, method: 'GET' } })
    ).toThrow('metrics.body: a body is sent only with method: POST (http provider)')
  })
})
