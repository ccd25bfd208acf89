import { metricSpec } from './metric-spec.js'
import type { MetricKind, MetricReading, Policy } from './types.js'

// Readings that cannot be true are "no data" for that metric alone, with the reason: a rate of
// -0.5 must not pass "< 0.01" and a NaN must not stop the rest of the tick. What is impossible
// depends on what the metric measures; until a policy declares it, the metric's name says it.

/** The values a reading of a metric can take; `of` names the metric's kind for messages. */
export interface PossibleRange {
  of: string
  min?: number
  max?: number
}

const RATE: PossibleRange = { of: 'a rate', min: 0, max: 1 }
const COUNT: PossibleRange = { of: 'a count', min: 0 }
const DURATION: PossibleRange = { of: 'a duration', min: 0 }

/** The range a declared kind allows: a mean may be any finite number. */
export function rangeOfKind(kind: MetricKind): PossibleRange | undefined {
  return kind === 'rate' ? RATE : kind === 'count' ? COUNT : undefined
}

/**
 * The range a metric's name implies, or undefined when the name says nothing:
 * `*_rate` / `*_ratio` are rates in [0, 1]; `*_count` / `*_total` are counts (at least 0);
 * latencies and durations (`*_time`, `*latency*`, `*duration*`, `*_ms`, `*_seconds`) are at
 * least 0.
 */
export function knownRange(metric: string): PossibleRange | undefined {
  const name = metric.toLowerCase()
  if (/(^|_)(rate|ratio)$/.test(name)) return RATE
  if (/(^|_)(count|total)$/.test(name)) return COUNT
  if (/(^|_)time$|latency|duration|(^|_)(ms|seconds)$/.test(name)) return DURATION
  return undefined
}

/**
 * Why `value` cannot be a reading of a metric with `range`, or undefined when it can be.
 * Non-finite values are never possible, whatever the metric.
 */
export function impossibility(value: number, range: PossibleRange | undefined): string | undefined {
  if (Number.isNaN(value)) return 'the value is NaN'
  if (!Number.isFinite(value)) return `the value is ${value > 0 ? '+Inf' : '-Inf'}`
  if (range?.min !== undefined && value < range.min)
    return `${value} is below ${range.min}, which ${range.of} cannot be`
  if (range?.max !== undefined && value > range.max)
    return `${value} is above ${range.max}, which ${range.of} cannot be`
  return undefined
}

/**
 * The reading with an impossible value (or sample count) turned into "no data" with the reason,
 * and impossible points of its range data turned into NaN (a gap, never a breach) and listed in
 * `discarded` with the value as written and why. A reading that may be true comes back as it was.
 */
export function screenReading(
  reading: MetricReading,
  range: PossibleRange | undefined
): MetricReading {
  const badPoint = (v: number) => impossibility(v, range) !== undefined
  const known = new Set((reading.discarded ?? []).map(d => d.at))
  const discarded = [
    ...(reading.discarded ?? []),
    ...(reading.series ?? [])
      .filter(([t, v]) => badPoint(v) && !known.has(t))
      .map(([t, v]) => ({ at: t, written: String(v), why: impossibility(v, range)! }))
  ].sort((a, b) => a.at - b.at)
  const screened: MetricReading = reading.series?.some(([, v]) => badPoint(v))
    ? {
        ...reading,
        series: reading.series.map(([t, v]) => [t, badPoint(v) ? NaN : v] as [number, number]),
        discarded
      }
    : reading
  if (reading.value === null) return screened
  const why =
    impossibility(reading.value, range) ??
    (reading.samples !== undefined && !(reading.samples >= 0 && Number.isFinite(reading.samples))
      ? `its sample count ${reading.samples} is impossible`
      : undefined)
  if (why === undefined) return screened
  const rest = { ...screened }
  delete rest.samples
  return { ...rest, value: null, reason: `impossible reading: ${why}` }
}

/**
 * The range a policy's metric may take, from the one declaration of what it is (metricSpec: its
 * kind in metrics.definitions, else the kind its known name carries, so `error_rate_5xx` is a
 * rate), and only then from the name's ending.
 */
export function rangeOfMetric(
  policy: Pick<Policy, 'metricDefinitions'>,
  metric: string
): PossibleRange | undefined {
  const kind = metricSpec(policy, metric).kind
  return kind ? rangeOfKind(kind) : knownRange(metric)
}

/** The same for a metric no policy declares: its known name's kind, else its ending. */
export function rangeOfName(metric: string): PossibleRange | undefined {
  return rangeOfMetric({ metricDefinitions: {} }, metric)
}

/** Every reading screened against the range `rangeOf` gives its metric (by default, its name's). */
export function screenReadings(
  readings: MetricReading[],
  rangeOf: (metric: string) => PossibleRange | undefined = rangeOfName
): MetricReading[] {
  return readings.map(r => screenReading(r, rangeOf(r.metric)))
}
