// A/A experiments looked at 100 times each, 2,000 runs, fixed seed: how often a true null is
// rejected at some look, with sequential testing (goal: at most 5%) and with naive fixed-horizon
// p-values (for contrast). Run: npm run bench:sequential-aa
import { simulateAATests } from '../lib/stats/simulation.js'

const options = {
  runs: 2000,
  looks: 100,
  usersPerLook: 20,
  tuning: 1000,
  alpha: 0.05,
  seed: 20261127
}
console.log(
  `A/A: ${options.runs} runs x ${options.looks} looks, ${options.usersPerLook} users per group per look, ` +
    `N* = ${options.tuning}, alpha = ${options.alpha}, seed ${options.seed}`
)
for (const kind of ['rate', 'mean']) {
  const result = simulateAATests({ ...options, kind })
  const sequential = result.sequentialRejectionRate
  console.log(
    `  ${kind.padEnd(5)} sequential ${(sequential * 100).toFixed(2)}% ${sequential <= 0.05 ? '(<= 5%: MET)' : '(> 5%: NOT MET)'}` +
      `   naive fixed-horizon ${(result.fixedHorizonRejectionRate * 100).toFixed(2)}%` +
      `   ratio naive/sequential ${(result.fixedHorizonRejectionRate / sequential).toFixed(1)}`
  )
}
