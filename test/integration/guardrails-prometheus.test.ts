import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDocument } from 'yaml'
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js'
import { cli, tempRepo, transitionsIn } from '../support/repo.js'

// docs/guardrails.md's example with its Prometheus `metrics:` block, against a real Prometheus
// holding per-group counters: the guardrail reads increase(...) over everything since the phase
// was entered. Canary (10%) is entered one hour in; by the last tick 100 minutes of canary
// traffic have accumulated: 9,000,000 control and 1,000,000 treatment requests.

const DOC = readFileSync(new URL('../../docs/guardrails.md', import.meta.url), 'utf8')
const POLICY = /^```yaml\n([\s\S]*?)^```/m.exec(DOC)![1]!
const METRICS = /^ {2}```yaml\n {2}(metrics:[\s\S]*?)^ {2}```/m
  .exec(DOC)![1]!
  .replace(/^ {2}/gm, '')

const START = Date.UTC(2026, 0, 5) / 1000
const MINUTE = 60
const iso = (s: number) => new Date(s * 1000).toISOString()

type PerGroup = { control: number; treatment: number }

/**
 * Counters per minute for three hours: control 90,000 requests, treatment 10,000; per feature,
 * errors and requests slower than 0.5 s per minute.
 */
function openMetrics(perMinute: Record<string, { errors: PerGroup; slow: PerGroup }>) {
  const features = Object.keys(perMinute)
  const lines: string[] = []
  const requests = (g: keyof PerGroup) => (g === 'control' ? 90_000 : 10_000)
  const family = (
    name: string,
    type: string,
    series: (f: string, g: keyof PerGroup, labels: string, minute: number) => string[]
  ) => {
    lines.push(`# TYPE ${name} ${type}`)
    for (const feature of features)
      for (const group of ['control', 'treatment'] as const)
        for (let minute = 0; minute <= 180; minute++)
          lines.push(
            ...series(feature, group, `feature="${feature}",group="${group}"`, minute).map(
              line => `${line} ${START + minute * MINUTE}`
            )
          )
  }
  family('app_requests', 'counter', (_, g, l, m) => [`app_requests_total{${l}} ${m * requests(g)}`])
  family('app_request_errors', 'counter', (f, g, l, m) => [
    `app_request_errors_total{${l}} ${m * perMinute[f]!.errors[g]}`
  ])
  family('app_request_duration_seconds', 'histogram', (f, g, l, m) => [
    `app_request_duration_seconds_bucket{${l},le="0.5"} ${m * (requests(g) - perMinute[f]!.slow[g])}`,
    `app_request_duration_seconds_bucket{${l},le="+Inf"} ${m * requests(g)}`,
    `app_request_duration_seconds_count{${l}} ${m * requests(g)}`,
    `app_request_duration_seconds_sum{${l}} ${m * requests(g) * 0.2}`
  ])
  lines.push('# EOF')
  return lines.join('\n') + '\n'
}

let prometheus: PrometheusServer

beforeAll(async () => {
  prometheus = await startPrometheus(
    openMetrics({
      // 1% vs 1.1% errors: a 10% regression
      regressed: {
        errors: { control: 900, treatment: 110 },
        slow: { control: 4500, treatment: 500 }
      },
      // 5% vs 5.5% slower than 0.5 s: a 10% regression, read from histogram buckets
      slower: { errors: { control: 900, treatment: 100 }, slow: { control: 4500, treatment: 550 } },
      // an A/A
      same: { errors: { control: 900, treatment: 100 }, slow: { control: 4500, treatment: 500 } }
    })
  )
})

afterAll(async () => {
  await prometheus?.remove()
})

/** The documented policy for `feature`, reading the test's Prometheus; moved on to canary. */
async function atCanary(feature: string): Promise<string> {
  const doc = parseDocument(POLICY)
  doc.set('feature', feature)
  const metrics = parseDocument(METRICS).toJS() as { metrics: Record<string, unknown> }
  doc.set('metrics', { ...metrics.metrics, url: prometheus.url })
  doc.setIn(['guardrails', 'slow_request_share'], { margin: 0.05, minimum_sample_size: 500_000 })
  const dir = tempRepo({ [`policies/${feature}.yaml`]: doc.toString() })
  await cli(dir, 'init', '--now', iso(START))
  const toCanary = await cli(
    dir,
    'tick',
    '--approved-by',
    'alice',
    '--now',
    iso(START + 60 * MINUTE)
  )
  expect(toCanary.out).toContain('ADVANCE staging -> canary')
  return dir
}

describe('guardrails against a real Prometheus (per-group counters since entered_at)', () => {
  it('a 10% regression in treatment rolls back, with the comparison in the trailers', async () => {
    const dir = await atCanary('regressed')
    const run = await cli(dir, 'tick', '--now', iso(START + 160 * MINUTE))
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('ROLL BACK canary -> staging')
    const [rollback] = await transitionsIn(dir, 'regressed')
    // Only what fired is the rollback's evidence: the slow-request share is the same in both.
    expect(rollback!.evidence).toEqual([
      expect.objectContaining({
        gate: 'guardrail: error_rate (margin 5.00%)',
        metric: 'error_rate',
        value: expect.closeTo(0.1, 6),
        result: 'fired',
        n: { control: 9_000_000, treatment: 1_000_000 }
      })
    ])
    expect(rollback!.evidence[0]!.interval![0]).toBeGreaterThan(0.05)
  })

  it('a 10% regression in the share of slow requests, read from histogram buckets, rolls back', async () => {
    const dir = await atCanary('slower')
    const run = await cli(dir, 'tick', '--now', iso(START + 160 * MINUTE))
    expect(run.out).toContain('ROLL BACK canary -> staging')
    const [rollback] = await transitionsIn(dir, 'slower')
    expect(rollback!.evidence).toEqual([
      expect.objectContaining({
        gate: 'guardrail: slow_request_share (margin 5.00%)',
        value: expect.closeTo(0.1, 6),
        result: 'fired',
        n: { control: 9_000_000, treatment: 1_000_000 }
      })
    ])
  })

  it('an A/A rollout advances', async () => {
    const dir = await atCanary('same')
    const run = await cli(dir, 'tick', '--now', iso(START + 160 * MINUTE))
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('ADVANCE canary -> full')
    const [advance] = await transitionsIn(dir, 'same')
    for (const metric of ['error_rate', 'slow_request_share'])
      expect(advance!.evidence).toContainEqual(
        expect.objectContaining({
          gate: `guardrail: ${metric} (margin 5.00%)`,
          value: expect.closeTo(0, 9),
          result: 'pass',
          n: { control: 9_000_000, treatment: 1_000_000 }
        })
      )
  })

  it('reads only what accumulated since the phase was entered: 40 minutes in, the A/A is not yet shown within the margin', async () => {
    const dir = await atCanary('same')
    const run = await cli(dir, 'status', '--now', iso(START + 100 * MINUTE))
    expect(run.out).toMatch(
      /guardrail: error_rate \(margin 5\.00%\)\s+error_rate: not yet shown within the margin: .*n control 3600000, treatment 400000/
    )
  })
})
