import { describe, expect, it } from 'vitest'
import { parseStateText, renderState } from '../../../src/state/file.js'
import { seedPolicy, state } from '../../support/policies.js'

const policy = seedPolicy()

describe('state files', () => {
  it('a new file says who writes it and reads back to the same state', () => {
    const s = state(policy, 'canary', {
      lastTransition: {
        kind: 'advance',
        from: 'staging',
        to: 'canary',
        at: '2026-03-02T11:00:00.000Z',
        reason: 'ok',
        approvers: ['bob'],
        evidence: [{ gate: 'approval', value: 'bob', result: 'pass' }]
      }
    })
    const text = renderState(s)
    expect(text).toMatch(
      /^# phasegate state for "production_deployment"\. Written only by phasegate/
    )
    expect(parseStateText(text, 'state.yaml', policy)).toEqual(s)
  })

  it("a guardrail rollback's evidence (interval, p-value, n) is written and read back", () => {
    const s = state(policy, 'staging', {
      lastTransition: {
        kind: 'rollback',
        from: 'canary',
        to: 'staging',
        at: '2026-03-02T11:00:00.000Z',
        reason: 'guardrail',
        approvers: [],
        evidence: [
          {
            gate: 'guardrail: error_rate (margin 5.00%)',
            metric: 'error_rate',
            value: 0.1,
            threshold: '<= +0.05 vs control (alpha 0.05)',
            result: 'fired',
            interval: [0.0641793, 0.135821],
            pValue: 1.12e-17,
            n: { control: 9_000_000, treatment: 1_000_000 }
          }
        ]
      }
    })
    expect(parseStateText(renderState(s), 'state.yaml', policy)).toEqual(s)
  })

  it('rewrites only what changed, keeping comments and key order', () => {
    const before =
      '# keep me\nfeature: production_deployment\nphase: staging # where we are\nentered_at: 2026-03-02T09:00:00.000Z\nenabled: true\n'
    const after = renderState(
      { ...state(policy, 'canary'), enteredAt: '2026-03-02T09:00:00.000Z' },
      before
    )
    expect(after).toBe(before.replace('phase: staging', 'phase: canary'))
  })

  it('reads every time with the one instant parser and holds it as canonical UTC', () => {
    const text =
      'feature: production_deployment\nphase: canary\nentered_at: 2026-03-02 10:00:00+01:00\nenabled: true\n' +
      'paused: {at: 2026-03-02t09:30:00z, reason: look}\n'
    const read = parseStateText(text, 'state.yaml', policy)
    expect(read.enteredAt).toBe('2026-03-02T09:00:00.000Z')
    expect(read.paused?.at).toBe('2026-03-02T09:30:00.000Z')
  })

  it('rejects a phase the policy does not have, pointing at the line', () => {
    const text =
      'feature: production_deployment\nphase: canery\nentered_at: 2026-03-02T09:00:00.000Z\nenabled: true\n'
    expect(() => parseStateText(text, 'state.yaml', policy)).toThrow(
      /unknown phase "canery" \(did you mean "canary"\?\)/
    )
    try {
      parseStateText(text, 'state.yaml', policy)
    } catch (error) {
      expect((error as { format(): string }).format()).toMatch(/^state\.yaml:2:8: /)
    }
  })
})

describe('rewriting a multi-line value', () => {
  it('a block scalar replaced by a blank single-line value reads back exactly (found by the round-trip property)', () => {
    const first = state(policy, 'development', {
      enabled: false,
      lastTransition: {
        kind: 'advance',
        from: 'development',
        to: 'development',
        at: '2020-01-01T00:00:00.000Z',
        reason: '1.0',
        approvers: [],
        operator: 'line one\nline two',
        evidence: []
      }
    })
    const second = { ...first, lastTransition: { ...first.lastTransition!, operator: ' ' } }
    const text = renderState(second, renderState(first))
    expect(parseStateText(text, 'state.yaml', policy)).toEqual(second)
  })
})
