import {
  chiSquareSf,
  logGamma,
  normalQuantileUpper,
  normalSf,
  studentTQuantileUpper,
  studentTSf
} from './special.js'

/** A rate metric for one group: how many users, how many of them succeeded. */
export interface RateStatistic {
  kind: 'rate'
  count: number
  successes: number
}

/** A mean metric for one group: how many observations, their sum and sum of squares. */
export interface MeanStatistic {
  kind: 'mean'
  count: number
  sum: number
  sumSquares: number
  /**
   * Σ(x − mean)², accumulated stably (shifted sums, merged across rows). When present the variance
   * uses it: sumSquares − sum²/count cancels catastrophically when values share a large offset
   * (1e9 + 0..9 leaves nothing of the variance in a double).
   */
  squaredDeviations?: number
}

export type GroupStatistic = RateStatistic | MeanStatistic

export type Interval = [number, number]

/** Treatment against control on one metric. Differences are treatment minus control. */
export interface Comparison {
  test: 'two-proportion z' | 'welch t' | 'fisher exact'
  /**
   * Neither group varies (a constant metric, or rates of exactly 0 or 1): there is no spread to
   * estimate a standard error from, so the p-value is Fisher's exact test of the two values'
   * table (the exact permutation test) and the standard errors use the variance under the null,
   * both groups pooled. Never reported as "no difference" for want of a standard error.
   */
  noSpread: boolean
  controlMean: number
  treatmentMean: number
  difference: number
  /** difference / control mean */
  relativeDifference: number
  /** Standard error of `difference` (unpooled). */
  standardError: number
  /** Standard error of `relativeDifference` by the delta method. */
  relativeStandardError: number
  /** z (pooled standard error) or Welch's t. */
  statistic: number
  /** Welch–Satterthwaite degrees of freedom; Infinity for the z-test. */
  degreesOfFreedom: number
  pValue: number
  interval: Interval
  relativeInterval: Interval
}

export function mean(stat: GroupStatistic): number {
  return stat.kind === 'rate' ? stat.successes / stat.count : stat.sum / stat.count
}

/** Per-observation variance: p(1-p) for a rate, the unbiased sample variance for a mean. */
export function variance(stat: GroupStatistic): number {
  if (stat.kind === 'rate') {
    const p = stat.successes / stat.count
    return p * (1 - p)
  }
  return squaredDeviations(stat) / (stat.count - 1)
}

/** Σ(x − mean)² of a mean metric: the stable accumulation when there is one. */
export function squaredDeviations(stat: MeanStatistic): number {
  if (stat.squaredDeviations !== undefined) return stat.squaredDeviations
  // Rounding can push a constant metric's value a hair below zero.
  return Math.max(0, stat.sumSquares - (stat.sum * stat.sum) / stat.count)
}

/** Delta-method variance of treatmentMean / controlMean - 1, from each mean's variance. */
function relativeVariance(
  controlMean: number,
  controlVariance: number,
  treatmentMean: number,
  treatmentVariance: number
): number {
  const c2 = controlMean * controlMean
  return treatmentVariance / c2 + (controlVariance * treatmentMean * treatmentMean) / (c2 * c2)
}

function around(center: number, halfWidth: number): Interval {
  return [center - halfWidth, center + halfWidth]
}

/**
 * Two-sided two-proportion z-test. The p-value uses the pooled standard error (the null says both
 * rates are equal); the interval for the difference uses the unpooled one (it need not be zero).
 */
export function twoProportionZTest(
  control: RateStatistic,
  treatment: RateStatistic,
  alpha = 0.05
): Comparison {
  const p1 = control.successes / control.count
  const p2 = treatment.successes / treatment.count
  const pooled = (control.successes + treatment.successes) / (control.count + treatment.count)
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / control.count + 1 / treatment.count))
  const v1 = (p1 * (1 - p1)) / control.count
  const v2 = (p2 * (1 - p2)) / treatment.count
  const difference = p2 - p1
  const z = difference / pooledSe
  const standardError = Math.sqrt(v1 + v2)
  const relativeStandardError = Math.sqrt(relativeVariance(p1, v1, p2, v2))
  const critical = normalQuantileUpper(alpha / 2)
  return {
    test: 'two-proportion z',
    noSpread: false,
    controlMean: p1,
    treatmentMean: p2,
    difference,
    relativeDifference: difference / p1,
    standardError,
    relativeStandardError,
    statistic: z,
    degreesOfFreedom: Infinity,
    // Identical all-or-nothing groups have no spread and no evidence of a difference.
    pValue: pooledSe > 0 ? 2 * normalSf(Math.abs(z)) : 1,
    interval: around(difference, critical * standardError),
    relativeInterval: around(difference / p1, critical * relativeStandardError)
  }
}

/** Two-sided Welch's t-test with Welch–Satterthwaite degrees of freedom. */
export function welchTTest(
  control: MeanStatistic,
  treatment: MeanStatistic,
  alpha = 0.05
): Comparison {
  const m1 = mean(control)
  const m2 = mean(treatment)
  const v1 = variance(control) / control.count
  const v2 = variance(treatment) / treatment.count
  const standardError = Math.sqrt(v1 + v2)
  const degreesOfFreedom =
    ((v1 + v2) * (v1 + v2)) / ((v1 * v1) / (control.count - 1) + (v2 * v2) / (treatment.count - 1))
  const difference = m2 - m1
  const t = difference / standardError
  const relativeStandardError = Math.sqrt(relativeVariance(m1, v1, m2, v2))
  const critical = studentTQuantileUpper(alpha / 2, degreesOfFreedom)
  return {
    test: 'welch t',
    noSpread: false,
    controlMean: m1,
    treatmentMean: m2,
    difference,
    relativeDifference: difference / m1,
    standardError,
    relativeStandardError,
    statistic: t,
    degreesOfFreedom,
    pValue: standardError > 0 ? 2 * studentTSf(Math.abs(t), degreesOfFreedom) : 1,
    interval: around(difference, critical * standardError),
    relativeInterval: around(difference / m1, critical * relativeStandardError)
  }
}

/**
 * The fixed-horizon test that fits the metric's kind; when neither group varies, the exact test
 * (see Comparison.noSpread).
 */
export function compareGroups(
  control: GroupStatistic,
  treatment: GroupStatistic,
  alpha = 0.05
): Comparison {
  let comparison: Comparison
  if (control.kind === 'rate' && treatment.kind === 'rate') {
    comparison = twoProportionZTest(control, treatment, alpha)
  } else if (control.kind === 'mean' && treatment.kind === 'mean') {
    comparison = welchTTest(control, treatment, alpha)
  } else {
    throw new Error('compareGroups: control and treatment must be the same kind of statistic')
  }
  return comparison.standardError > 0 ? comparison : noSpreadComparison(control, treatment, alpha)
}

/**
 * Two groups without spread. Each holds one value (a rate's 0 or 1, or a constant mean), so the
 * data are a 2×2 table of value by group and the exact permutation test is Fisher's test of that
 * table. Standard errors come from the variance under the null (both groups pooled), so that
 * intervals and the sequential test have a scale; identical groups pool to 0 and give p = 1.
 */
function noSpreadComparison(
  control: GroupStatistic,
  treatment: GroupStatistic,
  alpha: number
): Comparison {
  const n1 = control.count
  const n2 = treatment.count
  const m1 = mean(control)
  const m2 = mean(treatment)
  const difference = m2 - m1
  // The table: how many users hold the treatment's value in each group.
  const pValue =
    control.kind === 'rate' && treatment.kind === 'rate'
      ? fisherExactTest(control.successes, n1, treatment.successes, n2)
      : difference === 0
        ? 1
        : fisherExactTest(0, n1, n2, n2)
  const pooledVariance =
    control.kind === 'rate' && treatment.kind === 'rate'
      ? variance({
          kind: 'rate',
          count: n1 + n2,
          successes: control.successes + treatment.successes
        })
      : (((n1 * n2) / (n1 + n2)) * difference * difference) / (n1 + n2 - 1)
  const v1 = pooledVariance / n1
  const v2 = pooledVariance / n2
  const standardError = Math.sqrt(v1 + v2)
  const relativeStandardError = Math.sqrt(relativeVariance(m1, v1, m2, v2))
  const critical = normalQuantileUpper(alpha / 2)
  return {
    test: 'fisher exact',
    noSpread: true,
    controlMean: m1,
    treatmentMean: m2,
    difference,
    relativeDifference: difference / m1,
    standardError,
    relativeStandardError,
    statistic: standardError > 0 ? difference / standardError : 0,
    degreesOfFreedom: Infinity,
    pValue,
    interval: around(difference, critical * standardError),
    relativeInterval: around(difference / m1, critical * relativeStandardError)
  }
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1)
}

/**
 * Two-sided Fisher exact test of x1 successes in n1 (control) against x2 in n2 (treatment): the
 * probability, given both margins, of a table no more likely than the observed one (scipy's
 * convention, with its 1e-7 relative tolerance for ties).
 */
export function fisherExactTest(x1: number, n1: number, x2: number, n2: number): number {
  const successes = x1 + x2
  const logTotal = logChoose(n1 + n2, successes)
  const logProbability = (x: number): number =>
    logChoose(n1, x) + logChoose(n2, successes - x) - logTotal
  const observed = logProbability(x1) + Math.log1p(1e-7)
  let p = 0
  for (let x = Math.max(0, successes - n2); x <= Math.min(successes, n1); x++) {
    const logP = logProbability(x)
    if (logP <= observed) p += Math.exp(logP)
  }
  return Math.min(1, p)
}

/** Expected successes and failures under the pooled rate, below which a rate needs Fisher's test. */
export const MINIMUM_EXPECTED_COUNT = 10

/**
 * The smallest expected count of successes or failures in either group under the pooled rate:
 * the normal approximation of the z-test (and of the confidence sequence) needs it at least
 * MINIMUM_EXPECTED_COUNT.
 */
export function smallestExpectedCount(control: RateStatistic, treatment: RateStatistic): number {
  const pooled = (control.successes + treatment.successes) / (control.count + treatment.count)
  const smallest = Math.min(control.count, treatment.count)
  return smallest * Math.min(pooled, 1 - pooled)
}

export interface GoodnessOfFit {
  statistic: number
  degreesOfFreedom: number
  pValue: number
}

/**
 * Pearson's chi-square goodness of fit of group counts against configured weights. Groups with
 * zero weight are left out (as GrowthBook does); fewer than two weighted groups, or no users at
 * all, leave nothing to test and give p = 1.
 */
export function chiSquareGoodnessOfFit(counts: number[], weights: number[]): GoodnessOfFit {
  const kept: Array<{ count: number; weight: number }> = []
  counts.forEach((count, i) => {
    const weight = weights[i] ?? 0
    if (weight > 0) kept.push({ count, weight })
  })
  const total = kept.reduce((sum, g) => sum + g.count, 0)
  const totalWeight = kept.reduce((sum, g) => sum + g.weight, 0)
  if (kept.length < 2 || total === 0) return { statistic: 0, degreesOfFreedom: 0, pValue: 1 }
  let statistic = 0
  for (const { count, weight } of kept) {
    const expected = (total * weight) / totalWeight
    statistic += ((count - expected) * (count - expected)) / expected
  }
  const degreesOfFreedom = kept.length - 1
  return { statistic, degreesOfFreedom, pValue: chiSquareSf(statistic, degreesOfFreedom) }
}

export interface SequentialResult {
  pValue: number
  interval: Interval
  relativeInterval: Interval
}

/**
 * ρ of the asymptotic confidence sequence, tuned so the sequence is narrowest when the combined
 * sample size reaches `tuning` (Waudby-Smith et al. 2023, eq. 161, as GrowthBook uses it).
 */
export function sequentialRho(alpha: number, tuning: number): number {
  const logAlpha = Math.log(alpha)
  return Math.sqrt((-2 * logAlpha + Math.log(-2 * logAlpha + 1)) / tuning)
}

/** Half-width of the two-sided confidence sequence (eq. 9) for an estimator with this standard error. */
function sequenceHalfWidth(standardError: number, n: number, rho: number, alpha: number): number {
  const perObservationVariance = standardError * standardError * n
  const nRho2 = n * rho * rho
  return Math.sqrt(
    (perObservationVariance * 2 * (nRho2 + 1) * Math.log(Math.sqrt(nRho2 + 1) / alpha)) /
      (n * n * rho * rho)
  )
}

/**
 * Always-valid p-value: 1 / e-value of the same mixture (eq. 155), so it may be checked after every
 * new observation without inflating false positives. Computed in log space because strong
 * evidence gives e-values far beyond the largest double.
 */
function sequentialPValue(estimate: number, standardError: number, n: number, rho: number): number {
  const tSquared = (estimate * estimate * n) / (standardError * standardError)
  const nRho2 = n * rho * rho
  const logEvidence = (rho * rho * tSquared) / (2 * (nRho2 + 1)) - 0.5 * Math.log(nRho2 + 1)
  return logEvidence <= 0 ? 1 : Math.exp(-logEvidence)
}

/**
 * The peeking-safe version of a comparison: asymptotic confidence sequences (Waudby-Smith et al.
 * 2023, "Time-uniform central limit theory and asymptotic confidence sequences", as implemented in
 * GrowthBook's SequentialTwoSidedTTest). `n` is both groups' observations together; `tuning` is
 * the N* at which the sequence is tightest.
 */
export function sequentialComparison(
  comparison: Comparison,
  n: number,
  tuning: number,
  alpha = 0.05
): SequentialResult {
  const rho = sequentialRho(alpha, tuning)
  // Identical groups without spread: nothing varies, so nothing can be evidence of a difference.
  if (!(comparison.standardError > 0)) {
    return {
      pValue: 1,
      interval: [comparison.difference, comparison.difference],
      relativeInterval: [comparison.relativeDifference, comparison.relativeDifference]
    }
  }
  return {
    pValue: sequentialPValue(comparison.difference, comparison.standardError, n, rho),
    interval: around(
      comparison.difference,
      sequenceHalfWidth(comparison.standardError, n, rho, alpha)
    ),
    relativeInterval: around(
      comparison.relativeDifference,
      sequenceHalfWidth(comparison.relativeStandardError, n, rho, alpha)
    )
  }
}

/**
 * Holm–Bonferroni step-down adjusted p-values, in the order given: reject the i-th hypothesis at
 * level α exactly when its adjusted p-value is below α.
 */
export function holmBonferroni(pValues: number[]): number[] {
  const m = pValues.length
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const adjusted = new Array<number>(m)
  let running = 0
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p))
    adjusted[i] = running
  })
  return adjusted
}
