import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'

// The policy's notifications section: parsed once into targets, and every mistake refused at its
// line with a hint.

const BASE = ['deployment:', '  phases:', '    canary: {}', 'notifications:']

function parse(lines: string[]) {
  return parsePolicyText([...BASE, ...lines, ''].join('\n'), 'policies/checkout.yaml')
}

function refusal(lines: string[]): PhasegateError {
  try {
    parse(lines)
  } catch (error) {
    if (error instanceof PhasegateError) return error
    throw error
  }
  throw new Error('the policy was accepted')
}

describe('notifications in the policy', () => {
  it('reads targets with their defaults: every event, medium and up, 5s, 2 retries', () => {
    const policy = parse([
      '  targets:',
      '    - name: sre',
      '      type: slack',
      '      url_secret: SLACK_URL',
      '    - name: audit',
      '      type: webhook',
      '      url_secret: AUDIT_URL',
      '      signing_secret: AUDIT_KEY',
      '      events: [rollback, emergency_rollback]',
      '      min_severity: high'
    ])
    expect(policy.notifications).toMatchObject({ timeoutMs: 5000, retries: 2 })
    expect(policy.notifications!.targets[0]).toMatchObject({
      name: 'sre',
      type: 'slack',
      urlSecret: 'SLACK_URL',
      minSeverity: 'medium'
    })
    expect(policy.notifications!.targets[0]!.events).toContain('alert_escalated')
    expect(policy.notifications!.targets[1]).toMatchObject({
      signingSecret: 'AUDIT_KEY',
      events: ['rollback', 'emergency_rollback'],
      minSeverity: 'high'
    })
  })

  it.each([
    [['      min_severity: low'], 'low-severity events are log only', 'min_severity'],
    [['      events: [rollbak]'], 'expected one of "advance_proposed"', 'events'],
    [['      signing_secret: KEY'], 'a slack target is not signed', 'signing_secret'],
    [['      timeout: 5s'], 'unknown key', 'timeout']
  ])('refuses %j at its line', (extra, message, key) => {
    const lines = [
      '  targets:',
      '    - name: sre',
      '      type: slack',
      '      url_secret: SLACK_URL',
      ...extra
    ]
    const error = refusal(lines)
    expect(error.message).toContain(message)
    expect(error.location?.line).toBe(BASE.length + lines.findIndex(l => l.includes(key)) + 1)
  })

  it('refuses a URL written where a secret NAME belongs, and an unbounded timeout', () => {
    expect(
      refusal([
        '  targets:',
        '    - name: sre',
        '      type: teams',
        '      url_secret: https://example.invalid/hook'
      ]).message
    ).toContain('a secret is named like an environment variable')
    expect(
      refusal([
        '  timeout: 5m',
        '  targets:',
        '    - { name: sre, type: teams, url_secret: TEAMS_URL }'
      ]).message
    ).toContain('at most 30s')
  })
})
