import type { MetricReading, MetricsConfig } from '../engine/types.js'

/** What the engine wants read: one metric, optionally for one experiment group. */
export interface MetricRequest {
  metric: string
  group?: string
  /** Also return range data covering this many ms before `now` (for `for:` windows and trends). */
  rangeMs?: number
}

export interface ReadContext {
  feature: string
  phase: string
  now: Date
  /** Directory relative paths in the policy are resolved against (the repository root). */
  baseDir: string
  /** The evaluation window substituted for {{window}}, e.g. "5m". */
  window: string
  env: Record<string, string | undefined>
}

/**
 * A metrics source. `read` never throws for a metric it could not read: such a metric comes
 * back with `value: null` and a `reason`, so a gate on it is pending, never passing.
 * It throws only for configuration errors (a PhasegateError naming what to fix).
 */
export interface MetricsProvider {
  readonly name: string
  /**
   * Every metric this provider has a query for (or derives), so that the loader can refuse a
   * gate, trigger or alert on a metric nothing can produce. Undefined when the provider cannot
   * know before it reads (the file provider: the snapshot changes between runs).
   */
  readonly metricNames?: ReadonlySet<string>
  read(requests: MetricRequest[], context: ReadContext): Promise<MetricReading[]>
}

export type ProviderFactory = (config: MetricsConfig) => MetricsProvider
