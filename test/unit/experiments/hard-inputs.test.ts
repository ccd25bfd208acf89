import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Experiment } from '../../../src/engine/types.js'
import { analyzeExperiment } from '../../../src/experiments/analysis.js'
import { readResults } from '../../../src/experiments/results.js'
import type { GroupStatistic } from '../../../src/stats/tests.js'

// Reference values from scipy: test/fixtures/stats/generate.py hard (hard_inputs.py).
const scipy = JSON.parse(
  readFileSync(new URL('../../fixtures/stats/hard-inputs.json', import.meta.url), 'utf8')
)

const dir = mkdtempSync(join(tmpdir(), 'phasegate-hard-'))
function file(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}

/** Relative error at most 1e-6, as for the other reference fixtures. */
function expectClose(actual: number, expected: number, relative = 1e-6): void {
  if (expected === 0) expect(Math.abs(actual)).toBeLessThan(1e-300)
  else expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThanOrEqual(relative)
}

function experimentOf(metrics: string[], minimumSampleSize = 0, weights = [50, 50]): Experiment {
  return {
    name: 'hard',
    enabled: true,
    groups: [
      { name: 'control', weight: weights[0]!, configuration: {} },
      { name: 'treatment', weight: weights[1]!, configuration: {} }
    ],
    successMetrics: metrics,
    durationMs: null,
    minimumSampleSize,
    seed: 'hard',
    hashVersion: 2
  }
}

const shape = (metrics: string[]) => ({ groups: ['control', 'treatment'], metrics })

describe('kind 1: aggregate rows split over several lines add up', () => {
  interface SplitCase {
    name: string
    rows: Array<Record<string, string | number>>
    users: Record<string, number>
    srm: { statistic: number; pValue: number }
    welch?: { statistic: number; pValue: number }
  }
  it.each(scipy.splitRows as SplitCase[])('$name', async c => {
    const metric = String(c.rows[0]!.metric)
    const columns = ['group', 'metric', 'count', 'successes', 'sum', 'sum_squares']
    const path = file(`split-${metric}.csv`, [
      columns.join(','),
      ...c.rows.map(r => columns.map(k => (r[k] === undefined ? '' : String(r[k]))).join(','))
    ])
    const data = await readResults(path, shape([metric]))
    expect(data.users).toEqual(c.users)
    const analysis = analyzeExperiment(experimentOf([metric]), data, { sequential: false })
    expectClose(analysis.sampleRatio.statistic + 1, c.srm.statistic + 1)
    expectClose(analysis.sampleRatio.pValue, c.srm.pValue)
    expect(analysis.verdict).not.toBe('invalid')
    if (c.welch) {
      const comparison = analysis.metrics[0]!.comparisons[0]!
      expectClose(comparison.fixedHorizon.pValue, c.welch.pValue)
    }
  })
})

describe('kind 2: variance with a large common offset', () => {
  interface OffsetCase {
    name: string
    control: string[]
    treatment: string[]
    statistic: number
    pValue: number
    controlVariance: number
    treatmentVariance: number
  }
  it.each(scipy.offsets as OffsetCase[])('per-user values, $name', async c => {
    const lines = ['user_id,group,value']
    c.control.forEach((v, i) => lines.push(`c${i},control,${v}`))
    c.treatment.forEach((v, i) => lines.push(`t${i},treatment,${v}`))
    const data = await readResults(file('offset.csv', lines), shape(['value']))
    const analysis = analyzeExperiment(experimentOf(['value']), data, { sequential: false })
    const comparison = analysis.metrics[0]!.comparisons[0]!
    expect(comparison.test).toBe('welch t')
    expectClose(comparison.fixedHorizon.pValue, c.pValue)
    expect(analysis.verdict).toBe('treatment_better')
  })

  it('the NDJSON reader keeps the precision too', async () => {
    const c = (scipy.offsets as OffsetCase[])[1]!
    const lines = [
      ...c.control.map((v, i) => JSON.stringify({ user_id: `c${i}`, group: 'control', value: v })),
      ...c.treatment.map((v, i) =>
        JSON.stringify({ user_id: `t${i}`, group: 'treatment', value: Number(v) })
      )
    ]
    const data = await readResults(file('offset.ndjson', lines), shape(['value']))
    const analysis = analyzeExperiment(experimentOf(['value']), data, { sequential: false })
    expectClose(analysis.metrics[0]!.comparisons[0]!.fixedHorizon.pValue, c.pValue)
  })

  it('warns when aggregate sums cannot carry the variance', async () => {
    // 1000 values of 1e9 + 0..9: the sum of squares needs 22 digits, a double keeps 16.
    const path = file('offset-aggregate.csv', [
      'group,metric,count,sum,sum_squares',
      'control,value,1000,1000000004500,1.000000009e21',
      'treatment,value,1000,1000000005500,1.000000011e21'
    ])
    const data = await readResults(path, shape(['value']))
    const analysis = analyzeExperiment(experimentOf(['value']), data, { sequential: false })
    expect(analysis.warnings.join('\n')).toMatch(
      /value: the sums in group control cannot carry its variance/
    )
  })
})

describe('kind 3: no spread within either group', () => {
  interface DegenerateCase {
    name: string
    kind: 'rate' | 'mean'
    control: { count: number; value?: number; successes?: number }
    treatment: { count: number; value?: number; successes?: number }
    fisherPValue: number
    sequentialPValue: number
  }
  const { tuning, cases } = scipy.degenerate as { tuning: number; cases: DegenerateCase[] }

  function stat(kind: 'rate' | 'mean', g: DegenerateCase['control']): GroupStatistic {
    return kind === 'rate'
      ? { kind, count: g.count, successes: g.successes! }
      : {
          kind,
          count: g.count,
          sum: g.value! * g.count,
          sumSquares: g.value! * g.value! * g.count
        }
  }

  it.each(cases)('$name is tested exactly, and sequentially', c => {
    const data = {
      users: { control: c.control.count, treatment: c.treatment.count },
      metrics: { score: { control: stat(c.kind, c.control), treatment: stat(c.kind, c.treatment) } }
    }
    // N* = 2 × minimum_sample_size: the combined n when both groups reach the minimum.
    const experiment = experimentOf(['score'], tuning / 2)
    const analysis = analyzeExperiment(experiment, data)
    expect(analysis.tuning).toBe(tuning)
    const comparison = analysis.metrics[0]!.comparisons[0]!
    expect(comparison.test).toBe('fisher exact')
    expect(comparison.noSpread).toBe(true)
    expectClose(comparison.fixedHorizon.pValue, c.fisherPValue)
    expectClose(comparison.sequential!.pValue, c.sequentialPValue)
    expect(comparison.outcome).toBe('better')
    expect(analysis.verdict).toBe('treatment_better')
    expect(analysis.reasons.join('\n')).toMatch(/no spread within either group/)
  })

  it('identical constant groups are reported as having no spread, not as no difference', () => {
    const constant: GroupStatistic = { kind: 'mean', count: 50, sum: 250, sumSquares: 1250 }
    const data = {
      users: { control: 50, treatment: 50 },
      metrics: { score: { control: constant, treatment: constant } }
    }
    const analysis = analyzeExperiment(experimentOf(['score']), data)
    expect(analysis.metrics[0]!.comparisons[0]!.noSpread).toBe(true)
    expect(analysis.verdict).not.toBe('no_detectable_difference')
    expect(analysis.reasons.join('\n')).toMatch(/score: no spread within either group/)
  })
})

describe('kind 4: tiny groups', () => {
  interface TinyCase {
    name: string
    control: { count: number; successes: number }
    treatment: { count: number; successes: number }
    fisherPValue: number
  }
  it.each(scipy.tiny as TinyCase[])('$name: Fisher exact, and too little data', c => {
    const data = {
      users: { control: c.control.count, treatment: c.treatment.count },
      metrics: {
        conversion: {
          control: { kind: 'rate' as const, ...c.control },
          treatment: { kind: 'rate' as const, ...c.treatment }
        }
      }
    }
    for (const sequential of [true, false]) {
      // Weights as the counts, so the sample ratio is no objection.
      const weights = [c.control.count, c.treatment.count]
      const analysis = analyzeExperiment(experimentOf(['conversion'], 0, weights), data, {
        sequential
      })
      const comparison = analysis.metrics[0]!.comparisons[0]!
      expect(comparison.test).toBe('fisher exact')
      expectClose(comparison.fixedHorizon.pValue, c.fisherPValue)
      expect(comparison.outcome).toBe('too_little_data')
      expect(analysis.verdict).toBe('keep_running')
      expect(analysis.reasons.join('\n')).toMatch(/conversion: too little data/)
    }
  })
})

describe('kind 5: starved groups', () => {
  interface StarvedCase {
    name: string
    counts: [number, number]
    weights: [number, number]
    statistic: number
    pValue: number
  }
  it.each(scipy.starved as StarvedCase[])('$name is a sample ratio mismatch', c => {
    const data = {
      users: { control: c.counts[0], treatment: c.counts[1] },
      metrics: {
        conversion: {
          control: {
            kind: 'rate' as const,
            count: c.counts[0],
            successes: Math.round(c.counts[0] / 2)
          },
          treatment: { kind: 'rate' as const, count: c.counts[1], successes: c.counts[1] }
        }
      }
    }
    const analysis = analyzeExperiment(experimentOf(['conversion'], 0, c.weights), data)
    expectClose(analysis.sampleRatio.statistic, c.statistic)
    expectClose(analysis.sampleRatio.pValue, c.pValue)
    expect(analysis.sampleRatio).toMatchObject({ checked: true, mismatch: true })
    expect(analysis.verdict).toBe('invalid')
  })

  it('too few users to check the split: no verdict', () => {
    const data = {
      users: { control: 3, treatment: 2 },
      metrics: {
        score: {
          control: { kind: 'mean' as const, count: 3, sum: 3, sumSquares: 5 },
          treatment: { kind: 'mean' as const, count: 2, sum: 40, sumSquares: 802 }
        }
      }
    }
    const analysis = analyzeExperiment(experimentOf(['score']), data)
    expect(analysis.sampleRatio.checked).toBe(false)
    expect(analysis.verdict).toBe('keep_running')
    expect(analysis.reasons.join('\n')).toMatch(/sample ratio not checked/)
  })
})
