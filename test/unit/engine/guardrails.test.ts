import { describe, expect, it } from 'vitest'
import {
  assessGuardrail,
  exposureShares,
  type Guardrail,
  type GuardrailData
} from '../../../src/engine/guardrails.js'

const errorRate: Guardrail = { metric: 'error_rate', worse: 'increase', margin: 0, tuning: 200_000 }

function rates(control: [number, number], treatment: [number, number], share = 0.5): GuardrailData {
  return {
    control: { kind: 'rate', count: control[1], successes: control[0] },
    treatment: { kind: 'rate', count: treatment[1], successes: treatment[0] },
    users: { control: control[1], treatment: treatment[1] },
    expectedShare: { control: 1 - share, treatment: share }
  }
}

describe('a guardrail comparison as a gate and a trigger', () => {
  it('a 10% regression in error rate fires the trigger and fails the gate, with its evidence', () => {
    const result = assessGuardrail(errorRate, rates([10_000, 1_000_000], [11_000, 1_000_000]))
    expect(result).toMatchObject({ gate: 'fail', fired: true, sampleRatioMismatch: false })
    expect(result.evidence!.estimate).toBeCloseTo(0.1, 12)
    expect(result.evidence!.interval[0]).toBeGreaterThan(0)
    expect(result.evidence!.pValue).toBeLessThan(0.05)
    expect(result.evidence!.n).toEqual({ control: 1_000_000, treatment: 1_000_000 })
    expect(result.reason).toMatch(/error_rate: treatment worse beyond the margin: \+10\.00%/)
  })

  it('the same regression inside a 10% margin does not fire', () => {
    const result = assessGuardrail(
      { ...errorRate, margin: 0.1 },
      rates([10_000, 1_000_000], [11_000, 1_000_000])
    )
    expect(result.fired).toBe(false)
    expect(result.gate).toBe('pending')
  })

  it('an A/A comparison passes a 10% margin and neither passes nor fires at margin 0', () => {
    const data = rates([10_000, 1_000_000], [10_020, 1_000_000])
    expect(assessGuardrail({ ...errorRate, margin: 0.1 }, data)).toMatchObject({
      gate: 'pass',
      fired: false
    })
    expect(assessGuardrail(errorRate, data)).toMatchObject({ gate: 'pending', fired: false })
  })

  it('a metric where lower is worse fires on a drop', () => {
    const success: Guardrail = { ...errorRate, metric: 'success_rate', worse: 'decrease' }
    const result = assessGuardrail(success, rates([900_000, 1_000_000], [880_000, 1_000_000]))
    expect(result.fired).toBe(true)
    expect(assessGuardrail(success, rates([880_000, 1_000_000], [900_000, 1_000_000])).fired).toBe(
      false
    )
  })

  it('a sample ratio mismatch holds and alerts but never fires by itself', () => {
    const data = rates([10_000, 1_000_000], [13_000, 1_100_000])
    const result = assessGuardrail(errorRate, data)
    expect(result).toMatchObject({ gate: 'pending', fired: false, sampleRatioMismatch: true })
    expect(result.reason).toMatch(/sample ratio mismatch/)
  })

  it('judges the split against the exposure shares: 90/10 is no mismatch at 10%', () => {
    const data = rates([9_000, 900_000], [1_000, 100_000], 0.1)
    expect(assessGuardrail(errorRate, data).sampleRatioMismatch).toBe(false)
  })

  it('too little data is pending, never a pass or a rollback', () => {
    const result = assessGuardrail(errorRate, rates([3, 700], [9, 700]))
    expect(result).toMatchObject({ gate: 'pending', fired: false })
    expect(result.reason).toMatch(/too little data/)
  })
})

describe("the rollout's own exposure as the experiment", () => {
  it('splits users at the phase percentage, and has no control at 0% or 100%', () => {
    expect(exposureShares(10)).toEqual({ control: 0.9, treatment: 0.1 })
    expect(exposureShares(0)).toBeNull()
    expect(exposureShares(100)).toBeNull()
  })
})

describe('exposure groups by the rollout hashing', () => {
  it('treatment exactly inside user_percentage (as isInRollout), nobody at 0% or 100%', async () => {
    const { exposureGroup, isInRollout } = await import('../../../src/experiments/assignment.js')
    const ids = Array.from({ length: 2000 }, (_, i) => `user-${i}`)
    const groups = ids.map(id => exposureGroup('dspy', id, 10))
    ids.forEach((id, i) =>
      expect(groups[i]).toBe(isInRollout('dspy', id, 10) ? 'treatment' : 'control')
    )
    const share = groups.filter(g => g === 'treatment').length / ids.length
    expect(share).toBeGreaterThan(0.08)
    expect(share).toBeLessThan(0.12)
    // A ramp only moves users from control to treatment.
    ids.forEach((id, i) => {
      if (groups[i] === 'treatment') expect(exposureGroup('dspy', id, 50)).toBe('treatment')
    })
    expect(ids.map(id => exposureGroup('dspy', id, 0)).every(g => g === null)).toBe(true)
    expect(ids.map(id => exposureGroup('dspy', id, 100)).every(g => g === null)).toBe(true)
  })
})

describe('a guardrail under 100 looks (a scheduled tick every 5 minutes)', () => {
  // Mulberry32 and a normal approximation of the binomial: 20,000 requests a look, 10% canary.
  function simulate(lift: number, seed: number): number[] {
    let state = seed >>> 0
    const random = (): number => {
      state = (state + 0x6d2b79f5) >>> 0
      let t = state
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const draw = (n: number, p: number): number =>
      Math.round(
        n * p +
          Math.sqrt(n * p * (1 - p)) *
            Math.sqrt(-2 * Math.log(1 - random())) *
            Math.cos(2 * Math.PI * random())
      )
    const firedAt: number[] = []
    for (let run = 0; run < 200; run++) {
      let c = 0
      let t = 0
      let fired = Infinity
      for (let look = 1; look <= 100 && fired === Infinity; look++) {
        c += draw(18_000, 0.05)
        t += draw(2_000, 0.05 * (1 + lift))
        const data = rates([c, 18_000 * look], [t, 2_000 * look], 0.1)
        if (assessGuardrail({ ...errorRate, tuning: 1_000_000 }, data).fired) fired = look
      }
      firedAt.push(fired)
    }
    return firedAt
  }

  it('A/A: rolls back in at most alpha of the runs', () => {
    const falseRollbacks = simulate(0, 7).filter(Number.isFinite).length / 200
    expect(falseRollbacks).toBeLessThanOrEqual(0.05)
  })

  it('a 10% regression of a 5% proportion rolls back in most runs within 100 looks', () => {
    const caught = simulate(0.1, 11).filter(Number.isFinite).length / 200
    expect(caught).toBeGreaterThan(0.9)
  })
})
