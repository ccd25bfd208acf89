import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { evaluateGate } from '../../../src/engine/gates.js'
import type {
  Comparator,
  MetricReading,
  MetricsThresholdGate,
  State
} from '../../../src/engine/types.js'

// Issue 12's property, gate half: a metric whose reading is missing, null or not a finite number
// never makes a metrics_threshold gate pass, whatever its threshold and whatever the other metrics
// read. (The triggers half is in the report work.)

const RUNS = { numRuns: 300, seed: 1212 }
const METRICS = ['error_rate', 'latency', 'user_satisfaction', 'accuracy']
const OPS: Comparator[] = ['<', '<=', '>', '>=', '==']
const STATE: State = {
  feature: 'checkout',
  phase: 'canary',
  enteredAt: '2026-03-02T09:00:00.000Z',
  enabled: true,
  experiments: {}
}

const threshold = fc
  .record({ op: fc.constantFrom(...OPS), value: fc.double({ min: -10, max: 10, noNaN: true }) })
  .map(({ op, value }) => ({ op, value, source: `${op} ${value}` }))

const gate: fc.Arbitrary<MetricsThresholdGate> = fc
  .uniqueArray(fc.constantFrom(...METRICS), { minLength: 1, maxLength: 4 })
  .chain(metrics =>
    fc.tuple(...metrics.map(() => threshold)).map(ts => ({
      type: 'metrics_threshold' as const,
      name: 'criteria',
      thresholds: Object.fromEntries(metrics.map((m, i) => [m, ts[i]!]))
    }))
  )

/** What a provider may hand over for a metric it could not read. */
const unusable = fc.constantFrom('missing', 'null', NaN, Infinity, -Infinity)

describe('no data never passes a gate', () => {
  it('a missing, null or non-finite reading of any gated metric keeps the gate from passing', () => {
    fc.assert(
      fc.property(
        gate,
        fc.nat(),
        unusable,
        fc.double({ min: -10, max: 10, noNaN: true }),
        (g, pick, bad, good) => {
          const metrics = Object.keys(g.thresholds)
          const broken = metrics[pick % metrics.length]!
          const readings: MetricReading[] = metrics.flatMap(metric => {
            if (metric !== broken) return [{ metric, value: good }]
            if (bad === 'missing') return []
            return [{ metric, value: bad === 'null' ? null : (bad as number) }]
          })
          const result = evaluateGate(
            g,
            STATE,
            { readings, approvals: [], checks: [] },
            new Date('2026-03-02T10:00:00Z')
          )
          expect(result.outcome).not.toBe('pass')
          const evidence = result.evidence.find(e => e.metric === broken)!
          expect(evidence.result).toBe('pending')
          expect(evidence.value).toBeNull()
        }
      ),
      RUNS
    )
  })
})
