import { describe, expect, it } from 'vitest'
import { approvalRejection, evaluateGate, vouchedApprovals } from '../../../src/engine/gates.js'
import type { Approval, Gate, Observations } from '../../../src/engine/types.js'
import { at, observations, policy, state, T0 } from '../../support/policies.js'

const p = policy('deployment: {}\n')
const s = state(p, 'development')
const run = (gate: Gate, obs: Observations, now = T0) => evaluateGate(gate, s, obs, now)

describe('metrics_threshold', () => {
  const gate: Gate = {
    type: 'metrics_threshold',
    name: 'health',
    thresholds: {
      error_rate: { op: '<', value: 0.01, source: '< 0.01' },
      user_satisfaction: { op: '>', value: 0.95, source: '> 0.95' }
    }
  }

  it('passes when every metric meets its threshold, with the values as evidence', () => {
    const result = run(gate, observations({ error_rate: 0.004, user_satisfaction: 0.97 }))
    expect(result.outcome).toBe('pass')
    expect(result.evidence).toEqual([
      { gate: 'health', metric: 'error_rate', value: 0.004, threshold: '< 0.01', result: 'pass' },
      {
        gate: 'health',
        metric: 'user_satisfaction',
        value: 0.97,
        threshold: '> 0.95',
        result: 'pass'
      }
    ])
  })

  it('fails when one metric misses, naming it', () => {
    const result = run(gate, observations({ error_rate: 0.01, user_satisfaction: 0.97 }))
    expect(result.outcome).toBe('fail')
    expect(result.reason).toBe('error_rate 0.01 is not < 0.01')
  })

  it('is pending, never passing, on missing, null or NaN data', () => {
    expect(run(gate, observations({ error_rate: 0.001 })).outcome).toBe('pending')
    expect(
      run(gate, observations({ error_rate: 0.001, user_satisfaction: null })).reason
    ).toContain('no data for user_satisfaction')
    const nan = run(gate, observations({ error_rate: Number.NaN, user_satisfaction: 0.99 }))
    expect(nan.outcome).toBe('pending')
    expect(nan.reason).toContain('NaN')
  })

  it('fail outranks pending', () => {
    expect(run(gate, observations({ error_rate: 0.5 })).outcome).toBe('fail')
  })

  it('reads a group when the gate names one, and holds off below min_samples', () => {
    const grouped: Gate = {
      ...gate,
      thresholds: { error_rate: gate.thresholds.error_rate! },
      group: 'treatment',
      minSamples: 100
    }
    const obs = observations()
    obs.readings = [
      { metric: 'error_rate', value: 0.5 },
      { metric: 'error_rate', group: 'treatment', value: 0.001, samples: 50 }
    ]
    expect(run(grouped, obs).outcome).toBe('pending')
    expect(run(grouped, obs).reason).toContain('50 samples')
    obs.readings[1]!.samples = 100
    expect(run(grouped, obs).outcome).toBe('pass')
  })
})

describe('manual_approval', () => {
  const gate: Gate = {
    type: 'manual_approval',
    name: 'approval',
    required: 2,
    approvers: ['alice', 'bob', '@acme/sre']
  }

  it('passes with enough approvals from listed approvers, users or team members', () => {
    const result = run(
      gate,
      observations({}, { approvals: [{ user: 'alice' }, { user: 'carol', teams: ['@acme/sre'] }] })
    )
    expect(result.outcome).toBe('pass')
    expect(result.reason).toBe('approved by alice, carol')
  })

  it('is pending with too few, and counts one person once', () => {
    const result = run(
      gate,
      observations({}, { approvals: [{ user: 'alice' }, { user: 'Alice' }] })
    )
    expect(result.outcome).toBe('pending')
    expect(result.reason).toContain('1 of 2 required approvals')
  })

  it('never counts the author, a bot, a stale approval or someone not listed', () => {
    const approvals = [
      { user: 'alice', author: true },
      { user: 'bob', stale: true },
      { user: 'deploy-bot', bot: true, teams: ['@acme/sre'] },
      { user: 'mallory' }
    ]
    const result = run(gate, observations({}, { approvals }))
    expect(result.outcome).toBe('pending')
    expect(result.reason).toContain('0 of 2 required approvals')
    expect(result.reason).toContain('alice (the author of the change)')
    expect(result.reason).toContain('bob (approved an older commit)')
    expect(result.reason).toContain('deploy-bot (a bot)')
    expect(result.reason).toContain('mallory (not a listed approver)')
  })

  it('with no approvers listed, anyone but the author and bots counts', () => {
    const open: Gate = { type: 'manual_approval', name: 'approval', required: 1, approvers: [] }
    expect(run(open, observations({}, { approvals: [{ user: 'anyone' }] })).outcome).toBe('pass')
    expect(run(open, observations({}, { approvals: [{ user: 'me', author: true }] })).outcome).toBe(
      'pending'
    )
  })
})

describe('automated_test', () => {
  const gate: Gate = {
    type: 'automated_test',
    name: 'tests',
    checks: ['e2e', 'smoke'],
    app: 'github-actions'
  }

  it('passes when every named check succeeded', () => {
    const obs = observations(
      {},
      {
        checks: [
          { name: 'e2e', conclusion: 'success' },
          { name: 'smoke', conclusion: 'success' }
        ]
      }
    )
    expect(run(gate, obs).outcome).toBe('pass')
  })

  it('fails on any other conclusion', () => {
    const obs = observations(
      {},
      {
        checks: [
          { name: 'e2e', conclusion: 'failure' },
          { name: 'smoke', conclusion: 'success' }
        ]
      }
    )
    expect(run(gate, obs)).toMatchObject({ outcome: 'fail', reason: 'e2e: failure' })
  })

  it('is pending while a check runs or has not run', () => {
    expect(
      run(
        gate,
        observations(
          {},
          {
            checks: [
              { name: 'e2e', conclusion: null },
              { name: 'smoke', conclusion: 'success' }
            ]
          }
        )
      ).outcome
    ).toBe('pending')
    expect(
      run(gate, observations({}, { checks: [{ name: 'e2e', conclusion: 'success' }] })).reason
    ).toBe('smoke has not run')
  })
})

describe('time_based', () => {
  const gate: Gate = { type: 'time_based', name: 'soak', durationMs: 24 * 3_600_000, source: '24h' }

  it('is pending until the duration has passed, saying how long is left', () => {
    const result = run(gate, observations(), at(6))
    expect(result.outcome).toBe('pending')
    expect(result.reason).toBe('in development for 6h of 24h; 18h to go')
  })

  it('passes at and after the duration', () => {
    expect(run(gate, observations(), at(24)).outcome).toBe('pass')
    expect(run(gate, observations(), at(30)).outcome).toBe('pass')
  })
})

describe('approvalRejection: who counts as an approver', () => {
  const cases: Array<[string, Approval, string[], string | undefined]> = [
    ['write access, no list', { user: 'a', permission: 'write' }, [], undefined],
    [
      'read access, no list',
      { user: 'a', permission: 'read' },
      [],
      'has read permission; approvals need write access'
    ],
    [
      'triage access, listed',
      { user: 'a', permission: 'triage' },
      ['a'],
      'has triage permission; approvals need write access'
    ],
    ['admin, not listed', { user: 'a', permission: 'admin' }, ['b'], 'not a listed approver'],
    [
      'team member without a permission lookup',
      { user: 'a', teams: ['@o/t'] },
      ['@O/T'],
      undefined
    ],
    [
      'unverified',
      { user: 'a', unverified: 'GitHub refused' },
      [],
      'could not be verified: GitHub refused'
    ],
    ['the runner', { user: 'a', runner: true }, [], 'the person running phasegate'],
    ['local approval (vouched)', { user: 'a' }, ['A'], undefined]
  ]
  it.each(cases)('%s', (_, approval, approvers, expected) => {
    expect(approvalRejection(approval, approvers)).toBe(expected)
  })

  it('vouchedApprovals marks bot logins and the runner, case-insensitively', () => {
    expect(vouchedApprovals(['Alice', 'x[bot]', 'carol'], ['alice'])).toEqual([
      { user: 'Alice', runner: true },
      { user: 'x[bot]', bot: true },
      { user: 'carol' }
    ])
  })
})
