import { SEVERITY_RANK, severityOf } from './alerts.js'
import { findReading, heldFor, meets, usableValue } from './readings.js'
import type {
  Alert,
  Observations,
  Phase,
  Policy,
  Threshold,
  TriggerResult,
  TriggerStatus
} from './types.js'

interface MetricCheck {
  metric: string
  threshold: Threshold
  forMs: number
  source: string
}

/**
 * The metric triggers in force in a phase: the policy's automatic_triggers, with the phase's
 * rollback_threshold (the seed's PhaseConfig) taking the place of the trigger's number for the same
 * metric, plus any rollback_threshold metric the triggers do not name.
 */
export function metricTriggers(policy: Policy, phase: Phase): MetricCheck[] {
  const checks: MetricCheck[] = []
  for (const trigger of policy.triggers) {
    if (trigger.kind !== 'metric') continue
    const override = phase.rollbackThreshold[trigger.metric]
    const threshold =
      override === undefined
        ? trigger.threshold
        : {
            op: trigger.threshold.op,
            value: override,
            source: `${trigger.threshold.op} ${override}`
          }
    const source =
      override === undefined
        ? trigger.source
        : `${trigger.metric} ${threshold.source} (${phase.name}'s rollback_threshold)`
    checks.push({ metric: trigger.metric, threshold, forMs: trigger.forMs, source })
  }
  for (const [metric, limit] of Object.entries(phase.rollbackThreshold)) {
    if (checks.some(c => c.metric === metric)) continue
    checks.push({
      metric,
      threshold: { op: '>', value: limit, source: `> ${limit}` },
      forMs: 0,
      source: `${metric} > ${limit} (${phase.name}'s rollback_threshold)`
    })
  }
  return checks
}

export function evaluateTriggers(
  policy: Policy,
  phase: Phase,
  observations: Observations,
  alerts: Alert[],
  now: Date
): TriggerResult[] {
  const results: TriggerResult[] = metricTriggers(policy, phase).map(check => {
    const reading = findReading(observations.readings, check.metric)
    const usable = usableValue(reading, check.metric)
    const evidence = (value: number | null, status: TriggerStatus) => [
      {
        gate: `trigger: ${check.source}`,
        metric: check.metric,
        value,
        threshold: check.threshold.source,
        result: status
      }
    ]
    if (!('value' in usable))
      return {
        trigger: check.source,
        status: 'no_data',
        fired: false,
        reason: usable.reason,
        evidence: evidence(null, 'no_data')
      }
    const value = usable.value
    if (!meets(check.threshold, value)) {
      return {
        trigger: check.source,
        status: 'ok',
        fired: false,
        reason: `${check.metric} ${value} is within ${check.threshold.source}`,
        evidence: evidence(value, 'ok')
      }
    }
    const rule = policy.alerts.find(a => a.metric === check.metric)
    const severity = rule ? severityOf(rule, value) : 'high'
    if (!severity || SEVERITY_RANK[severity] < SEVERITY_RANK.high) {
      return {
        trigger: check.source,
        status: 'breached',
        fired: false,
        reason: `${check.metric} ${value} breaches ${check.threshold.source} but its alert severity is ${severity ?? 'none'}; rollback needs high or critical`,
        evidence: evidence(value, 'breached')
      }
    }
    const sustained = heldFor(reading!, check.forMs, now, v => meets(check.threshold, v))
    if (!sustained.held)
      return {
        trigger: check.source,
        status: 'breached',
        fired: false,
        reason: `${check.metric} ${value} breaches ${check.threshold.source}, ${sustained.reason}`,
        evidence: evidence(value, 'breached')
      }
    const alert = alerts.find(a => a.metric === check.metric)
    return {
      trigger: check.source,
      status: 'fired',
      fired: true,
      reason: `${check.metric} ${value} breaches ${check.threshold.source} (${alert?.severity ?? severity})${check.forMs > 0 ? `, ${sustained.reason}` : ''}`,
      evidence: evidence(value, 'fired')
    }
  })
  for (const trigger of policy.triggers) {
    if (trigger.kind === 'system_failure')
      results.push(systemFailure(observations, policy.rollback.sourceFailureLimit))
  }
  return results
}

function systemFailure(observations: Observations, limit: number): TriggerResult {
  const evidence = (value: number | string | null, status: TriggerStatus) => [
    {
      gate: 'trigger: system_failure',
      metric: 'system_failure',
      value,
      threshold: '> 0',
      result: status
    }
  ]
  const failures = observations.sourceFailures
  if (failures && failures.consecutive >= limit) {
    return {
      trigger: 'system_failure',
      status: 'fired',
      fired: true,
      reason: `the metrics source failed ${failures.consecutive} consecutive times (limit ${limit}): ${failures.reason}`,
      evidence: evidence(`unreachable x${failures.consecutive}`, 'fired')
    }
  }
  const reading = findReading(observations.readings, 'system_failure')
  const usable = usableValue(reading, 'system_failure')
  if (!('value' in usable))
    return {
      trigger: 'system_failure',
      status: 'no_data',
      fired: false,
      reason: usable.reason,
      evidence: evidence(null, 'no_data')
    }
  const fired = usable.value > 0
  return {
    trigger: 'system_failure',
    status: fired ? 'fired' : 'ok',
    fired,
    reason: fired
      ? `system_failure reports the system down (${usable.value})`
      : 'system_failure reports the system up',
    evidence: evidence(usable.value, fired ? 'fired' : 'ok')
  }
}
