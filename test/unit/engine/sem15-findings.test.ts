import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import type { MetricReading, State } from '../../../src/engine/types.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { renderReport } from '../../../src/report/markdown.js'
import { renderDecision } from '../../../src/report/text.js'

// A guardrail's on_fire, seen through decide() and the reports: it does what it says (pause means
// a pause, as on a trigger) and every report says what it does when it fires.

const NOW = new Date('2026-03-02T12:00:00Z')
const CANARY: State = {
  feature: 'checkout',
  phase: 'canary',
  enteredAt: '2026-03-02T10:00:00Z',
  enabled: true,
  experiments: {}
}
/** docs/guardrails.md's regression: the treatment's error rate 10% above control's. */
const REGRESSED: MetricReading[] = [
  { metric: 'error_rate', group: 'control', value: 0.01, samples: 9_000_000 },
  { metric: 'error_rate', group: 'treatment', value: 0.011, samples: 1_000_000 }
]

function run(onFire: 'observe' | 'pause' | 'rollback', state: State = CANARY) {
  const policy = parsePolicyText(
    [
      'feature: checkout',
      'deployment:',
      '  order: [staging, canary, full]',
      '  phases:',
      '    staging: { user_percentage: 100, gates: [] }',
      '    canary: { user_percentage: 10, gates: [] }',
      '    full: { user_percentage: 100 }',
      'guardrails:',
      `  error_rate: { margin: 0.05, minimum_sample_size: 500000, on_fire: ${onFire} }`
    ].join('\n'),
    'policies/checkout.yaml'
  )
  const decision = decide(
    policy,
    state,
    { readings: [], approvals: [], checks: [], guardrailReadings: REGRESSED },
    NOW
  )
  return {
    decision,
    text: renderDecision(policy, state, decision, NOW),
    markdown: renderReport({ policy, state, decision })
  }
}

describe('every report says what each guardrail does when it fires', () => {
  for (const onFire of ['observe', 'pause'] as const) {
    it(`a guardrail with on_fire: ${onFire} is not reported as "every trigger rolls back"`, () => {
      const { text, markdown } = run(onFire)
      expect(text).toContain('guardrail: error_rate')
      expect(text).not.toContain('on fire: every trigger rolls back')
      expect(markdown).not.toContain('On fire: every trigger rolls back')
      const says = onFire === 'pause' ? 'pauses the rollout' : 'observe-only'
      expect(text).toMatch(
        new RegExp(`on fire: guardrail: error_rate \\(margin 5\\.00%\\) ${says}`)
      )
      expect(markdown).toMatch(
        new RegExp(`On fire: guardrail: error_rate \\(margin 5\\.00%\\) ${says}`)
      )
    })
  }

  for (const onFire of ['observe', 'pause', 'rollback'] as const)
    it(`the decision (what --json prints) carries on_fire: ${onFire} on the guardrail's row`, () => {
      const { decision } = run(onFire)
      const row = decision.triggers.find(t => t.trigger.startsWith('guardrail: error_rate'))
      expect(row?.onFire).toBe(onFire)
    })
})

describe('on_fire: pause means one thing wherever it is written', () => {
  it('a fired guardrail with on_fire: pause pauses the rollout, as a trigger with on_fire: pause does', () => {
    const { decision } = run('pause')
    expect(decision.action).toBe('pause')
    expect(decision.transition?.kind).toBe('pause')
  })

  it('an already paused rollout whose guardrail still fires with on_fire: pause holds, paused', () => {
    const paused: State = { ...CANARY, paused: { at: '2026-03-02T11:00:00Z', reason: 'x' } }
    const { decision } = run('pause', paused)
    expect(decision.action).toBe('hold')
    expect(decision.holdCause).toBe('paused')
  })

  it('a fired guardrail with on_fire: observe rolls nothing back and says so', () => {
    const { decision } = run('observe')
    expect(decision.action).not.toBe('rollback')
    expect(decision.action).not.toBe('pause')
    expect(decision.reason).toContain('observe-only')
  })

  it('a fired guardrail with on_fire: rollback still rolls back', () => {
    expect(run('rollback').decision.action).toBe('rollback')
  })
})
