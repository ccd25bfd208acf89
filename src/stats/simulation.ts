import { compareGroups, sequentialComparison, type GroupStatistic } from './tests.js'

export interface AASimulationOptions {
  runs: number
  looks: number
  /** New users per group between two looks. */
  usersPerLook: number
  kind: GroupStatistic['kind']
  /** N* of the confidence sequence. */
  tuning: number
  alpha: number
  seed: number
}

export interface AASimulationResult {
  runs: number
  /** Share of runs in which some look's always-valid p-value fell below alpha. */
  sequentialRejectionRate: number
  /** Share of runs in which some look's fixed-horizon p-value fell below alpha: the cost of peeking. */
  fixedHorizonRejectionRate: number
}

/**
 * A/A experiments (both groups drawn from one distribution: a 10% rate, or a mean of 100 with
 * standard deviation 20), analysed after every batch of users as a scheduled workflow would.
 * Any rejection is a false positive. Deterministic for a given seed.
 */
export function simulateAATests(options: AASimulationOptions): AASimulationResult {
  const random = mulberry32(options.seed)
  const draw =
    options.kind === 'rate'
      ? () => (random() < 0.1 ? 1 : 0)
      : () => 100 + 20 * standardNormal(random)
  let sequentialRejections = 0
  let fixedRejections = 0
  for (let run = 0; run < options.runs; run++) {
    const totals = [
      { count: 0, sum: 0, sumSquares: 0 },
      { count: 0, sum: 0, sumSquares: 0 }
    ]
    let sequentialRejected = false
    let fixedRejected = false
    for (let look = 0; look < options.looks; look++) {
      for (const total of totals) {
        for (let i = 0; i < options.usersPerLook; i++) {
          const value = draw()
          total.count++
          total.sum += value
          total.sumSquares += value * value
        }
      }
      const [control, treatment] = totals.map((t): GroupStatistic =>
        options.kind === 'rate'
          ? { kind: 'rate', count: t.count, successes: t.sum }
          : { kind: 'mean', ...t }
      )
      const fixed = compareGroups(control!, treatment!, options.alpha)
      if (fixed.pValue < options.alpha) fixedRejected = true
      const n = control!.count + treatment!.count
      if (sequentialComparison(fixed, n, options.tuning, options.alpha).pValue < options.alpha) {
        sequentialRejected = true
      }
    }
    if (sequentialRejected) sequentialRejections++
    if (fixedRejected) fixedRejections++
  }
  return {
    runs: options.runs,
    sequentialRejectionRate: sequentialRejections / options.runs,
    fixedHorizonRejectionRate: fixedRejections / options.runs
  }
}

/** A small, fast, seedable generator (Tommy Ettinger's Mulberry32): reproducible runs, not crypto. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 - u keeps the logarithm away from 0.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}
