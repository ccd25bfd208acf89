import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPrometheusProvider } from '../../src/metrics/prometheus.js'
import { renderPromQL } from '../../src/metrics/template.js'
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js'
import { FEATURE, openMetrics, STEADY } from '../support/scenario.js'

// Hostile values substituted into queries, judged by the real Prometheus: its parser is the
// reference for what a query means.

let prometheus: PrometheusServer

beforeAll(async () => {
  prometheus = await startPrometheus(openMetrics())
})

afterAll(async () => {
  await prometheus?.remove()
})

async function query(promql: string): Promise<{ status: string; data?: { result: unknown[] } }> {
  const response = await fetch(`${prometheus.url}/api/v1/query`, {
    method: 'POST',
    body: new URLSearchParams({ query: promql, time: String(STEADY) })
  })
  return (await response.json()) as { status: string; data?: { result: unknown[] } }
}

// Characters that break naive substitution, mixed with printable ASCII and other Unicode. `$` is
// left out only because label_replace (the oracle below) expands it in its replacement.
const hostileChar = fc.oneof(
  fc.constantFrom(
    '"',
    "'",
    '\\',
    '`',
    '\n',
    '\r',
    '\t',
    '{',
    '}',
    '(',
    ')',
    '|',
    '.',
    '*',
    '#',
    ','
  ),
  fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)),
  fc.integer({ min: 0xa0, max: 0xd7ff }).map(c => String.fromCodePoint(c)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map(c => String.fromCodePoint(c))
)
const hostileValue = fc
  .array(hostileChar, { minLength: 1, maxLength: 24 })
  .map(chars => chars.join(''))
  .filter(value => !value.includes('$'))

describe('values substituted into PromQL cannot change the query', () => {
  it('round-trips any value through a double- or single-quoted label value unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(hostileValue, fc.constantFrom('"', "'"), async (value, quote) => {
        const rendered = renderPromQL(
          `label_replace(vector(1), "v", ${quote}{{group}}${quote}, "", "")`,
          { group: value }
        )
        expect(rendered.ok).toBe(true)
        const answer = await query((rendered as { text: string }).text)
        expect(answer.status).toBe('success')
        const [series] = answer.data!.result as Array<{ metric: { v?: string } }>
        expect(series?.metric.v).toBe(value)
      }),
      { numRuns: 150 }
    )
  })

  it('reads no data for groups that try to break out of the label matcher', async () => {
    const provider = createPrometheusProvider({
      provider: 'prometheus',
      queries: {},
      options: {
        url: prometheus.url,
        group_queries: {
          accuracy: 'avg(app_accuracy_ratio{feature="{{feature}}",group="{{group}}"})',
          user_satisfaction: "avg(app_user_satisfaction{group=~'{{group}}'})"
        }
      }
    })
    const hostile = [
      'treatment"} or vector(1) or app_up{group="',
      'treatment\\',
      "treatment'} or vector(1) or app_up{group='",
      'treat.*',
      'control|treatment',
      'treatment"}\n# ',
      '.+'
    ]
    const readings = await provider.read(
      hostile.flatMap(group => [
        { metric: 'accuracy', group },
        { metric: 'user_satisfaction', group }
      ]),
      {
        feature: FEATURE,
        phase: 'canary',
        now: new Date(STEADY * 1000),
        baseDir: '.',
        window: '5m',
        env: {}
      }
    )
    for (const reading of readings) {
      expect(reading.value, `${reading.metric} for ${JSON.stringify(reading.group)}`).toBeNull()
      expect(reading.reason).toMatch(/no series \(empty result\)/)
    }
  })

  it('still reads the real group through the same escaping, regex matchers included', async () => {
    const provider = createPrometheusProvider({
      provider: 'prometheus',
      queries: {},
      options: {
        url: prometheus.url,
        group_queries: { user_satisfaction: "avg(app_user_satisfaction{group=~'{{group}}'})" }
      }
    })
    const [reading] = await provider.read([{ metric: 'user_satisfaction', group: 'treatment' }], {
      feature: FEATURE,
      phase: 'canary',
      now: new Date(STEADY * 1000),
      baseDir: '.',
      window: '5m',
      env: {}
    })
    expect(reading).toEqual({ metric: 'user_satisfaction', group: 'treatment', value: 0.985 })
  })
})
