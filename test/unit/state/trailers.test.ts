import { describe, expect, it } from 'vitest'
import {
  commitMessage,
  parseTransitionMessage,
  type TransitionRecord
} from '../../../src/state/trailers.js'

const record: TransitionRecord = {
  feature: 'checkout',
  kind: 'rollback',
  from: 'canary',
  to: 'staging',
  reason: 'automatic rollback:\nerror_rate 0.05 breaches > 0.02',
  approvers: [],
  operator: 'olga',
  reverts: '2bd61b986ae2ce673497ede0ef90116e6b529710',
  evidence: [
    {
      gate: 'trigger: error_rate > 0.02',
      metric: 'error_rate',
      value: 0.05,
      threshold: '> 0.02',
      result: 'fired'
    },
    { gate: 'approval', value: null, threshold: '>= 1 approvals', result: 'pending' },
    {
      gate: 'tests',
      metric: 'e2e "suite"',
      value: 'in progress',
      threshold: 'success',
      result: 'pending'
    }
  ]
}

describe('commit trailers', () => {
  it('round-trip every field, with the reason on one line', () => {
    const parsed = parseTransitionMessage(commitMessage(record))
    expect(parsed).toEqual({
      ...record,
      reason: 'automatic rollback: error_rate 0.05 breaches > 0.02'
    })
  })

  it('a rollback reads as a git revert naming the commit it undoes', () => {
    const message = commitMessage(record)
    expect(message.split('\n')[0]).toBe('Revert "phasegate(checkout): advance staging -> canary"')
    expect(message).toContain('This reverts commit 2bd61b986ae2ce673497ede0ef90116e6b529710.')
  })

  it('ignores commits that are not phasegate transitions', () => {
    expect(parseTransitionMessage('fix: typo\n\nSigned-off-by: a <a@b>\n')).toBeUndefined()
    expect(
      parseTransitionMessage(
        'x\n\nPhasegate-Feature: f\nPhasegate-Kind: teleport\nPhasegate-From: a\nPhasegate-To: b\n'
      )
    ).toBeUndefined()
  })
})
