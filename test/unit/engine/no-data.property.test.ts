import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import { metricTriggers } from '../../../src/engine/triggers.js'
import type { MetricReading, Observations } from '../../../src/engine/types.js'
import { renderReport } from '../../../src/report/markdown.js'
import { renderDecision } from '../../../src/report/text.js'
import { inputsArb, METRICS } from '../../support/arbitraries.js'

// Over random policies and readings: a metric whose reading is missing, NaN, infinite or
// impossible never makes a gate pass or a trigger report pass (or fire), and every report of the
// decision lists every trigger of the policy.

const RUNS = { numRuns: 500 }

type Badness = 'missing' | 'nan' | 'inf' | 'negative' | 'above_one'

/** Which ways a metric's reading can be bad: impossible values only where the name knows them. */
function badnessFor(metric: string): Badness[] {
  const always: Badness[] = ['missing', 'nan', 'inf']
  if (metric === 'error_rate') return [...always, 'negative', 'above_one']
  if (metric === 'latency') return [...always, 'negative']
  return always
}

const BAD_VALUE: Record<Exclude<Badness, 'missing'>, number> = {
  nan: Number.NaN,
  inf: Infinity,
  negative: -0.5,
  above_one: 1.5
}

const badMetrics = fc
  .subarray(METRICS, { minLength: 1 })
  .chain(metrics =>
    fc.tuple(...metrics.map(m => fc.constantFrom(...badnessFor(m)).map(b => [m, b] as const)))
  )

/** The observations with every reading of each bad metric (all groups) made bad that way. */
function spoil(obs: Observations, bad: ReadonlyArray<readonly [string, Badness]>): Observations {
  const how = new Map(bad)
  const readings: MetricReading[] = []
  for (const r of obs.readings) {
    const b = how.get(r.metric)
    if (!b) readings.push(r)
    else if (b !== 'missing') readings.push({ ...r, value: BAD_VALUE[b] })
  }
  return { ...obs, readings }
}

describe('no data is never a pass', () => {
  it('a missing, non-finite or impossible reading never passes a gate or a trigger', () => {
    fc.assert(
      fc.property(inputsArb(), badMetrics, (inputs, bad) => {
        const obs = spoil(inputs.observations, bad)
        const d = decide(inputs.policy, inputs.state, obs, inputs.now)
        const spoilt = new Set(bad.map(([m]) => m))
        for (const gate of d.gates) {
          for (const e of gate.evidence) {
            const metric = e.metric?.replace(/\[.*\]$/, '')
            if (gate.type !== 'metrics_threshold' || !metric || !spoilt.has(metric)) continue
            expect(e.result).toBe('pending')
            expect(e.value).toBeNull()
            expect(gate.outcome).not.toBe('pass')
          }
        }
        for (const t of d.triggers) {
          for (const e of t.evidence) {
            expect(e.result).not.toBe('pass')
            if (e.metric && spoilt.has(e.metric)) {
              expect(t.status).toBe('no_data')
              expect(t.fired).toBe(false)
            }
          }
        }
        if (d.action === 'advance') {
          for (const e of d.transition!.evidence) expect(e.result).toBe('pass')
        }
      }),
      RUNS
    )
  })

  it('every trigger of the policy is in the decision and in both reports', () => {
    fc.assert(
      fc.property(inputsArb(), badMetrics, (inputs, bad) => {
        const d = decide(inputs.policy, inputs.state, spoil(inputs.observations, bad), inputs.now)
        const phase = inputs.policy.phases.find(p => p.name === inputs.state.phase)!
        const expected = [
          ...metricTriggers(inputs.policy, phase).map(c => c.source),
          ...inputs.policy.triggers
            .filter(t => t.kind === 'system_failure')
            .map(() => 'system_failure')
        ]
        expect(d.triggers.map(t => t.trigger).sort()).toEqual(expected.sort())
        const text = renderDecision(inputs.policy, inputs.state, d, inputs.now)
        const md = renderReport({ policy: inputs.policy, state: inputs.state, decision: d })
        for (const t of d.triggers) {
          expect(text).toContain(t.trigger)
          expect(md).toContain(t.trigger)
        }
      }),
      RUNS
    )
  })
})
