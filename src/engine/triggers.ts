import { SEVERITY_RANK, severityOf } from './alerts.js'
import { metricSpec } from './metric-spec.js'
import { withUnit } from './units.js'
import {
  comparedIn,
  findReading,
  heldFor,
  meets,
  olderThan,
  shownThreshold,
  shownValue,
  usableValue
} from './readings.js'
import type {
  Alert,
  MetricReading,
  Observations,
  OnFire,
  Phase,
  Policy,
  Threshold,
  TriggerResult,
  TriggerStatus
} from './types.js'

export interface MetricCheck {
  metric: string
  threshold: Threshold
  forMs: number
  source: string
  /** Where the policy writes the threshold, e.g. rollback.automatic_triggers[0]. */
  from: string
  /** What it does when it fires; a phase's own rollback_threshold always rolls back. */
  onFire: OnFire
}

/**
 * The metric triggers in force in a phase: the policy's automatic_triggers, with the phase's
 * written rollback_threshold (the seed's PhaseConfig) taking the place of the trigger's number
 * for the same metric, plus any rollback_threshold metric the triggers do not name. Only what the
 * policy writes: no built-in value creates or overrides a trigger.
 */
export function metricTriggers(policy: Policy, phase: Phase): MetricCheck[] {
  const checks: MetricCheck[] = []
  // A rollback_threshold is loaded in its metric's unit (src/policy/comparisons.ts).
  const unitOf = (metric: string) => {
    const { unit } = metricSpec(policy, metric)
    return unit ? { unit } : {}
  }
  const phaseFrom = (metric: string) =>
    `deployment.phases.${phase.name}.rollback_threshold.${metric}`
  // The phase's rollback_threshold replaces the threshold of a written trigger that rolls back;
  // an observe-only or pausing trial on the same metric keeps its own threshold, and the phase's
  // own rollback stays a rollback beside it.
  const replaced = new Set<string>()
  policy.triggers.forEach((trigger, i) => {
    if (trigger.kind !== 'metric') return
    const rollsBack = (trigger.onFire ?? 'rollback') === 'rollback'
    const override = rollsBack ? phase.rollbackThreshold[trigger.metric] : undefined
    if (override === undefined) {
      checks.push({
        metric: trigger.metric,
        threshold: trigger.threshold,
        forMs: trigger.forMs,
        source: trigger.source,
        from: `rollback.automatic_triggers[${i}]`,
        onFire: trigger.onFire ?? 'rollback'
      })
      return
    }
    replaced.add(trigger.metric)
    const threshold: Threshold = {
      op: trigger.threshold.op,
      value: override,
      source: `${trigger.threshold.op} ${override}`,
      ...unitOf(trigger.metric)
    }
    checks.push({
      metric: trigger.metric,
      threshold,
      forMs: trigger.forMs,
      source: `${trigger.metric} ${threshold.source} (${phase.name}'s rollback_threshold)`,
      from: `${phaseFrom(trigger.metric)} (in rollback.automatic_triggers[${i}])`,
      onFire: trigger.onFire ?? 'rollback'
    })
  })
  for (const [metric, limit] of Object.entries(phase.rollbackThreshold)) {
    if (replaced.has(metric)) continue
    checks.push({
      metric,
      threshold: { op: '>', value: limit, source: `> ${limit}`, ...unitOf(metric) },
      forMs: 0,
      source: `${metric} > ${limit} (${phase.name}'s rollback_threshold)`,
      from: phaseFrom(metric),
      onFire: 'rollback'
    })
  }
  return checks
}

/** One threshold a decision in this phase compares a metric with, and where it is written. */
export interface ThresholdInForce {
  use: 'gate' | 'trigger' | 'alert'
  /** The gate's name, the trigger as shown in reports, or "alert". */
  name: string
  metric: string
  /** "< 0.01"; for an alert "warning 0.01, critical 0.02 (higher is worse)". */
  threshold: string
  /** The policy path it comes from; every threshold is written somewhere, none is built in. */
  from: string
}

/** Every threshold in force in `phase`: its gates, its triggers and the policy's alerts. */
export function thresholdsInForce(policy: Policy, phase: Phase): ThresholdInForce[] {
  const out: ThresholdInForce[] = []
  phase.gates.forEach((gate, i) => {
    if (gate.type !== 'metrics_threshold') return
    for (const [metric, threshold] of Object.entries(gate.thresholds))
      out.push({
        use: 'gate',
        name: gate.name,
        metric,
        threshold: shownThreshold(threshold),
        from: `${gate.from ?? `deployment.phases.${phase.name}.gates[${i}].thresholds`}.${metric}`
      })
  })
  for (const check of metricTriggers(policy, phase))
    out.push({
      use: 'trigger',
      name: check.source,
      metric: check.metric,
      threshold: shownThreshold(check.threshold),
      from: check.from
    })
  for (const rule of policy.alerts)
    out.push({
      use: 'alert',
      name: 'alert',
      metric: rule.metric,
      threshold: `warning ${withUnit(rule.warning, rule.unit)}, critical ${withUnit(rule.critical, rule.unit)} (${rule.direction === 'higher_is_worse' ? 'higher' : 'lower'} is worse)`,
      from: `monitoring.alerts.${rule.metric}`
    })
  return out
}

/**
 * Every trigger of `phase`, fired or not with the reason. `since` is when the phase was entered:
 * a metric trigger fires only on evidence whose window starts at or after it.
 */
export function evaluateTriggers(
  policy: Policy,
  phase: Phase,
  observations: Observations,
  alerts: Alert[],
  now: Date,
  since?: Date
): TriggerResult[] {
  const stale = (reading: MetricReading, forMs: number) => {
    const why = olderThan(reading, forMs, now, since)
    return (
      why &&
      `${why} ${phase.name} was entered at ${since!.toISOString()}: waiting for a reading taken after it`
    )
  }
  const results: TriggerResult[] = metricTriggers(policy, phase).map(check => ({
    ...metricTrigger(check),
    onFire: check.onFire
  }))
  function metricTrigger(check: MetricCheck): Omit<TriggerResult, 'onFire'> {
    const reading = findReading(observations.readings, check.metric)
    const usable = usableValue(reading, check.metric)
    const evidence = (value: number | null, status: TriggerStatus) => [
      {
        gate: `trigger: ${check.source}`,
        metric: check.metric,
        value,
        threshold: check.threshold.source,
        ...comparedIn(check.threshold),
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
    // As compared: in the metric's unit, "response_time 2 s breaches > 0.5 s".
    const shown = `${check.metric} ${shownValue(value, check.threshold)}`
    const limit = shownThreshold(check.threshold)
    if (!meets(check.threshold, value)) {
      return {
        trigger: check.source,
        status: 'ok',
        fired: false,
        reason: `${shown} is within ${limit}`,
        evidence: evidence(value, 'ok')
      }
    }
    const old = stale(reading!, check.forMs)
    if (old)
      return {
        trigger: check.source,
        fired: false,
        status: 'breached',
        reason: `${shown} breaches ${limit}, but ${old}`,
        evidence: evidence(value, 'breached'),
        waiting: true
      }
    const rule = policy.alerts.find(a => a.metric === check.metric)
    const severity = rule ? severityOf(rule, value) : 'high'
    if (!severity || SEVERITY_RANK[severity] < SEVERITY_RANK.high) {
      return {
        trigger: check.source,
        status: 'breached',
        fired: false,
        reason: `${shown} breaches ${limit} but its alert severity is ${severity ?? 'none'}; rollback needs high or critical`,
        evidence: evidence(value, 'breached')
      }
    }
    const sustained = heldFor(reading!, check.forMs, now, v => meets(check.threshold, v), 'breach')
    if (!sustained.held)
      return {
        trigger: check.source,
        status: 'breached',
        fired: false,
        reason: `${shown} breaches ${limit}, ${sustained.reason}`,
        evidence: evidence(value, 'breached')
      }
    const alert = alerts.find(a => a.metric === check.metric)
    return {
      trigger: check.source,
      status: 'fired',
      fired: true,
      reason: `${shown} breaches ${limit} (${alert?.severity ?? severity})${check.forMs > 0 ? `, ${sustained.reason}` : ''}`,
      evidence: evidence(value, 'fired')
    }
  }
  // A system failure always rolls back: no policy can soften it (the schema refuses on_fire).
  for (const trigger of policy.triggers) {
    if (trigger.kind === 'system_failure')
      results.push({
        ...systemFailure(observations, policy.rollback.sourceFailureLimit, stale),
        onFire: 'rollback'
      })
  }
  return results
}

function systemFailure(
  observations: Observations,
  limit: number,
  stale: (reading: MetricReading, forMs: number) => string | undefined
): Omit<TriggerResult, 'onFire'> {
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
  if (failures && failures.consecutive > 0) {
    const runs = `${failures.consecutive} consecutive run${failures.consecutive === 1 ? '' : 's'}`
    const fired = failures.consecutive >= limit
    return {
      trigger: 'system_failure',
      status: fired ? 'fired' : 'breached',
      fired,
      reason: `the metrics source could not be read on ${runs}${failures.since ? ` since ${failures.since}` : ''} (limit ${limit}): ${failures.reason}`,
      evidence: evidence(`unreachable x${failures.consecutive}`, fired ? 'fired' : 'breached'),
      ...(fired ? {} : { waiting: true })
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
  const old = usable.value > 0 ? stale(reading!, 0) : undefined
  if (old)
    return {
      trigger: 'system_failure',
      fired: false,
      status: 'breached',
      reason: `system_failure reports the system down (${usable.value}), but ${old}`,
      evidence: evidence(usable.value, 'breached'),
      waiting: true
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
