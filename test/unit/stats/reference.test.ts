import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  chiSquareGoodnessOfFit,
  compareGroups,
  type GroupStatistic,
  holmBonferroni,
  sequentialComparison,
  twoProportionZTest,
  welchTTest
} from '../../../src/stats/tests.js'

const fixtures = new URL('../../fixtures/stats/', import.meta.url)
const scipy = JSON.parse(readFileSync(new URL('reference.json', fixtures), 'utf8'))
const growthbook = JSON.parse(readFileSync(new URL('growthbook.json', fixtures), 'utf8'))

/** Relative error at most 1e-6, the bar, for values of any magnitude. */
function expectClose(actual: number, expected: number, relative = 1e-6): void {
  if (expected === 0) expect(Math.abs(actual)).toBeLessThan(1e-300)
  else expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThanOrEqual(relative)
}

function expectRounded(actual: number, expected: number, decimals: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12)
}

function statistic(
  kind: 'rate' | 'mean',
  s: { count: number; successes?: number; sum?: number; sumSquares?: number }
): GroupStatistic {
  return kind === 'rate'
    ? { kind, count: s.count, successes: s.successes! }
    : { kind, count: s.count, sum: s.sum!, sumSquares: s.sumSquares! }
}

interface WelchCase {
  name: string
  control: { count: number; sum: number; sumSquares: number }
  treatment: { count: number; sum: number; sumSquares: number }
  statistic: number
  pValue: number
  degreesOfFreedom: number
  interval: [number, number]
  relativeInterval: [number, number]
}

interface ZCase {
  name: string
  control: { count: number; successes: number }
  treatment: { count: number; successes: number }
  statistic: number
  pValue: number
  interval: [number, number]
}

describe("Welch's t-test against scipy.stats.ttest_ind_from_stats(equal_var=False)", () => {
  it('covers small samples and p-values below 1e-8', () => {
    const cases = scipy.welch as WelchCase[]
    expect(cases.some(c => c.control.count <= 3)).toBe(true)
    expect(cases.some(c => c.pValue < 1e-8)).toBe(true)
  })

  it.each(scipy.welch as WelchCase[])('$name', c => {
    const result = welchTTest({ kind: 'mean', ...c.control }, { kind: 'mean', ...c.treatment })
    expectClose(result.statistic, c.statistic)
    expectClose(result.degreesOfFreedom, c.degreesOfFreedom)
    expectClose(result.pValue, c.pValue)
    expectClose(result.interval[0], c.interval[0])
    expectClose(result.interval[1], c.interval[1])
    expectClose(result.relativeInterval[0], c.relativeInterval[0])
    expectClose(result.relativeInterval[1], c.relativeInterval[1])
  })
})

describe('two-proportion z-test against its formula with scipy.stats.norm', () => {
  it.each(scipy.twoProportion as ZCase[])('$name', c => {
    const result = twoProportionZTest(
      { kind: 'rate', ...c.control },
      { kind: 'rate', ...c.treatment }
    )
    if (c.statistic === 0) expect(result.statistic).toBe(0)
    else expectClose(result.statistic, c.statistic)
    expectClose(result.pValue, c.pValue)
    expectClose(result.interval[0], c.interval[0])
    expectClose(result.interval[1], c.interval[1])
  })
})

describe('sample ratio mismatch against scipy.stats.chisquare', () => {
  it.each(
    scipy.srm as Array<{
      name: string
      counts: number[]
      weights: number[]
      statistic: number
      pValue: number
    }>
  )('$name', c => {
    const result = chiSquareGoodnessOfFit(c.counts, c.weights)
    expectClose(result.statistic, c.statistic)
    expectClose(result.pValue, c.pValue)
  })
})

describe("GrowthBook's published vectors", () => {
  it.each(
    growthbook.srm.cases as Array<{
      name: string
      counts: number[]
      weights: number[]
      pValue: number
    }>
  )('SRM: $name', c => {
    expectRounded(
      chiSquareGoodnessOfFit(c.counts, c.weights).pValue,
      c.pValue,
      growthbook.srm.decimals
    )
  })

  it("Welch's t-test, absolute and relative (delta method)", () => {
    const { control, treatment, absolute, relative, decimals } = growthbook.welch
    const result = welchTTest({ kind: 'mean', ...control }, { kind: 'mean', ...treatment })
    expectRounded(result.difference, absolute.difference, decimals)
    expectRounded(result.standardError, absolute.standardError, decimals)
    expectRounded(result.interval[0], absolute.interval[0], decimals)
    expectRounded(result.interval[1], absolute.interval[1], decimals)
    expectRounded(result.pValue, absolute.pValue, decimals)
    expectRounded(result.relativeDifference, relative.relativeDifference, decimals)
    expectRounded(result.relativeStandardError, relative.relativeStandardError, decimals)
    expectRounded(result.relativeInterval[0], relative.relativeInterval[0], decimals)
    expectRounded(result.relativeInterval[1], relative.relativeInterval[1], decimals)
  })

  it('delta-method standard error of a relative difference in rates', () => {
    const c = growthbook.proportionRelativeStandardError
    const result = twoProportionZTest(
      { kind: 'rate', ...c.control },
      { kind: 'rate', ...c.treatment }
    )
    expectRounded(result.relativeDifference, c.relativeDifference, c.decimals)
    expectRounded(result.relativeStandardError, c.relativeStandardError, c.decimals)
  })

  interface SequentialCase {
    name: string
    kind: 'rate' | 'mean'
    tuning: number
    control: { count: number; successes?: number; sum?: number; sumSquares?: number }
    treatment: { count: number; successes?: number; sum?: number; sumSquares?: number }
    relativeDifference: number
    relativeStandardError: number
    relativeInterval: [number, number]
    pValue: number
  }

  it.each(growthbook.sequential.cases as SequentialCase[])(
    'sequential confidence sequence: $name',
    c => {
      const fixed = compareGroups(statistic(c.kind, c.control), statistic(c.kind, c.treatment))
      const sequential = sequentialComparison(fixed, c.control.count + c.treatment.count, c.tuning)
      const decimals = growthbook.sequential.decimals
      expectRounded(fixed.relativeDifference, c.relativeDifference, decimals)
      expectRounded(fixed.relativeStandardError, c.relativeStandardError, decimals)
      expectRounded(sequential.relativeInterval[0], c.relativeInterval[0], decimals)
      expectRounded(sequential.relativeInterval[1], c.relativeInterval[1], decimals)
      expectRounded(sequential.pValue, c.pValue, decimals)
    }
  )
})

describe('Holm–Bonferroni against statsmodels multipletests(method="holm")', () => {
  it('adjusts each p-value in place', () => {
    const adjusted = holmBonferroni(scipy.holm.pValues)
    scipy.holm.adjusted.forEach((expected: number, i: number) =>
      expectClose(adjusted[i]!, expected, 1e-12)
    )
  })
})

describe('sequential testing', () => {
  const control = { kind: 'rate' as const, count: 5000, successes: 500 }
  const treatment = { kind: 'rate' as const, count: 5000, successes: 560 }
  const fixed = twoProportionZTest(control, treatment)

  it('is more cautious than a fixed-horizon test on the same data', () => {
    const sequential = sequentialComparison(fixed, 10_000, 2000)
    expect(sequential.pValue).toBeGreaterThan(fixed.pValue)
    expect(sequential.interval[0]).toBeLessThan(fixed.interval[0])
    expect(sequential.interval[1]).toBeGreaterThan(fixed.interval[1])
  })

  it('is tightest when the sample size is near the tuning N*', () => {
    const width = (tuning: number): number => {
      const [low, high] = sequentialComparison(fixed, 10_000, tuning).interval
      return high - low
    }
    expect(width(10_000)).toBeLessThan(width(100))
    expect(width(10_000)).toBeLessThan(width(1_000_000))
  })
})
