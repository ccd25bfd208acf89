import type { MetricDefinition, MetricDirection, MetricKind, Policy } from './types.js'

// Which way is worse is a property of the metric, never of the order its thresholds are written
// in. Known names have defaults; the policy's metrics.definitions declares any metric (and
// overrides a default field by field). Alerts, experiments, guardrails and the validity of
// readings all ask metricSpec().

/** What is known of one metric. Fields are undefined when neither declared nor known. */
export interface MetricSpec {
  metric: string
  direction?: MetricDirection
  kind?: MetricKind
  /** The unit readings are in: declared, else the default of a latency name (knownUnit). */
  unit?: string
  /** Where the direction came from. */
  directionFrom?: 'declared' | 'known name'
  /** Where the unit came from. */
  unitFrom?: 'declared' | 'known name'
}

interface KnownName {
  pattern: RegExp
  direction: MetricDirection
  kind?: MetricKind
}

// Matched against the whole name, in order; the first match wins. Words are matched at "_"
// boundaries so that "error" does not match "terror_index".
const KNOWN: KnownName[] = [
  // What is free of errors or crashes (Sentry's and Crashlytics' crash-free rate) is better higher.
  {
    pattern: /(^|_)(errors?|failures?|crash(es)?)_free_rate($|_)/,
    direction: 'lower_is_worse',
    kind: 'rate'
  },
  { pattern: /(^|_)(errors?|failures?|crash(es)?)_free($|_)/, direction: 'lower_is_worse' },
  { pattern: /(^|_)(error|failure|crash)s?_rate($|_)/, direction: 'higher_is_worse', kind: 'rate' },
  { pattern: /(^|_)(errors?|failures?|crash(es)?)($|_)/, direction: 'higher_is_worse' },
  { pattern: /(^|_)(latency|response_time|duration)($|_)/, direction: 'higher_is_worse' },
  { pattern: /(^|_)degradation($|_)/, direction: 'higher_is_worse' },
  { pattern: /(^|_)(cost|costs|churn|bounce)($|_)/, direction: 'higher_is_worse' },
  { pattern: /(^|_)conversion_rate($|_)/, direction: 'lower_is_worse', kind: 'rate' },
  { pattern: /(^|_)conversions?($|_)/, direction: 'lower_is_worse' },
  { pattern: /(^|_)(satisfaction|accuracy)($|_)/, direction: 'lower_is_worse' }
]

/** The defaults a known name carries, or undefined for a name phasegate does not know. */
export function knownMetric(metric: string): Omit<MetricDefinition, 'unit'> | undefined {
  const known = KNOWN.find(k => k.pattern.test(metric.toLowerCase()))
  if (!known) return undefined
  return { direction: known.direction, ...(known.kind ? { kind: known.kind } : {}) }
}

// A name's last word, when it is a unit of time, is the unit its readings are in (Prometheus'
// base-unit naming: http_request_duration_seconds, rpc_latency_us). Checked before the bare
// latency/duration default, so session_duration_minutes is in min, never in ms.
const UNIT_SUFFIXES: Array<[RegExp, string]> = [
  [/(^|_)(ns|nanos|nanoseconds?)$/, 'ns'],
  [/(^|_)(us|µs|micros|microseconds?)$/, 'us'],
  [/(^|_)(ms|millis|milliseconds?)$/, 'ms'],
  [/(^|_)(secs?|seconds?)$/, 's'],
  // Not _min: latency_min is the least latency, not latency in minutes.
  [/(^|_)(minutes?)$/, 'min'],
  [/(^|_)(hours?)$/, 'h'],
  [/(^|_)(days?)$/, 'd']
]

/**
 * The unit of time a metric's name states by its last word (_ns, _us/_microseconds, _ms,
 * _seconds, _minutes, _hours, _days and their spellings), or undefined when its name states none.
 */
export function nameUnit(metric: string): string | undefined {
  const name = metric.toLowerCase()
  return UNIT_SUFFIXES.find(([suffix]) => suffix.test(name))?.[1]
}

/**
 * The unit a metric's readings are in when the policy declares none, from its name: the unit its
 * last word states (nameUnit: _seconds is in s, _us in us, _minutes in min, ...); any other
 * latency, response time or duration is in ms, as the seed writes them (response_time: 5000ms).
 * Undefined for any other name: a threshold with a unit on it is refused until a unit is declared.
 */
export function knownUnit(metric: string): string | undefined {
  const stated = nameUnit(metric)
  if (stated) return stated
  if (/(^|_)(latency|response_time|duration)($|_)/.test(metric.toLowerCase())) return 'ms'
  return undefined
}

/** What the policy declares of `metric`, over what its name implies. */
export function metricSpec(policy: Pick<Policy, 'metricDefinitions'>, metric: string): MetricSpec {
  return specFrom(policy.metricDefinitions[metric], metric)
}

/** The same from a definition alone (the loader, before a Policy exists). */
export function specFrom(declared: MetricDefinition | undefined, metric: string): MetricSpec {
  const known = knownMetric(metric)
  const direction = declared?.direction ?? known?.direction
  const kind = declared?.kind ?? known?.kind
  const unit = declared?.unit ?? knownUnit(metric)
  return {
    metric,
    ...(direction ? { direction } : {}),
    ...(kind ? { kind } : {}),
    ...(unit ? { unit, unitFrom: declared?.unit ? 'declared' : 'known name' } : {}),
    ...(direction ? { directionFrom: declared?.direction ? 'declared' : 'known name' } : {})
  }
}
