import {
  chiSquareGoodnessOfFit,
  compareGroups,
  MINIMUM_EXPECTED_COUNT,
  sequentialComparison,
  smallestExpectedCount,
  type GroupStatistic,
  type Interval
} from '../stats/tests.js'
import type { GateOutcome } from './types.js'

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
  const shown = `${signed(fixed.relativeDifference)} [${signed(low)}, ${signed(high)}] vs control, margin ${pct(guardrail.margin)} ${guardrail.worse === 'increase' ? 'higher' : 'lower'}`
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
