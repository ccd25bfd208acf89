import { describe, expect, it } from 'vitest'
import { simulateAATests } from '../../../src/stats/simulation.js'

describe('A/A experiments checked at 100 looks, 2,000 runs each', () => {
  it.each(['rate', 'mean'] as const)(
    '%s metric: at most 5 percent reject with sequential testing on',
    kind => {
      const result = simulateAATests({
        runs: 2000,
        looks: 100,
        usersPerLook: 20,
        kind,
        tuning: 1000,
        alpha: 0.05,
        seed: 20261127
      })
      expect(result.sequentialRejectionRate).toBeLessThanOrEqual(0.05)
      // The same data with naive p-values: peeking makes false positives several times alpha.
      expect(result.fixedHorizonRejectionRate).toBeGreaterThan(0.15)
    }
  )
})
