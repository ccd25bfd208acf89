import type { Experiment } from '../engine/types.js'
import {
  impossibility,
  rangeOfName,
  screenReadings,
  type PossibleRange
} from '../engine/plausible.js'
import { findReading } from '../engine/readings.js'
import { PhasegateError } from '../errors.js'
import type { MetricsProvider, ReadContext } from '../metrics/provider.js'
import type { GroupStatistic } from '../stats/tests.js'
import type { ExperimentData } from './results.js'

/** The companion metric that carries a mean metric's per-user standard deviation. */
export function stddevMetric(metric: string): string {
  return `${metric}_stddev`
}

const STDDEV: PossibleRange = { of: 'a standard deviation', min: 0 }

/**
 * Per-group statistics from the policy's metrics provider, one query per group and metric, so the
 * cost does not depend on traffic. A reading's `value` is the group's rate or mean and `samples`
 * its number of users. A metric is a mean when the provider also answers `<metric>_stddev` for
 * the group (the per-user standard deviation), and a rate otherwise, which needs a value in [0, 1];
 * a kind declared in the experiment's metric_kinds decides instead, and a reading that cannot be
 * of that kind is an error. Readings without a value or samples leave the metric out for that
 * group (the analysis then says to keep running).
 */
export async function readGroupStatistics(
  provider: MetricsProvider,
  experiment: Experiment,
  context: ReadContext
): Promise<ExperimentData> {
  const requests = experiment.successMetrics.flatMap(metric =>
    experiment.groups.flatMap(g => [
      { metric, group: g.name },
      { metric: stddevMetric(metric), group: g.name }
    ])
  )
  const read = await provider.read(requests, context)
  // Readings that cannot be true (a rate above 1, a negative duration) leave the group out, as a
  // missing reading does, instead of stopping every feature's run.
  const readings = screenReadings(read, metric =>
    experiment.successMetrics.includes(metric) ? rangeOfName(metric) : STDDEV
  )
  const users: Record<string, number> = {}
  const metrics: Record<string, Record<string, GroupStatistic>> = {}
  for (const metric of experiment.successMetrics) {
    const byGroup: Record<string, GroupStatistic> = {}
    for (const { name } of experiment.groups) {
      const reading = findReading(readings, metric, name)
      const count = reading?.samples
      if (reading?.value == null || count === undefined || count === 0) continue
      users[name] = Math.max(users[name] ?? 0, count)
      const declared = experiment.metricKinds?.[metric]
      const stddevReading = findReading(read, stddevMetric(metric), name)
      // A standard deviation that was answered but cannot be true is no data, not "a rate".
      if (stddevReading?.value != null && impossibility(stddevReading.value, STDDEV)) continue
      const stddev =
        declared === 'rate' ? null : findReading(readings, stddevMetric(metric), name)?.value
      if (declared !== undefined && declared !== 'rate' && stddev == null) {
        throw new PhasegateError(
          `experiment '${experiment.name}': ${metric} is declared a ${declared}, and there is no ${stddevMetric(metric)} for group ${name}`,
          { hint: `add a query for ${stddevMetric(metric)} (the per-user standard deviation)` }
        )
      }
      if (stddev != null) {
        const sum = reading.value * count
        // The deviations come straight from the standard deviation: rebuilding them from a sum
        // of squares would cancel away a mean with a large offset.
        const squaredDeviations = stddev * stddev * (count - 1)
        byGroup[name] = {
          kind: 'mean',
          count,
          sum,
          sumSquares: squaredDeviations + (sum * sum) / count,
          squaredDeviations
        }
      } else if (reading.value >= 0 && reading.value <= 1) {
        byGroup[name] = { kind: 'rate', count, successes: Math.round(reading.value * count) }
      } else {
        throw new PhasegateError(
          `experiment '${experiment.name}': ${metric} for group ${name} is ${reading.value}, not a rate, and there is no ${stddevMetric(metric)}`,
          {
            hint: `add a query for ${stddevMetric(metric)} (the per-user standard deviation) so it can be analysed as a mean`
          }
        )
      }
    }
    metrics[metric] = byGroup
  }
  for (const { name } of experiment.groups) users[name] ??= 0
  return { users, metrics }
}

/**
 * The {{window}} an experiment's queries cover: everything since it started, or its whole
 * configured duration while the start is unknown.
 */
export function experimentWindow(experiment: Experiment, now: Date, startedAt?: string): string {
  const span = startedAt
    ? now.getTime() - Date.parse(startedAt)
    : (experiment.durationMs ?? 30 * 24 * 3_600_000)
  return `${Math.max(1, Math.round(span / 1000))}s`
}
