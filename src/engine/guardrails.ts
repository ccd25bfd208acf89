import {
  chiSquareGoodnessOfFit,
  compareGroups,
  MINIMUM_EXPECTED_COUNT,
  sequentialComparison,
  smallestExpectedCount,
  type GroupStatistic,
  type Interval
} from '../stats/tests.js'
import { findReading, usableValue } from './readings.js'
import type {
  Alert,
  Evidence,
  GateOutcome,
  GateResult,
  GuardrailRule,
  MetricReading,
  TriggerResult,
  TriggerStatus
} from './types.js'

/**
 * A guardrail: treatment against control on one metric, judged by the always-valid (sequential)
 * interval of the relative difference treatment / control − 1, so a scheduled workflow may look
 * at it every few minutes.
 */
export interface Guardrail {
  metric: string
  /** Which way of moving makes the treatment worse (error rates and latencies: increase). */
  worse: 'increase' | 'decrease'
  /** The largest tolerated relative harm: 0.05 lets the treatment be up to 5% worse. */
  margin: number
  /** Two-sided error rate of the confidence sequence (default 0.05). */
  alpha?: number
  /** N* of the confidence sequence: the combined n (both groups) where it is tightest. */
  tuning: number
}

/** What a guardrail compares: each group's statistic since the phase was entered, and its users. */
export interface GuardrailData {
  control: GroupStatistic
  treatment: GroupStatistic
  /** Users (exposures) per group and the share of users each should have (for the SRM check). */
  users: { control: number; treatment: number }
  expectedShare: { control: number; treatment: number }
}

export interface GuardrailEvidence {
  metric: string
  /** treatment / control − 1 */
  estimate: number
  /** The always-valid 1 − α interval of `estimate`. */
  interval: Interval
  /** The always-valid p-value of "no difference". */
  pValue: number
  n: { control: number; treatment: number }
}

/**
 * The guardrail as a gate and as a trigger:
 * - gate `pass`: the interval's worse end is within the margin (not worse by more than it);
 *   `fail` when the trigger fires; `pending` otherwise (not enough evidence either way).
 * - `fired` (roll back): the interval's better end is beyond the margin: worse than the margin
 *   with confidence 1 − α.
 * A sample ratio mismatch holds (gate pending, `sampleRatioMismatch` for an alert) and never
 * fires by itself: the comparison cannot be trusted, in either direction.
 */
export interface GuardrailAssessment {
  gate: GateOutcome
  fired: boolean
  sampleRatioMismatch: boolean
  reason: string
  /** Absent when there is too little data to compare. */
  evidence?: GuardrailEvidence
}

/** p below which the exposure split is a sample ratio mismatch (as in the experiment analysis). */
const SRM_THRESHOLD = 0.001
const SRM_MINIMUM_EXPECTED = 5

/** Pure: judges one guardrail on data accumulated since the phase began. */
export function assessGuardrail(guardrail: Guardrail, data: GuardrailData): GuardrailAssessment {
  const alpha = guardrail.alpha ?? 0.05
  const { control, treatment } = data
  const total = data.users.control + data.users.treatment
  const expected = [data.expectedShare.control * total, data.expectedShare.treatment * total]
  if (expected.every(e => e >= SRM_MINIMUM_EXPECTED)) {
    const fit = chiSquareGoodnessOfFit(
      [data.users.control, data.users.treatment],
      [data.expectedShare.control, data.expectedShare.treatment]
    )
    if (fit.pValue < SRM_THRESHOLD) {
      return {
        gate: 'pending',
        fired: false,
        sampleRatioMismatch: true,
        reason: `${guardrail.metric}: sample ratio mismatch (control ${data.users.control}, treatment ${data.users.treatment} users; p = ${fit.pValue.toPrecision(3)}): holding, the comparison cannot be trusted`
      }
    }
  }
  const tooLittle =
    control.count < 2 ||
    treatment.count < 2 ||
    (control.kind === 'rate' &&
      treatment.kind === 'rate' &&
      smallestExpectedCount(control, treatment) < MINIMUM_EXPECTED_COUNT)
  if (tooLittle) {
    return {
      gate: 'pending',
      fired: false,
      sampleRatioMismatch: false,
      reason: `${guardrail.metric}: too little data to compare treatment with control yet`
    }
  }
  const fixed = compareGroups(control, treatment, alpha)
  const sequential = sequentialComparison(
    fixed,
    control.count + treatment.count,
    guardrail.tuning,
    alpha
  )
  const [low, high] = sequential.relativeInterval
  // Harm: how much worse the treatment is, as a relative change in the worse direction.
  const [leastHarm, mostHarm] = guardrail.worse === 'increase' ? [low, high] : [-high, -low]
  const evidence: GuardrailEvidence = {
    metric: guardrail.metric,
    estimate: fixed.relativeDifference,
    interval: sequential.relativeInterval,
    pValue: sequential.pValue,
    n: { control: control.count, treatment: treatment.count }
  }
  const shown = `${signed(fixed.relativeDifference)} [${signed(low)}, ${signed(high)}] vs control (p = ${sequential.pValue.toPrecision(3)}; n control ${control.count}, treatment ${treatment.count}), margin ${pct(guardrail.margin)} ${guardrail.worse === 'increase' ? 'higher' : 'lower'}`
  if (!Number.isFinite(leastHarm) || !Number.isFinite(mostHarm)) {
    return {
      gate: 'pending',
      fired: false,
      sampleRatioMismatch: false,
      reason: `${guardrail.metric}: no relative difference (control is 0)`,
      evidence
    }
  }
  if (leastHarm > guardrail.margin) {
    return {
      gate: 'fail',
      fired: true,
      sampleRatioMismatch: false,
      reason: `${guardrail.metric}: treatment worse beyond the margin: ${shown}`,
      evidence
    }
  }
  return {
    gate: mostHarm <= guardrail.margin ? 'pass' : 'pending',
    fired: false,
    sampleRatioMismatch: false,
    reason:
      mostHarm <= guardrail.margin
        ? `${guardrail.metric}: not worse than the margin: ${shown}`
        : `${guardrail.metric}: not yet shown within the margin: ${shown}`,
    evidence
  }
}

/**
 * The rollout's own exposure as the experiment: users inside the phase's user_percentage are
 * the treatment, the rest control. At 0% or 100% there is no control (or no treatment), so
 * there is nothing to compare: null.
 */
export function exposureShares(
  userPercentage: number
): { control: number; treatment: number } | null {
  if (!(userPercentage > 0 && userPercentage < 100)) return null
  return { control: 1 - userPercentage / 100, treatment: userPercentage / 100 }
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`
}

/** The groups guardrail readings are labelled with: inside the phase's percentage, and the rest. */
export const GUARDRAIL_GROUPS = ['control', 'treatment'] as const

/** The companion metric that carries a mean metric's per-observation standard deviation. */
export function guardrailStddevMetric(metric: string): string {
  return `${metric}_stddev`
}

/** What the policy's guardrails add to a decision. */
export interface GuardrailResults {
  /** One gate per guardrail that may hold the advance (not `observe`); none at 0% or 100%. */
  gates: GateResult[]
  /** One row per guardrail, always: reports list every guardrail with its numbers. */
  triggers: TriggerResult[]
  /** A sample ratio mismatch raises an alert (and holds); it never rolls back. */
  alerts: Alert[]
}

/**
 * Pure: every guardrail of the policy on `readings` (per group, accumulated since the phase was
 * entered) at the phase's exposure `userPercentage`. A fired guardrail is a fired trigger carrying
 * its on_fire, read as a trigger's is (decide()): rollback rolls back, pause pauses the rollout (a
 * pause transition), observe is only reported. Missing data is pending and "no data", never a pass.
 */
export function evaluateGuardrails(
  rules: GuardrailRule[],
  readings: MetricReading[],
  userPercentage: number
): GuardrailResults {
  const out: GuardrailResults = { gates: [], triggers: [], alerts: [] }
  const shares = exposureShares(userPercentage)
  for (const rule of rules) {
    const name = guardrailName(rule)
    const row = (status: TriggerStatus, reason: string, evidence: Evidence[]): TriggerResult => ({
      trigger: name,
      status,
      fired: status === 'fired',
      onFire: rule.onFire,
      reason,
      evidence
    })
    if (!shares) {
      out.triggers.push(
        row(
          'no_data',
          `not compared at ${userPercentage}% exposure: there is no ${userPercentage > 0 ? 'control' : 'treatment'} group`,
          []
        )
      )
      continue
    }
    const control = groupStatistic(readings, rule, 'control')
    const treatment = groupStatistic(readings, rule, 'treatment')
    if ('reason' in control || 'reason' in treatment) {
      const why = 'reason' in control ? control.reason : (treatment as { reason: string }).reason
      const reason = why.startsWith('no ') ? why : `no data: ${why}`
      out.triggers.push(
        row('no_data', reason, [
          { gate: name, metric: rule.metric, value: null, result: 'no_data' }
        ])
      )
      if (rule.onFire !== 'observe')
        out.gates.push({ gate: name, type: 'guardrail', outcome: 'pending', reason, evidence: [] })
      continue
    }
    const assessment = assessGuardrail(rule, {
      control: control.statistic,
      treatment: treatment.statistic,
      users: { control: control.statistic.count, treatment: treatment.statistic.count },
      expectedShare: shares
    })
    const fired = assessment.fired
    const status: TriggerStatus = fired ? 'fired' : assessment.evidence ? 'ok' : 'no_data'
    const evidence = (result: Evidence['result']): Evidence[] =>
      assessment.evidence ? [guardrailEvidence(name, rule, assessment.evidence, result)] : []
    const reason = assessment.reason
    out.triggers.push(row(status, reason, evidence(status)))
    if (rule.onFire !== 'observe')
      out.gates.push({
        gate: name,
        type: 'guardrail',
        outcome: assessment.gate,
        reason,
        evidence: evidence(assessment.gate)
      })
    // One alert for the split, however many guardrails see it: it is one fact about exposure.
    if (assessment.sampleRatioMismatch && out.alerts.length === 0)
      out.alerts.push({
        metric: 'sample_ratio_mismatch',
        value: control.statistic.count + treatment.statistic.count,
        severity: 'high',
        warning: 0,
        critical: 0,
        message: assessment.reason
      })
  }
  return out
}

/** How reports and trailers name a guardrail. */
export function guardrailName(rule: GuardrailRule): string {
  return `guardrail: ${rule.metric} (margin ${pct(rule.margin)})`
}

function guardrailEvidence(
  name: string,
  rule: GuardrailRule,
  e: GuardrailEvidence,
  result: Evidence['result']
): Evidence {
  return {
    gate: name,
    metric: rule.metric,
    value: round(e.estimate),
    threshold: `${rule.worse === 'increase' ? '<=' : '>='} ${rule.worse === 'increase' ? '+' : '-'}${round(rule.margin)} vs control (alpha ${rule.alpha})`,
    result,
    interval: [round(e.interval[0]), round(e.interval[1])],
    pValue: Number(e.pValue.toPrecision(4)),
    n: e.n
  }
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x
}

/**
 * One group's statistic from its reading: a mean when the source also gives `<metric>_stddev`
 * (or the metric is declared a mean or count), a rate (a share in [0, 1]) otherwise; `samples`
 * is its number of observations. Anything else is a reason, never a number.
 */
function groupStatistic(
  readings: MetricReading[],
  rule: GuardrailRule,
  group: string
): { statistic: GroupStatistic } | { reason: string } {
  const label = `${rule.metric} for group ${group}`
  const reading = findReading(readings, rule.metric, group)
  const usable = usableValue(reading, label)
  if (!('value' in usable)) return usable
  const count = reading!.samples
  if (count === undefined || count === 0)
    return { reason: `${label} has no sample count (how many observations it rests on)` }
  const stddev =
    rule.kind === 'rate'
      ? undefined
      : findReading(readings, guardrailStddevMetric(rule.metric), group)?.value
  if (stddev != null && Number.isFinite(stddev) && stddev >= 0) {
    const sum = usable.value * count
    const squaredDeviations = stddev * stddev * (count - 1)
    return {
      statistic: {
        kind: 'mean',
        count,
        sum,
        sumSquares: squaredDeviations + (sum * sum) / count,
        squaredDeviations
      }
    }
  }
  if (rule.kind === 'mean' || rule.kind === 'count')
    return {
      reason: `${rule.metric} is declared a ${rule.kind}, and there is no ${guardrailStddevMetric(rule.metric)} for group ${group}`
    }
  if (usable.value < 0 || usable.value > 1)
    return {
      reason: `${label} is ${usable.value}, not a rate, and there is no ${guardrailStddevMetric(rule.metric)}`
    }
  return { statistic: { kind: 'rate', count, successes: Math.round(usable.value * count) } }
}
