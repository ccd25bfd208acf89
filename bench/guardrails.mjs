// Guardrail comparisons (treatment vs control, always-valid interval) against a plain threshold
// trigger (`error_rate > x` on the treatment's latest 5-minute window) at canary-sized traffic,
// 100 looks (5-minute ticks) per run, fixed seed. The threshold is tuned to the guardrail's own
// A/A false-rollback rate, so the detection looks compare at the same false-alarm rate.
// Also prints the existing sequential A/A figures. Run: npm run bench:guardrails [-- RUNS]
import { assessGuardrail } from '../lib/engine/guardrails.js'
import { simulateAATests } from '../lib/stats/simulation.js'

const runs = Number(process.argv[2] ?? 1000)
const looks = 100
const requestsPerLook = 20_000 // both groups, per 5-minute tick
const share = 0.1 // user_percentage 10: the canary
const alpha = 0.05
const tuning = (requestsPerLook * looks) / 2
const regression = 0.1 // relative, in the treatment
const gateMargin = 0.2 // the gate: not worse than control by more than 20%
const metrics = [
  { name: 'error_rate', base: 0.01 },
  { name: 'slow_request_share', base: 0.05 } // requests above a histogram bucket bound
]

function mulberry32(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function normal(random) {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

/** Binomial(n, p) by its normal approximation (n·p ≥ 20 here), rounded and clamped. */
function binomial(random, n, p) {
  const x = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(random))
  return Math.min(n, Math.max(0, x))
}

/**
 * One scenario: per run, per look, the looks at which the guardrail fires, the gate first passes,
 * and the treatment's window rate (for the threshold trigger).
 */
function simulate({ base, lift, drift, seed }) {
  const random = mulberry32(seed)
  const treatmentN = requestsPerLook * share
  const controlN = requestsPerLook - treatmentN
  const guardrail = { metric: 'm', worse: 'increase', margin: 0, alpha, tuning }
  const gate = { ...guardrail, margin: gateMargin }
  const results = []
  for (let run = 0; run < runs; run++) {
    // Daily drift shared by both groups: ±50% over 288 ticks, at a random time of day.
    const phase = random() * 288
    let c = 0
    let t = 0
    let fired = Infinity
    let passed = Infinity
    const windows = new Float64Array(looks)
    for (let look = 0; look < looks; look++) {
      const level = drift ? 1 + 0.5 * Math.sin((2 * Math.PI * (look + phase)) / 288) : 1
      const cx = binomial(random, controlN, base * level)
      const tx = binomial(random, treatmentN, base * level * (1 + lift))
      c += cx
      t += tx
      windows[look] = tx / treatmentN
      const n = look + 1
      const data = {
        control: { kind: 'rate', count: controlN * n, successes: c },
        treatment: { kind: 'rate', count: treatmentN * n, successes: t },
        users: { control: controlN * n, treatment: treatmentN * n },
        expectedShare: { control: 1 - share, treatment: share }
      }
      if (fired === Infinity && assessGuardrail(guardrail, data).fired) fired = n
      if (passed === Infinity && assessGuardrail(gate, data).gate === 'pass') passed = n
    }
    results.push({ fired, passed, windows })
  }
  return results
}

/** The first look at which the window rate exceeds x, or Infinity. */
function thresholdLook(windows, x) {
  for (let i = 0; i < windows.length; i++) if (windows[i] > x) return i + 1
  return Infinity
}

/** The threshold x at which `share` of these A/A runs ever exceed it. */
function tuneThreshold(aa, rate) {
  const maxima = aa.map(r => Math.max(...r.windows)).sort((a, b) => b - a)
  return maxima[Math.min(maxima.length - 1, Math.floor(rate * maxima.length))]
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

const show = look => (Number.isFinite(look) ? String(look) : `>${looks}`)
const percent = x => `${(x * 100).toFixed(2)}%`

console.log(
  `guardrail vs threshold trigger: ${runs} runs x ${looks} looks (5-minute ticks), ` +
    `${requestsPerLook} requests per look, treatment = ${share * 100}% (canary), alpha = ${alpha}, ` +
    `N* = ${tuning}, trigger margin 0, gate margin ${gateMargin * 100}%`
)
metrics.forEach((metric, m) => {
  for (const drift of [false, true]) {
    const seed = 20261130 + m * 10 + (drift ? 1 : 0)
    const aa = simulate({ base: metric.base, lift: 0, drift, seed })
    const ab = simulate({ base: metric.base, lift: regression, drift, seed: seed + 5 })
    const falseRollback = aa.filter(r => Number.isFinite(r.fired)).length / runs
    const blocked = aa.filter(r => !Number.isFinite(r.passed)).length / runs
    const x = tuneThreshold(aa, Math.max(falseRollback, 1 / runs))
    const thresholdFalse =
      aa.filter(r => Number.isFinite(thresholdLook(r.windows, x))).length / runs
    const guardLooks = ab.map(r => r.fired)
    const thresholdLooks = ab.map(r => thresholdLook(r.windows, x))
    const gMedian = quantile(guardLooks, 0.5)
    const tMedian = quantile(thresholdLooks, 0.5)
    console.log(
      `\n${metric.name} (base ${percent(metric.base)}${drift ? ', daily drift +-50% shared by both groups' : ''})`
    )
    console.log(
      `  A/A false rollback: guardrail ${percent(falseRollback)} ${falseRollback <= alpha ? `(<= alpha ${alpha}: MET)` : '(> alpha: NOT MET)'}` +
        `   threshold ${metric.name} > ${percent(x)} ${percent(thresholdFalse)} (tuned to the same rate, at least 1/runs)`
    )
    console.log(`  A/A advance blocked (gate never passed by look ${looks}): ${percent(blocked)}`)
    console.log(
      `  A/B +${regression * 100}%: rollback look median ${show(gMedian)}, p90 ${show(quantile(guardLooks, 0.9))}` +
        ` (guardrail)   median ${show(tMedian)}, p90 ${show(quantile(thresholdLooks, 0.9))} (threshold)` +
        `   caught in ${looks} looks: ${percent(guardLooks.filter(Number.isFinite).length / runs)} vs ${percent(thresholdLooks.filter(Number.isFinite).length / runs)}`
    )
    const ratio = Number.isFinite(tMedian)
      ? (tMedian / gMedian).toFixed(2)
      : `> ${(looks / gMedian).toFixed(2)}`
    console.log(`  ratio threshold / guardrail median rollback look: ${ratio}`)
    if (drift) {
      const plain = simulate({ base: metric.base, lift: 0, drift: false, seed: seed + 7 })
      const xPlain = tuneThreshold(plain, Math.max(falseRollback, 1 / runs))
      const fooled = aa.filter(r => Number.isFinite(thresholdLook(r.windows, xPlain))).length / runs
      console.log(
        `  a threshold tuned without drift (> ${percent(xPlain)}) falsely rolls back ${percent(fooled)} of drifting A/A runs`
      )
    }
  }
})

// The existing sequential A/A figures (bench:sequential-aa), printed here too.
const aaOptions = { runs: 2000, looks: 100, usersPerLook: 20, tuning: 1000, alpha, seed: 20261127 }
for (const kind of ['rate', 'mean']) {
  const result = simulateAATests({ ...aaOptions, kind })
  console.log(
    `\nsequential A/A (${kind}, ${aaOptions.runs} runs x ${aaOptions.looks} looks): ` +
      `${percent(result.sequentialRejectionRate)} vs naive peeking ${percent(result.fixedHorizonRejectionRate)}`
  )
}
