// A known traffic scenario for the real-Prometheus tests: two experiment groups serving requests
// for four hours, with an error spike in the last half hour. It is written out as OpenMetrics for
// promtool, and the expected readings are computed here from the same numbers, independently of
// Prometheus, so a test compares Prometheus's answer with arithmetic on the scenario.

export const FEATURE = 'production_deployment'
export const GROUPS = ['control', 'treatment'] as const
export type Group = (typeof GROUPS)[number]

const MINUTE = 60
const HOUR = 3600
/** Epoch seconds where the data starts. */
export const START = Date.UTC(2026, 0, 5) / 1000
export const END = START + 4 * HOUR
/** Samples every 15 s, 7 s off the minute, so no sample sits on a whole-minute window edge. */
export const SCRAPE_S = 15
const OFFSET_S = 7
/** From here (a whole minute) both groups' error fractions jump, to the end of the data. */
export const SPIKE_START = START + 3 * HOUR + 30 * MINUTE
/** From here the treatment group is slower. */
export const TREATMENT_SLOWER_AT = START + 1 * HOUR + 30 * MINUTE
/** A steady moment: well after the treatment slowed, well before the spike. */
export const STEADY = START + 3 * HOUR

const REQUESTS_PER_SCRAPE = 300

export interface GroupRates {
  errorFraction: number
  latencySeconds: number
  costPerRequest: number
  satisfaction: number
  accuracy: number
}

/** What each group is doing in the interval ending at `t`. */
export function behaviour(group: Group, t: number): GroupRates {
  const spiking = t > SPIKE_START
  if (group === 'control') {
    return {
      errorFraction: spiking ? 0.03 : 0.004,
      latencySeconds: 0.8,
      costPerRequest: 0.002,
      satisfaction: 0.97,
      accuracy: 0.91
    }
  }
  return {
    errorFraction: spiking ? 0.05 : 0.006,
    latencySeconds: t > TREATMENT_SLOWER_AT ? 0.84 : 0.8,
    costPerRequest: 0.0014,
    satisfaction: 0.985,
    accuracy: 0.94
  }
}

// Cumulative share of requests at or under each latency bucket's upper bound.
const BUCKETS: Array<[string, number]> = [
  ['0.25', 0.1],
  ['0.5', 0.3],
  ['1.0', 0.7],
  ['2.5', 0.95],
  ['5.0', 0.99],
  ['10.0', 1],
  ['+Inf', 1]
]

export interface Sample {
  t: number
  requests: number
  errors: number
  latencySum: number
  cost: number
  satisfaction: number
  accuracy: number
}

const memo = new Map<Group, Sample[]>()

/** Every sample of a group, oldest first: counters are running totals from a large start. */
export function samples(group: Group): Sample[] {
  const known = memo.get(group)
  if (known) return known
  const out: Sample[] = []
  let requests = 1_000_000
  let errors = 5_000
  let latencySum = 800_000
  let cost = 2_000
  for (let t = START + OFFSET_S; t <= END; t += SCRAPE_S) {
    const now = behaviour(group, t)
    requests += REQUESTS_PER_SCRAPE
    errors += REQUESTS_PER_SCRAPE * now.errorFraction
    latencySum += REQUESTS_PER_SCRAPE * now.latencySeconds
    cost += REQUESTS_PER_SCRAPE * now.costPerRequest
    out.push({
      t,
      requests,
      errors,
      latencySum,
      cost,
      satisfaction: now.satisfaction,
      accuracy: now.accuracy
    })
  }
  memo.set(group, out)
  return out
}

export interface ScenarioOptions {
  /** Features whose traffic is this scenario, each with series of its own (default: FEATURE). */
  features?: string[]
  /** Write the latency histogram's buckets (default true; the queries here read only _sum and _count). */
  buckets?: boolean
}

/** The scenario as an OpenMetrics exposition with timestamps, for promtool. */
export function openMetrics({
  features = [FEATURE],
  buckets = true
}: ScenarioOptions = {}): string {
  const lines: string[] = []
  const bySeries = features.flatMap(feature =>
    GROUPS.map(group => ({
      labels: `feature="${feature}",group="${group}"`,
      samples: samples(group)
    }))
  )
  const labels = (series: string, extra = '') => `{${series}${extra ? `,${extra}` : ''}}`
  const family = (name: string, type: string, write: (series: string, s: Sample) => string[]) => {
    lines.push(`# TYPE ${name} ${type}`)
    for (const { labels, samples } of bySeries)
      for (const s of samples) lines.push(...write(labels, s))
  }
  family('app_requests', 'counter', (g, s) => [
    `app_requests_total${labels(g)} ${s.requests} ${s.t}`
  ])
  family('app_request_errors', 'counter', (g, s) => [
    `app_request_errors_total${labels(g)} ${s.errors} ${s.t}`
  ])
  family('app_cost_dollars', 'counter', (g, s) => [
    `app_cost_dollars_total${labels(g)} ${s.cost} ${s.t}`
  ])
  family('app_request_duration_seconds', 'histogram', (g, s) => [
    ...(buckets ? BUCKETS : []).map(
      ([le, share]) =>
        `app_request_duration_seconds_bucket${labels(g, `le="${le}"`)} ${Math.round(s.requests * share)} ${s.t}`
    ),
    `app_request_duration_seconds_count${labels(g)} ${s.requests} ${s.t}`,
    `app_request_duration_seconds_sum${labels(g)} ${s.latencySum} ${s.t}`
  ])
  family('app_user_satisfaction', 'gauge', (g, s) => [
    `app_user_satisfaction${labels(g)} ${s.satisfaction} ${s.t}`
  ])
  family('app_accuracy_ratio', 'gauge', (g, s) => [
    `app_accuracy_ratio${labels(g)} ${s.accuracy} ${s.t}`
  ])
  family('app_up', 'gauge', (g, s) => [`app_up${labels(g)} 1 ${s.t}`])
  lines.push('# EOF')
  return lines.join('\n') + '\n'
}

// Expected readings. Prometheus's rate() extrapolates each series' increase over the window by a
// factor that depends only on the sample times and the window; every series here is sampled at the
// same times, so a ratio of rates equals the ratio of raw increases between the first and last
// samples inside the window, which is what these functions compute.

type Counter = 'requests' | 'errors' | 'latencySum' | 'cost'

function increase(group: Group, counter: Counter, t: number, windowS: number): number {
  const inside = samples(group).filter(s => s.t >= t - windowS && s.t <= t)
  if (inside.length < 2) throw new Error(`fewer than two samples in the window ending ${t}`)
  return inside[inside.length - 1]![counter] - inside[0]![counter]
}

function ratio(groups: readonly Group[], top: Counter, bottom: Counter, t: number, w: number) {
  const sum = (c: Counter) => groups.reduce((acc, g) => acc + increase(g, c, t, w), 0)
  return sum(top) / sum(bottom)
}

const scope = (group?: Group) => (group ? [group] : GROUPS)

export const expected = {
  errorRate: (t: number, windowS: number, group?: Group) =>
    ratio(scope(group), 'errors', 'requests', t, windowS),
  responseTimeMs: (t: number, windowS: number, group?: Group) =>
    1000 * ratio(scope(group), 'latencySum', 'requests', t, windowS),
  costPerRequest: (t: number, windowS: number, group?: Group) =>
    ratio(scope(group), 'cost', 'requests', t, windowS),
  userSatisfaction: (t: number, group?: Group) =>
    mean(scope(group).map(g => behaviour(g, t).satisfaction)),
  accuracy: (t: number, group?: Group) => mean(scope(group).map(g => behaviour(g, t).accuracy)),
  /** Requests served in a window: every group serves at a constant rate. */
  requests: (windowS: number, group?: Group) =>
    (scope(group).length * REQUESTS_PER_SCRAPE * windowS) / SCRAPE_S
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length
}
