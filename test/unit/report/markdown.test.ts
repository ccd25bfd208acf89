import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import { digestOf, renderReport, reportDigest, withDigest } from '../../../src/report/markdown.js'
import { at, HEALTHY, observations, seedPolicy, state } from '../../support/policies.js'

const policy = seedPolicy()
const canary = state(policy, 'canary')

describe('the markdown report', () => {
  it('tabulates every gate with value, threshold and result, and says why the rollout waits', () => {
    const decision = decide(policy, canary, observations({ ...HEALTHY, error_rate: 0.012 }), at(30))
    const report = renderReport({ policy, state: canary, decision })
    expect(report).toContain('| success_criteria | error_rate | 0.012 | < 0.01 | ❌ fail |')
    expect(report).toContain('| success_criteria | user_satisfaction | 0.995 | > 0.95 | ✅ pass |')
    expect(report).toContain('| duration | time_in_phase | 1d 6h | >= 24h | ✅ pass |')
    expect(report).toContain('| approval | approvals | — | >= 1 approvals | ⏳ pending |')
    expect(report).toContain(
      '- **low** error_rate is 0.012, above its warning threshold 0.01 (low)'
    )
  })

  it('charts each metric as a percentage of its threshold', () => {
    const decision = decide(policy, canary, observations({ ...HEALTHY, error_rate: 0.005 }), at(30))
    const report = renderReport({ policy, state: canary, decision })
    expect(report).toContain('```mermaid\nxychart-beta')
    expect(report).toContain(
      'x-axis ["error_rate", "performance_degradation", "user_satisfaction"]'
    )
    // 0.005 of < 0.01 is 50%, 0.01 of < 0.1 is 10%, 0.995 of > 0.95 is 104.7%
    expect(report).toContain('bar [50, 10, 104.7]')
  })

  it('keeps the same digest while only time passes, and a new one when an outcome changes', () => {
    const early = decide(policy, canary, observations(HEALTHY), at(30))
    const later = decide(policy, canary, observations(HEALTHY), at(40))
    const failing = decide(policy, canary, observations({ ...HEALTHY, error_rate: 0.5 }), at(40))
    expect(reportDigest(later)).toBe(reportDigest(early))
    expect(reportDigest(failing)).not.toBe(reportDigest(early))
    expect(digestOf(withDigest('body', early))).toBe(reportDigest(early))
  })
})

describe('experiments in the report', () => {
  it('show each enabled experiment with its verdict (job summary and advance PR body)', async () => {
    const { analyzeExperiment } = await import('../../../src/experiments/analysis.js')
    const analysis = analyzeExperiment(policy.experiments[0]!, {
      users: { control: 10, treatment: 12 },
      metrics: {}
    })
    const decision = decide(policy, canary, observations(HEALTHY), at(30))
    const report = renderReport({ policy, state: canary, decision, experiments: [analysis] })
    expect(report).toContain('#### Experiments')
    expect(report).toContain('dspy_vs_traditional')
    expect(report).toMatch(/keep running/i)
  })
})

describe('the PR body digest', () => {
  it('changes when an experiment verdict changes, so the advance PR shows it', async () => {
    const { analyzeExperiment } = await import('../../../src/experiments/analysis.js')
    const decision = decide(policy, canary, observations(HEALTHY), at(30))
    const running = analyzeExperiment(policy.experiments[0]!, {
      users: { control: 10, treatment: 12 },
      metrics: {}
    })
    const invalid = { ...running, verdict: 'invalid' as const }
    expect(reportDigest(decision, [running])).toBe(reportDigest(decision, [running]))
    expect(reportDigest(decision, [invalid])).not.toBe(reportDigest(decision, [running]))
  })
})
