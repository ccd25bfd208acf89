import { findReading, heldFor, usableValue } from './readings.js'
import { withUnit } from './units.js'
import type { Alert, AlertRule, MetricReading, Severity } from './types.js'

// Severity follows the seed's four levels from how far past the thresholds a value is, in the
// metric's direction (metricSpec: declared or known, never read from the thresholds' order; the
// loader refuses thresholds written in the wrong order for it):
//   low       past warning, less than half way to critical
//   medium    at least half way from warning to critical
//   high      past critical
//   critical  past critical by at least the warning-to-critical gap again
// Only high and critical let a metric trigger roll back (the seed's should_trigger_rollback?).

export function severityOf(
  rule: Pick<AlertRule, 'warning' | 'critical' | 'direction'>,
  value: number
): Severity | undefined {
  const sign = rule.direction === 'higher_is_worse' ? 1 : -1
  const past = (limit: number) => sign * (value - limit) >= 0
  const gap = Math.abs(rule.critical - rule.warning)
  if (past(rule.critical + sign * gap)) return 'critical'
  if (past(rule.critical)) return 'high'
  if (past(rule.warning + (sign * gap) / 2)) return 'medium'
  if (past(rule.warning)) return 'low'
  return undefined
}

export const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3, critical: 4 }

/**
 * The metrics of `rules` with no usable reading in `readings` (absent, no data, a reading that
 * cannot be true): whether their alert holds is unknown, which is never a recovery.
 */
export function unreadAlertMetrics(rules: AlertRule[], readings: MetricReading[]): string[] {
  return rules
    .filter(rule => !('value' in usableValue(findReading(readings, rule.metric), rule.metric)))
    .map(rule => rule.metric)
}

export function evaluateAlerts(rules: AlertRule[], readings: MetricReading[], now: Date): Alert[] {
  const alerts: Alert[] = []
  for (const rule of rules) {
    const reading = findReading(readings, rule.metric)
    const usable = usableValue(reading, rule.metric)
    if (!('value' in usable)) continue
    const severity = severityOf(rule, usable.value)
    if (!severity) continue
    if (
      rule.forMs > 0 &&
      !heldFor(reading!, rule.forMs, now, v => severityOf(rule, v) !== undefined, 'breach').held
    )
      continue
    const direction = rule.direction === 'higher_is_worse' ? 'above' : 'below'
    alerts.push({
      metric: rule.metric,
      value: usable.value,
      severity,
      warning: rule.warning,
      critical: rule.critical,
      ...(rule.unit ? { unit: rule.unit } : {}),
      message: `${rule.metric} is ${withUnit(usable.value, rule.unit)}, ${direction} its ${SEVERITY_RANK[severity] >= 3 ? `critical threshold ${withUnit(rule.critical, rule.unit)}` : `warning threshold ${withUnit(rule.warning, rule.unit)}`} (${severity})`
    })
  }
  return alerts
}
