import { formatSpan } from './time.js'
import type { MetricReading, TrendAlert, TrendRule } from './types.js'

export type { TrendAlert, TrendRule }

// Trend alerts (the seed's check_trend_alerts): compare a metric's mean over the latest window with
// its mean over the window just before, both taken from one range reading, so no state is kept
// between runs. Proposed policy syntax:
//
//   monitoring:
//     trends:
//       error_rate: { window: 10m, increase: 0.5 }          # alert when it rises by 50% or more
//       user_satisfaction: { window: 1h, decrease: 0.02 }   # alert when it falls by 2% or more

// 0.006 over 0.004 is 0.49999999999999994 in floating point; a rise of exactly the rule's share
// must still alert.
const EPSILON = 1e-9

export type TrendOutcome = { alert: TrendAlert } | { alert?: undefined; reason: string }

/** The range a trend rule needs its reading to cover: two windows. */
export function trendRangeMs(rule: TrendRule): number {
  return 2 * rule.windowMs
}

export function evaluateTrend(
  rule: TrendRule,
  reading: MetricReading | undefined,
  now: Date
): TrendOutcome {
  const span = formatSpan(rule.windowMs)
  const series = reading?.series
  if (!series || series.length === 0)
    return { reason: `no range data for ${rule.metric} to compare two ${span} windows` }
  const end = now.getTime() / 1000
  const split = end - rule.windowMs / 1000
  const start = split - rule.windowMs / 1000
  const current = mean(series.filter(([t]) => t > split && t <= end))
  const previous = mean(series.filter(([t]) => t > start && t <= split))
  if (current === undefined || previous === undefined) {
    return {
      reason: `${rule.metric} has no usable samples in the ${current === undefined ? 'latest' : 'previous'} ${span} window`
    }
  }
  const change =
    previous === 0
      ? current === 0
        ? 0
        : Math.sign(current) * Infinity
      : (current - previous) / Math.abs(previous)
  const percent = (x: number) => (Number.isFinite(x) ? `${+(x * 100).toFixed(2)}%` : 'from 0')
  const said = `${rule.metric} averaged ${readable(current)} over the last ${span}, against ${readable(previous)} over the ${span} before`
  if (rule.increase !== undefined && change >= rule.increase - EPSILON) {
    return {
      alert: {
        metric: rule.metric,
        direction: 'increase',
        current,
        previous,
        change,
        message: `${said}: up ${percent(change)} (alerts at +${percent(rule.increase)})`
      }
    }
  }
  if (rule.decrease !== undefined && -change >= rule.decrease - EPSILON) {
    return {
      alert: {
        metric: rule.metric,
        direction: 'decrease',
        current,
        previous,
        change,
        message: `${said}: down ${percent(-change)} (alerts at -${percent(rule.decrease)})`
      }
    }
  }
  return {
    reason: `${said}: ${change >= 0 ? 'up' : 'down'} ${percent(Math.abs(change))}, within bounds`
  }
}

function mean(points: Array<[number, number]>): number | undefined {
  const values = points.map(([, v]) => v).filter(v => Number.isFinite(v))
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined
}

/** Six significant digits: a mean of 0.006s is shown as 0.006, not 0.005999999999999999. */
function readable(x: number): number {
  return Number(x.toPrecision(6))
}
