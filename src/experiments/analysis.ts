import { metricSpec, specFrom } from '../engine/metric-spec.js'
import type { Experiment, ExperimentStatus, Policy } from '../engine/types.js'
import {
  chiSquareGoodnessOfFit,
  compareGroups,
  fisherExactTest,
  holmBonferroni,
  mean,
  MINIMUM_EXPECTED_COUNT,
  sequentialComparison,
  smallestExpectedCount,
  type Comparison,
  type GroupStatistic,
  type Interval
} from '../stats/tests.js'
import type { ExperimentData } from './results.js'

export type Verdict =
  'treatment_better' | 'control_better' | 'no_detectable_difference' | 'keep_running' | 'invalid'

/** Which way a metric should move for the treatment to count as better. */
export type Direction = 'increase' | 'decrease'

export interface AnalysisOptions {
  /** Significance level, after Holm–Bonferroni across the success metrics. Default 0.05. */
  alpha?: number
  /** Confidence sequences and always-valid p-values (default true): safe under peeking. */
  sequential?: boolean
  /**
   * N*, the combined sample size of a compared pair (control + one treatment) where the confidence
   * sequence is tightest. Default: 2 × minimum_sample_size (both groups at their minimum), or 5000.
   */
  tuning?: number
  /** When the experiment started (from the state file); with `now`, checks `duration`. */
  startedAt?: Date
  /** The experiment's status in the state file, reported as is. */
  status?: ExperimentStatus
  now?: Date
  /** The policy the experiment is in: its thresholds tell which way each metric should move. */
  policy?: Policy
}

export interface GroupSummary {
  name: string
  weight: number
  users: number
  expectedShare: number
  observedShare: number
}

export interface SampleRatioCheck {
  statistic: number
  pValue: number
  /** Every weighted group expects at least 5 users (Cochran's rule), so the check counts. */
  checked: boolean
  /** checked and p < 0.001 */
  mismatch: boolean
}

/** too_little_data: a rate below the minimum expected counts; it gives no verdict. */
export type Outcome = 'better' | 'worse' | 'no_difference' | 'too_little_data'

export interface MetricComparison {
  treatment: string
  test: Comparison['test']
  /** Neither group varies: tested exactly (see Comparison.noSpread). */
  noSpread: boolean
  difference: number
  relativeDifference: number
  /** Fixed-horizon (one look) two-sided p-value and 1-α interval. */
  fixedHorizon: { pValue: number; interval: Interval; relativeInterval: Interval }
  /** Present when sequential testing is on: what the verdict uses. */
  sequential?: { pValue: number; interval: Interval; relativeInterval: Interval }
  /** The p-value the verdict uses, Holm–Bonferroni adjusted across the success metrics. */
  adjustedPValue: number
  degreesOfFreedom: number | null
  outcome: Outcome
}

export interface MetricAnalysis {
  metric: string
  kind: GroupStatistic['kind'] | null
  direction: Direction
  groups: Array<{ name: string; count: number; mean: number }>
  comparisons: MetricComparison[]
  /** Why there is no comparison, when there is none. */
  missing?: string
}

export interface ExperimentAnalysis {
  experiment: string
  /** From the state file; null before the rollout has one. */
  status: ExperimentStatus | null
  startedAt: string | null
  control: string
  alpha: number
  sequential: boolean
  tuning: number
  groups: GroupSummary[]
  sampleRatio: SampleRatioCheck
  metrics: MetricAnalysis[]
  verdict: Verdict
  reasons: string[]
  /** Doubts about the input that do not stop the analysis (from the results reader, too). */
  warnings: string[]
}

const SRM_THRESHOLD = 0.001
/** Cochran's rule for the chi-square test: every expected count at least 5. */
const SRM_MINIMUM_EXPECTED = 5
const LOWER_IS_BETTER = /(time|latency|duration|cost|error|failure|degradation|churn|bounce)/i

/**
 * Which way a metric should move. What the policy declares of the metric, or what its known name
 * says (metricSpec) decides. For any other metric the policy's thresholds say it: a success
 * criterion "< x" or a rollback trigger "> x" on the metric means lower is better. Otherwise the
 * name: times, costs and errors should fall, anything else rise.
 */
export function metricDirection(metric: string, policy?: Policy): Direction {
  const { direction } = policy ? metricSpec(policy, metric) : specFrom(undefined, metric)
  if (direction) return direction === 'higher_is_worse' ? 'decrease' : 'increase'
  for (const phase of policy?.phases ?? []) {
    const criterion = phase.successCriteria[metric]
    if (criterion) return criterion.op.startsWith('<') ? 'decrease' : 'increase'
  }
  for (const trigger of policy?.triggers ?? []) {
    if (trigger.kind === 'metric' && trigger.metric === metric) {
      return trigger.threshold.op.startsWith('>') ? 'decrease' : 'increase'
    }
  }
  return LOWER_IS_BETTER.test(metric) ? 'decrease' : 'increase'
}

/** The control group: the one named "control", else the first listed. */
export function controlGroup(experiment: Experiment): string {
  const named = experiment.groups.find(g => g.name === 'control')
  return (named ?? experiment.groups[0]!).name
}

export function analyzeExperiment(
  experiment: Experiment,
  data: ExperimentData,
  options: AnalysisOptions = {}
): ExperimentAnalysis {
  const alpha = options.alpha ?? 0.05
  const sequential = options.sequential ?? true
  const tuning =
    options.tuning ?? (experiment.minimumSampleSize > 0 ? 2 * experiment.minimumSampleSize : 5000)
  const control = controlGroup(experiment)
  const treatments = experiment.groups.filter(g => g.name !== control && g.weight > 0)
  const totalWeight = experiment.groups.reduce((sum, g) => sum + g.weight, 0)
  const totalUsers = experiment.groups.reduce((sum, g) => sum + (data.users[g.name] ?? 0), 0)

  const groups: GroupSummary[] = experiment.groups.map(g => ({
    name: g.name,
    weight: g.weight,
    users: data.users[g.name] ?? 0,
    expectedShare: g.weight / totalWeight,
    observedShare: totalUsers > 0 ? (data.users[g.name] ?? 0) / totalUsers : 0
  }))

  const fit = chiSquareGoodnessOfFit(
    groups.map(g => g.users),
    groups.map(g => g.weight)
  )
  const weightedUsers = groups.filter(g => g.weight > 0).reduce((sum, g) => sum + g.users, 0)
  const weighted = groups.filter(g => g.weight > 0).reduce((sum, g) => sum + g.weight, 0)
  const checked =
    weightedUsers > 0 &&
    groups
      .filter(g => g.weight > 0)
      .every(g => (weightedUsers * g.weight) / weighted >= SRM_MINIMUM_EXPECTED)
  const sampleRatio: SampleRatioCheck = {
    statistic: fit.statistic,
    pValue: fit.pValue,
    checked,
    mismatch: checked && fit.pValue < SRM_THRESHOLD
  }

  const metrics: MetricAnalysis[] = experiment.successMetrics.map(metric => {
    const byGroup = data.metrics[metric] ?? {}
    const direction = metricDirection(metric, options.policy)
    const present = experiment.groups.filter(g => byGroup[g.name] !== undefined)
    const summary = present.map(g => {
      const stat = byGroup[g.name]!
      return {
        name: g.name,
        count: stat.count,
        mean: mean(stat)
      }
    })
    const kind = present.length > 0 ? byGroup[present[0]!.name]!.kind : null
    const controlStat = byGroup[control]
    const missingGroup = [control, ...treatments.map(t => t.name)].find(name => {
      const stat = byGroup[name]
      return stat === undefined || stat.count < 2
    })
    if (!controlStat || missingGroup !== undefined) {
      return {
        metric,
        kind,
        direction,
        groups: summary,
        comparisons: [],
        missing: `fewer than 2 observations in group '${missingGroup}'`
      }
    }
    const comparisons = treatments.map(t => {
      const treatmentStat = byGroup[t.name]!
      let fixed = compareGroups(controlStat, treatmentStat, alpha)
      // Too few expected successes or failures for the normal approximation: Fisher's exact
      // test, and no verdict from it (sequentially there is no exact counterpart here).
      const tooLittle =
        controlStat.kind === 'rate' &&
        treatmentStat.kind === 'rate' &&
        !fixed.noSpread &&
        smallestExpectedCount(controlStat, treatmentStat) < MINIMUM_EXPECTED_COUNT
      if (tooLittle) {
        fixed = {
          ...fixed,
          test: 'fisher exact',
          pValue: fisherExactTest(
            controlStat.successes,
            controlStat.count,
            treatmentStat.successes,
            treatmentStat.count
          )
        }
      }
      const n = controlStat.count + treatmentStat.count
      const always =
        sequential && !tooLittle ? sequentialComparison(fixed, n, tuning, alpha) : undefined
      return {
        treatment: t.name,
        test: fixed.test,
        noSpread: fixed.noSpread,
        difference: fixed.difference,
        relativeDifference: fixed.relativeDifference,
        fixedHorizon: {
          pValue: fixed.pValue,
          interval: fixed.interval,
          relativeInterval: fixed.relativeInterval
        },
        sequential: always,
        adjustedPValue: (always ?? fixed).pValue,
        degreesOfFreedom: Number.isFinite(fixed.degreesOfFreedom) ? fixed.degreesOfFreedom : null,
        outcome: (tooLittle ? 'too_little_data' : 'no_difference') as Outcome
      }
    })
    return { metric, kind, direction, groups: summary, comparisons }
  })

  const all = metrics.flatMap(m => m.comparisons.map(c => ({ metric: m, comparison: c })))
  const adjusted = holmBonferroni(all.map(a => a.comparison.adjustedPValue))
  all.forEach(({ metric, comparison }, i) => {
    comparison.adjustedPValue = adjusted[i]!
    if (comparison.outcome !== 'too_little_data' && adjusted[i]! < alpha) {
      const rose = comparison.difference > 0
      comparison.outcome = rose === (metric.direction === 'increase') ? 'better' : 'worse'
    }
  })

  const { verdict, reasons } = decideVerdict(experiment, {
    control,
    groups,
    sampleRatio,
    metrics,
    alpha,
    startedAt: options.startedAt,
    now: options.now
  })
  return {
    experiment: experiment.name,
    status: options.status ?? null,
    startedAt: options.startedAt?.toISOString() ?? null,
    control,
    alpha,
    sequential,
    tuning,
    groups,
    sampleRatio,
    metrics,
    verdict,
    reasons,
    warnings: data.warnings ?? []
  }
}

function decideVerdict(
  experiment: Experiment,
  facts: {
    control: string
    groups: GroupSummary[]
    sampleRatio: SampleRatioCheck
    metrics: MetricAnalysis[]
    alpha: number
    startedAt?: Date
    now?: Date
  }
): { verdict: Verdict; reasons: string[] } {
  const { sampleRatio, groups, metrics } = facts
  if (sampleRatio.mismatch) {
    const split = groups
      .map(g => `${g.name} ${pct(g.observedShare)} (expected ${pct(g.expectedShare)})`)
      .join(', ')
    return {
      verdict: 'invalid',
      reasons: [
        `sample ratio mismatch: ${split}; chi-square p = ${sampleRatio.pValue.toPrecision(3)} < ${SRM_THRESHOLD}`,
        'assignment or logging is broken somewhere; fix it before trusting any metric'
      ]
    }
  }
  const waiting: string[] = []
  if (!sampleRatio.checked) {
    waiting.push(
      `sample ratio not checked: every group needs at least ${SRM_MINIMUM_EXPECTED} expected users (${groups
        .filter(g => g.weight > 0)
        .map(g => `${g.name} has ${g.users}`)
        .join(', ')})`
    )
  }
  const small = groups.filter(g => g.weight > 0 && g.users < experiment.minimumSampleSize)
  if (small.length > 0) {
    waiting.push(
      `below minimum_sample_size ${experiment.minimumSampleSize}: ${small.map(g => `${g.name} has ${g.users}`).join(', ')}`
    )
  }
  if (experiment.durationMs !== null && facts.startedAt && facts.now) {
    const elapsed = facts.now.getTime() - facts.startedAt.getTime()
    if (elapsed < experiment.durationMs) {
      waiting.push(
        `running ${hours(elapsed)} of its ${hours(experiment.durationMs)} duration (started ${facts.startedAt.toISOString()})`
      )
    }
  }
  for (const m of metrics.filter(m => m.missing)) waiting.push(`${m.metric}: ${m.missing}`)
  for (const m of metrics) {
    // A metric that never varies and is the same in both groups says nothing: not "no difference".
    for (const c of m.comparisons.filter(c => c.noSpread && c.difference === 0)) {
      waiting.push(
        `${m.metric}: ${noSpread(m, c, facts.control)}: nothing to compare; check that the metric is recorded`
      )
    }
    for (const c of m.comparisons.filter(c => c.outcome === 'too_little_data')) {
      waiting.push(
        `${m.metric}: too little data for ${c.treatment} vs ${facts.control}: a rate comparison needs at least ${MINIMUM_EXPECTED_COUNT} expected successes and failures in each group; Fisher's exact p = ${c.fixedHorizon.pValue.toPrecision(3)}`
      )
    }
  }
  if (waiting.length > 0) return { verdict: 'keep_running', reasons: waiting }

  const reasons: string[] = []
  for (const m of metrics) {
    for (const c of m.comparisons.filter(c => c.noSpread && c.difference !== 0)) {
      reasons.push(`${m.metric}: ${noSpread(m, c, facts.control)}: tested exactly (Fisher)`)
    }
  }
  if (experiment.durationMs !== null && !facts.startedAt) {
    reasons.push('duration not checked: the state file has no start time for this experiment')
  }
  const better: string[] = []
  const worse: string[] = []
  for (const m of metrics) {
    for (const c of m.comparisons) {
      const line = `${m.metric}: ${c.treatment} ${signed(c.relativeDifference)} vs ${facts.control} (adjusted p = ${c.adjustedPValue.toPrecision(3)})`
      if (c.outcome === 'better') better.push(line)
      if (c.outcome === 'worse') worse.push(line)
    }
  }
  if (worse.length > 0) {
    return {
      verdict: 'control_better',
      reasons: [...reasons, ...worse.map(w => `worse: ${w}`), ...better.map(b => `better: ${b}`)]
    }
  }
  if (better.length > 0) {
    return {
      verdict: 'treatment_better',
      reasons: [...reasons, ...better.map(b => `better: ${b}`)]
    }
  }
  return {
    verdict: 'no_detectable_difference',
    reasons: [
      ...reasons,
      `no success metric differs at α = ${facts.alpha} after Holm–Bonferroni across ${metrics.length} metric(s)`
    ]
  }
}

function noSpread(metric: MetricAnalysis, c: MetricComparison, control: string): string {
  const value = (group: string) => metric.groups.find(g => g.name === group)?.mean
  return `no spread within either group (${control} always ${value(control)}, ${c.treatment} always ${value(c.treatment)})`
}

function pct(share: number): string {
  return `${(share * 100).toFixed(2)}%`
}

function signed(relative: number): string {
  return `${relative >= 0 ? '+' : ''}${(relative * 100).toFixed(2)}%`
}

function hours(ms: number): string {
  return `${(ms / 3_600_000).toFixed(1)}h`
}
