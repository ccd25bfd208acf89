import { describe, expect, it } from 'vitest'
import type { Experiment, Policy } from '../../../src/engine/types.js'
import { analyzeExperiment, metricDirection } from '../../../src/experiments/analysis.js'
import { renderAnalysisMarkdown } from '../../../src/experiments/render.js'
import type { ExperimentData } from '../../../src/experiments/results.js'
import type { GroupStatistic } from '../../../src/stats/tests.js'

const experiment: Experiment = {
  name: 'dspy_vs_traditional',
  enabled: true,
  groups: [
    { name: 'control', weight: 50, configuration: { dspy_enabled: false } },
    { name: 'treatment', weight: 50, configuration: { dspy_enabled: true } }
  ],
  successMetrics: ['accuracy', 'response_time'],
  durationMs: 30 * 24 * 3_600_000,
  minimumSampleSize: 1000,
  seed: 'dspy_vs_traditional',
  hashVersion: 2
}

function rate(count: number, rateValue: number): GroupStatistic {
  return { kind: 'rate', count, successes: Math.round(count * rateValue) }
}

/** A mean metric with this mean and standard deviation over `count` users. */
function meanOf(count: number, mean: number, sd: number): GroupStatistic {
  const sum = mean * count
  return { kind: 'mean', count, sum, sumSquares: sd * sd * (count - 1) + (sum * sum) / count }
}

function data(
  users: [number, number],
  accuracy: [number, number],
  responseTime: [number, number]
): ExperimentData {
  return {
    users: { control: users[0], treatment: users[1] },
    metrics: {
      accuracy: { control: rate(users[0], accuracy[0]), treatment: rate(users[1], accuracy[1]) },
      response_time: {
        control: meanOf(users[0], responseTime[0], 200),
        treatment: meanOf(users[1], responseTime[1], 200)
      }
    }
  }
}

const started = new Date('2026-10-01T00:00:00Z')
const after = { startedAt: started, now: new Date('2026-11-15T00:00:00Z') }

describe('experiment verdicts', () => {
  it('treatment better: more accurate and faster, with enough users and time', () => {
    const result = analyzeExperiment(
      experiment,
      data([20000, 20000], [0.8, 0.85], [900, 850]),
      after
    )
    expect(result.verdict).toBe('treatment_better')
    expect(result.metrics.map(m => m.comparisons[0]!.outcome)).toEqual(['better', 'better'])
    expect(result.reasons.join('\n')).toMatch(/accuracy: treatment \+6\.25% vs control/)
  })

  it('control better when a success metric regresses, even if another improves', () => {
    const result = analyzeExperiment(
      experiment,
      data([20000, 20000], [0.8, 0.85], [850, 950]),
      after
    )
    expect(result.verdict).toBe('control_better')
    expect(result.reasons[0]).toMatch(/^worse: response_time: treatment \+11\.76%/)
  })

  it('no detectable difference when nothing moves', () => {
    const result = analyzeExperiment(
      experiment,
      data([20000, 20000], [0.8, 0.8], [900, 900]),
      after
    )
    expect(result.verdict).toBe('no_detectable_difference')
  })

  it('keeps running below minimum_sample_size, whatever the data say', () => {
    const result = analyzeExperiment(experiment, data([600, 600], [0.5, 0.9], [900, 500]), after)
    expect(result.verdict).toBe('keep_running')
    expect(result.reasons[0]).toBe(
      'below minimum_sample_size 1000: control has 600, treatment has 600'
    )
  })

  it('keeps running until the duration has passed', () => {
    const result = analyzeExperiment(experiment, data([20000, 20000], [0.8, 0.85], [900, 850]), {
      startedAt: started,
      now: new Date('2026-10-11T00:00:00Z')
    })
    expect(result.verdict).toBe('keep_running')
    expect(result.reasons[0]).toMatch(/running 240\.0h of its 720\.0h duration/)
  })

  it('is invalid on a sample ratio mismatch, before looking at any metric', () => {
    const result = analyzeExperiment(
      experiment,
      data([20000, 18800], [0.8, 0.85], [900, 850]),
      after
    )
    expect(result.sampleRatio.mismatch).toBe(true)
    expect(result.verdict).toBe('invalid')
    expect(result.reasons[0]).toMatch(/sample ratio mismatch: control 51\.55% \(expected 50\.00%\)/)
  })

  it('checks the split once every group expects 5 users, and gives no verdict before', () => {
    const starved = analyzeExperiment(experiment, data([30, 7], [0.5, 0.5], [900, 900]), after)
    expect(starved.sampleRatio).toMatchObject({ checked: true, mismatch: true })
    expect(starved.verdict).toBe('invalid')
    const tiny = analyzeExperiment(experiment, data([7, 1], [0.5, 0.5], [900, 900]), after)
    expect(tiny.sampleRatio.pValue).toBeLessThan(0.05)
    expect(tiny.sampleRatio.checked).toBe(false)
    expect(tiny.verdict).toBe('keep_running')
  })

  it('keeps running when a success metric has no data in a group', () => {
    const input = data([20000, 20000], [0.8, 0.85], [900, 850])
    delete input.metrics.response_time!.treatment
    const result = analyzeExperiment(experiment, input, after)
    expect(result.verdict).toBe('keep_running')
    expect(result.reasons).toContain(
      "response_time: fewer than 2 observations in group 'treatment'"
    )
  })
})

describe('peeking safety and multiple metrics', () => {
  // z ≈ 2.3 on accuracy: significant once, not under continuous monitoring.
  const borderline = data([20000, 20000], [0.8, 0.809], [900, 900])

  it('a fixed-horizon test would call it; the confidence sequence does not', () => {
    const fixed = analyzeExperiment(experiment, borderline, { ...after, sequential: false })
    const sequential = analyzeExperiment(experiment, borderline, after)
    expect(fixed.metrics[0]!.comparisons[0]!.fixedHorizon.pValue).toBeLessThan(0.025)
    expect(fixed.verdict).toBe('treatment_better')
    expect(sequential.verdict).toBe('no_detectable_difference')
    const [low, high] = sequential.metrics[0]!.comparisons[0]!.sequential!.interval
    expect(low).toBeLessThan(0)
    expect(high).toBeGreaterThan(0)
  })

  it('adjusts p-values with Holm–Bonferroni across the success metrics', () => {
    const fixed = analyzeExperiment(experiment, borderline, { ...after, sequential: false })
    const [accuracy, responseTime] = fixed.metrics.map(m => m.comparisons[0]!)
    expect(accuracy!.adjustedPValue).toBeCloseTo(2 * accuracy!.fixedHorizon.pValue, 12)
    expect(responseTime!.adjustedPValue).toBe(1)
  })
})

describe('metric direction', () => {
  it('follows the policy’s thresholds, then the metric’s name', () => {
    const policy = {
      phases: [
        {
          successCriteria: {
            user_satisfaction: { op: '>', value: 0.95, source: '> 0.95' },
            error_rate: { op: '<', value: 0.01, source: '< 0.01' }
          }
        }
      ],
      alerts: [],
      triggers: [
        {
          kind: 'metric',
          metric: 'queue_depth',
          threshold: { op: '>', value: 2, source: '> 2' },
          forMs: 0,
          source: 'queue_depth > 2'
        }
      ],
      metricDefinitions: {}
    } as unknown as Policy
    expect(metricDirection('user_satisfaction', policy)).toBe('increase')
    expect(metricDirection('error_rate', policy)).toBe('decrease')
    expect(metricDirection('queue_depth', policy)).toBe('decrease')
    expect(metricDirection('cost_per_request')).toBe('decrease')
    expect(metricDirection('accuracy')).toBe('increase')
  })
})

describe('the markdown report for the job summary and the advance PR', () => {
  it('states the verdict, its reasons and one row per metric and treatment', () => {
    const result = analyzeExperiment(
      experiment,
      data([20000, 20000], [0.8, 0.85], [900, 850]),
      after
    )
    const markdown = renderAnalysisMarkdown(result)
    expect(markdown).toMatch(/^### Experiment `dspy_vs_traditional`: TREATMENT BETTER\n/)
    expect(markdown).toContain('- better: accuracy: treatment +6.25% vs control')
    expect(markdown).toMatch(
      /\| accuracy \| treatment \| \+6\.25% \| \[\+\d\.\d\d%, \+\d\.\d\d%\] \| p = [\d.e-]+, better \|/
    )
    expect(markdown).toMatch(/\| response_time \| treatment \| -5\.56% \|/)
  })
})
