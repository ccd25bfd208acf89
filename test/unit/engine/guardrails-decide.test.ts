import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import type { MetricReading, State } from '../../../src/engine/types.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { renderReport } from '../../../src/report/markdown.js'
import { renderDecision } from '../../../src/report/text.js'
import { commitMessage, parseTransitionMessage, recordOf } from '../../../src/state/trailers.js'

// decide() with guardrails: a regression is a rollback trigger (or a pause, or only reported),
// too little evidence and no data hold, a sample ratio mismatch holds and alerts, and every report
// shows every guardrail with its numbers.

const policyText = (extra = '') =>
  [
    'feature: checkout',
    'deployment:',
    '  order: [staging, canary, full]',
    '  phases:',
    '    staging: { user_percentage: 100, gates: [] }',
    '    canary: { user_percentage: 10, gates: [] }',
    '    full: { user_percentage: 100 }',
    'guardrails:',
    '  error_rate: { margin: 0.05, minimum_sample_size: 500000 }',
    extra
  ].join('\n')

const NOW = new Date('2026-03-02T12:00:00Z')
const canary = (): State => ({
  feature: 'checkout',
  phase: 'canary',
  enteredAt: '2026-03-02T10:00:00Z',
  enabled: true,
  experiments: {}
})

const groups = (control: [number, number], treatment: [number, number]): MetricReading[] => [
  { metric: 'error_rate', group: 'control', value: control[0], samples: control[1] },
  { metric: 'error_rate', group: 'treatment', value: treatment[0], samples: treatment[1] }
]

const REGRESSED = groups([0.01, 9_000_000], [0.011, 1_000_000])
const SAME = groups([0.01, 9_000_000], [0.01, 1_000_000])

function decideWith(readings: MetricReading[], text = policyText(), state = canary()) {
  const policy = parsePolicyText(text, 'policies/checkout.yaml')
  const decision = decide(
    policy,
    state,
    { readings: [], approvals: [], checks: [], guardrailReadings: readings },
    NOW
  )
  return { policy, state, decision }
}

describe('decide() with guardrails', () => {
  it('rolls back on a regression beyond the margin, the evidence carrying estimate, interval, p and n', () => {
    const { decision } = decideWith(REGRESSED)
    expect(decision.action).toBe('rollback')
    expect(decision.target).toBe('staging')
    const [evidence] = decision.transition!.evidence
    expect(evidence).toMatchObject({
      gate: 'guardrail: error_rate (margin 5.00%)',
      metric: 'error_rate',
      value: 0.1,
      result: 'fired',
      n: { control: 9_000_000, treatment: 1_000_000 }
    })
    // The trailers carry it, and read back the same.
    const message = commitMessage(recordOf('checkout', decision.transition!))
    expect(message).toMatch(
      /Phasegate-Evidence: gate="guardrail: error_rate \(margin 5.00%\)" metric=error_rate value=0.1 .* result=fired interval=0.0641793,0.135821 p=1.12\d*e-17 n=control:9000000,treatment:1000000/
    )
    expect(parseTransitionMessage(message)?.evidence).toEqual([evidence])
  })

  it('waits for approval of the rollback when rollback.manual_approval_required says so', () => {
    const { decision } = decideWith(
      REGRESSED,
      policyText('rollback: { manual_approval_required: true }')
    )
    expect(decision.action).toBe('rollback')
    expect(decision.rollbackNeedsApproval).toBe(true)
  })

  it('advances an A/A with the guardrail passing as a gate', () => {
    const { decision } = decideWith(SAME)
    expect(decision.action).toBe('advance')
    expect(decision.gates).toEqual([
      expect.objectContaining({ type: 'guardrail', outcome: 'pass' })
    ])
  })

  it.each([
    ['no readings at all', []],
    ['no sample count', groups([0.01, 0], [0.01, 0])],
    ['one group missing', groups([0.01, 9_000_000], [0.01, 1_000_000]).slice(0, 1)],
    ['a NaN value', groups([NaN, 9_000_000], [0.01, 1_000_000])],
    ['an impossible rate', groups([1.5, 9_000_000], [0.01, 1_000_000])],
    ['too little data', groups([0.01, 90], [0.01, 10])],
    ['not yet enough evidence', groups([0.01, 900_000], [0.0102, 100_000])]
  ])('holds the advance, never passing, on %s', (_, readings) => {
    const { decision } = decideWith(readings)
    expect(decision.action).toBe('hold')
    expect(decision.holdCause).toBe('gates')
    expect(decision.gates[0]!.outcome).toBe('pending')
  })

  it('a sample ratio mismatch holds and raises an alert, and does not roll back a treatment that looks worse', () => {
    const { decision } = decideWith(groups([0.01, 8_000_000], [0.02, 2_000_000]))
    expect(decision.action).toBe('hold')
    expect(decision.alerts).toEqual([
      expect.objectContaining({
        metric: 'sample_ratio_mismatch',
        severity: 'high',
        message: expect.stringContaining('sample ratio mismatch')
      })
    ])
    expect(decision.triggers.some(t => t.fired)).toBe(false)
  })

  it('raises one sample ratio alert however many guardrails see the split', () => {
    const readings = groups([0.01, 8_000_000], [0.02, 2_000_000])
    const both = [...readings, ...readings.map(r => ({ ...r, metric: 'crash_rate' }))]
    const { decision } = decideWith(both, policyText('  crash_rate: { margin: 0.05 }'))
    expect(decision.gates.map(g => g.outcome)).toEqual(['pending', 'pending'])
    expect(decision.alerts).toHaveLength(1)
  })

  it('on_fire: pause pauses without rolling back; observe reports and advances', () => {
    const paused = decideWith(
      REGRESSED,
      policyText().replace(
        'minimum_sample_size: 500000',
        'minimum_sample_size: 500000, on_fire: pause'
      )
    ).decision
    expect(paused.action).toBe('pause')
    expect(paused.gates[0]).toMatchObject({ type: 'guardrail', outcome: 'fail' })
    expect(paused.triggers[0]).toMatchObject({ status: 'fired', fired: true, onFire: 'pause' })
    const observed = decideWith(
      REGRESSED,
      policyText().replace(
        'minimum_sample_size: 500000',
        'minimum_sample_size: 500000, on_fire: observe'
      )
    ).decision
    expect(observed.action).toBe('advance')
    expect(observed.triggers[0]).toMatchObject({ status: 'fired', onFire: 'observe' })
    expect(observed.reason).toContain('observe-only, nothing rolled back')
  })

  it('is not applied at 100% exposure, and the report says why', () => {
    const staging = { ...canary(), phase: 'staging' }
    const { policy, decision } = decideWith([], policyText(), staging)
    expect(decision.action).toBe('advance')
    expect(decision.triggers).toEqual([
      expect.objectContaining({
        status: 'no_data',
        reason: 'not compared at 100% exposure: there is no control group'
      })
    ])
    expect(renderDecision(policy, staging, decision, NOW)).toContain(
      'not compared at 100% exposure: there is no control group'
    )
  })

  it('the job summary and PR body show the guardrail with its numbers, as gate and as trigger', () => {
    const { policy, state, decision } = decideWith(SAME)
    const report = renderReport({ policy, state, decision })
    const row =
      '| guardrail: error_rate (margin 5.00%) | error_rate | +0.00% [-3.40%, +3.40%]; p 1; n 9000000 control / 1000000 treatment |'
    expect(report).toContain(row)
    expect(report).toContain(
      '| guardrail: error_rate (margin 5.00%) | +0.00% [-3.40%, +3.40%]; p 1; n 9000000 control / 1000000 treatment |'
    )
  })
})

describe('no data is never a pass (property)', () => {
  it('with either group missing, null, non-finite or without samples, the guardrail never lets the rollout advance', () => {
    const broken = fc.oneof(
      fc.constant(undefined),
      fc.record({ value: fc.constant(null), samples: fc.nat() }),
      fc.record({
        value: fc.constantFrom(NaN, Infinity, -Infinity),
        samples: fc.integer({ min: 1, max: 1e7 })
      }),
      fc.record({ value: fc.double({ min: 0, max: 1, noNaN: true }), samples: fc.constant(0) })
    )
    const healthy = fc.record({
      value: fc.constant(0.01),
      samples: fc.integer({ min: 1_000_000, max: 9_000_000 })
    })
    fc.assert(
      fc.property(broken, healthy, fc.boolean(), (bad, good, badIsControl) => {
        const reading = (
          group: string,
          r: { value: number | null; samples: number } | undefined
        ) => (r ? [{ metric: 'error_rate', group, ...r }] : [])
        const readings = [
          ...reading('control', badIsControl ? bad : good),
          ...reading('treatment', badIsControl ? good : bad)
        ]
        const { decision } = decideWith(readings)
        expect(decision.action).toBe('hold')
        expect(decision.gates[0]!.outcome).toBe('pending')
        expect(decision.triggers[0]!.status).toBe('no_data')
      }),
      { numRuns: 200, seed: 13 }
    )
  })
})
