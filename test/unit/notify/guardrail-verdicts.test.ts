import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import type { MetricReading, State } from '../../../src/engine/types.js'
import { guardrailVerdictEvents, routes } from '../../../src/notify/events.js'
import { parsePolicyText } from '../../../src/policy/load.js'

// The guardrail_verdict notification: a guardrail's conclusive verdict (worse than control beyond
// its margin, or not worse: its gate passed), told once per record; inconclusive ones say nothing.

const policyText = (onFire = 'rollback') =>
  [
    'feature: checkout',
    'deployment:',
    '  order: [staging, canary, full]',
    '  phases:',
    '    staging: { user_percentage: 100, gates: [] }',
    '    canary: { user_percentage: 10, gates: [] }',
    '    full: { user_percentage: 100 }',
    'guardrails:',
    `  error_rate: { margin: 0.05, minimum_sample_size: 500000, on_fire: ${onFire} }`,
    'rollback:',
    '  emergency_contacts: [{ team: sre, oncall: true }]'
  ].join('\n')

const canary: State = {
  feature: 'checkout',
  phase: 'canary',
  enteredAt: '2026-03-02T10:00:00Z',
  enabled: true,
  experiments: {}
}
const groups = (control: [number, number], treatment: [number, number]): MetricReading[] => [
  { metric: 'error_rate', group: 'control', value: control[0], samples: control[1] },
  { metric: 'error_rate', group: 'treatment', value: treatment[0], samples: treatment[1] }
]
const NOW = new Date('2026-03-02T12:00:00Z')

function verdicts(readings: MetricReading[], onFire?: string) {
  const policy = parsePolicyText(policyText(onFire), 'policies/checkout.yaml')
  const decision = decide(
    policy,
    canary,
    { readings: [], approvals: [], checks: [], guardrailReadings: readings },
    NOW
  )
  return guardrailVerdictEvents(policy, decision, { record: 'abc123', at: NOW.toISOString() })
}

describe('guardrailVerdictEvents', () => {
  it('a regression beyond the margin is a high "worse" verdict with its interval', () => {
    const [event, ...rest] = verdicts(groups([0.01, 9_000_000], [0.011, 1_000_000]))
    expect(rest).toEqual([])
    expect(event).toMatchObject({
      kind: 'guardrail_verdict',
      severity: 'high',
      feature: 'checkout',
      title: 'checkout: guardrail: error_rate (margin 5.00%): worse than control',
      key: 'checkout:guardrail_verdict:guardrail: error_rate (margin 5.00%):worse:abc123',
      oncall: []
    })
    expect(event!.facts).toContainEqual(['Verdict', 'worse'])
    expect(event!.facts.find(([label]) => label === 'Interval')).toBeDefined()
  })

  it('an observe-only guardrail that fires is still a "worse" verdict', () => {
    const [event] = verdicts(groups([0.01, 9_000_000], [0.011, 1_000_000]), 'observe')
    expect(event).toMatchObject({ severity: 'high', title: expect.stringContaining('worse') })
  })

  it('a guardrail whose gate passed is a medium "not worse" verdict', () => {
    const [event] = verdicts(groups([0.01, 9_000_000], [0.01, 1_000_000]))
    expect(event).toMatchObject({
      severity: 'medium',
      title: 'checkout: guardrail: error_rate (margin 5.00%): not worse than control'
    })
  })

  it.each([
    ['no readings', []],
    ['too little data', groups([0.01, 90], [0.01, 10])],
    ['not yet enough evidence', groups([0.01, 900_000], [0.0102, 100_000])]
  ])('an inconclusive guardrail (%s) says nothing', (_, readings) => {
    expect(verdicts(readings)).toEqual([])
  })

  it('reaches a target that lists guardrail_verdict, and not one that does not', () => {
    const [event] = verdicts(groups([0.01, 9_000_000], [0.011, 1_000_000]))
    const target = (events: Array<'guardrail_verdict' | 'rollback'>) => ({
      name: 't',
      type: 'webhook' as const,
      urlSecret: 'X',
      events,
      minSeverity: 'medium' as const
    })
    expect(routes(target(['guardrail_verdict']), event!)).toBe(true)
    expect(routes(target(['rollback']), event!)).toBe(false)
  })
})
