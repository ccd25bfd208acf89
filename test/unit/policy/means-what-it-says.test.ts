import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'

// Issue 12, "policies mean what they say": each case is a policy a person could write that
// today's main read differently from what it says. Each must now be refused at its line, with a
// hint, or read as written.

/** The error parsing `text` throws; fails the test when it parses. */
function refusal(text: string): PhasegateError {
  try {
    parsePolicyText(text, 'policies/checkout.yaml')
  } catch (error) {
    if (error instanceof PhasegateError) return error
    throw error
  }
  throw new Error('the policy was accepted')
}

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex(l => l.includes(needle)) + 1
}

describe('a success criterion without a comparison', () => {
  const text = [
    'deployment:',
    '  phases:',
    '    canary:',
    '      success_criteria:',
    '        error_rate: "< 0.01"',
    '        user_satisfaction: 0.95',
    ''
  ].join('\n')

  it('is refused at its line, with a hint showing both quoted forms', () => {
    const error = refusal(text)
    expect(error.location).toMatchObject({
      file: 'policies/checkout.yaml',
      line: lineOf(text, 'user_satisfaction')
    })
    expect(error.message).toMatch(/0\.95 has no comparison/)
    expect(error.hint).toContain('"> 0.95"')
    expect(error.hint).toContain('"< 0.95"')
  })

  it('is refused in a metrics_threshold gate too, also when written with a unit', () => {
    const gate = [
      'deployment:',
      '  phases:',
      '    canary:',
      '      gates:',
      '        - type: metrics_threshold',
      '          thresholds:',
      '            response_time: 5000ms',
      ''
    ].join('\n')
    const error = refusal(gate)
    expect(error.location?.line).toBe(lineOf(gate, 'response_time'))
    expect(error.hint).toContain('"< 5000ms"')
  })
})

describe('which way is worse (a property of the metric, not of the threshold order)', () => {
  const alert = (metric: string, warning: number, critical: number, definitions = '') =>
    [
      'deployment:',
      '  phases:',
      '    canary: { user_percentage: 1 }',
      'monitoring:',
      '  alerts:',
      `    ${metric}:`,
      `      warning: ${warning}`,
      `      critical: ${critical}`,
      ...(definitions ? ['metrics:', '  definitions:', definitions] : []),
      ''
    ].join('\n')

  it('refuses an error_rate alert with critical below warning, at the critical line', () => {
    // Before: read as "lower is worse": an error rate of 0 raised a critical alert.
    const text = alert('error_rate', 0.02, 0.01)
    const error = refusal(text)
    expect(error.location?.line).toBe(lineOf(text, 'critical:'))
    expect(error.message).toMatch(
      /critical 0\.01 is below warning 0\.02, but a higher error_rate is worse/
    )
    expect(error.hint).toMatch(/swap them/)
  })

  it('refuses a satisfaction alert written the higher-is-worse way round', () => {
    const error = refusal(alert('user_satisfaction', 0.8, 0.9))
    expect(error.message).toMatch(/a lower user_satisfaction is worse/)
  })

  it('asks to declare the direction of a metric it does not know', () => {
    const text = alert('queue_depth', 100, 500)
    const error = refusal(text)
    expect(error.location?.line).toBe(lineOf(text, 'queue_depth:'))
    expect(error.hint).toMatch(/direction: higher_is_worse/)
  })

  it('reads a declared direction, over a known name too', () => {
    const declared = parsePolicyText(
      alert(
        'queue_depth',
        100,
        500,
        '    queue_depth: { direction: higher_is_worse, kind: count }'
      ),
      'policies/checkout.yaml'
    )
    expect(declared.alerts[0]).toMatchObject({ direction: 'higher_is_worse' })
    expect(declared.metricDefinitions.queue_depth).toEqual({
      direction: 'higher_is_worse',
      kind: 'count'
    })
    const inverted = parsePolicyText(
      alert('error_budget', 0.5, 0.2, '    error_budget: { direction: lower_is_worse }'),
      'policies/checkout.yaml'
    )
    expect(inverted.alerts[0]).toMatchObject({ direction: 'lower_is_worse' })
  })

  it('refuses a definition that says nothing, and an unknown direction', () => {
    const empty = refusal(alert('error_rate', 0.01, 0.02, '    error_rate: {}'))
    expect(empty.message).toMatch(/says nothing/)
    const unknown = refusal(alert('error_rate', 0.01, 0.02, '    error_rate: { direction: up }'))
    expect(unknown.message).toMatch(/higher_is_worse/)
  })
})

describe("defaults apply to the seed's own ladder only", () => {
  it('a custom ladder must state each phase user_percentage (no silent 100%)', () => {
    const text = [
      'deployment:',
      '  order: [dev, canary, full]',
      '  phases:',
      '    dev: { user_percentage: 100 }',
      '    canary:',
      '      duration: 24h',
      '    full: { user_percentage: 100 }',
      ''
    ].join('\n')
    const error = refusal(text)
    expect(error.location?.line).toBe(lineOf(text, 'canary:'))
    expect(error.message).toMatch(/phase "canary" has no user_percentage/)
    expect(error.hint).toMatch(/user_percentage: <0-100>/)
  })

  it('a phase of a custom ladder not written at all is pointed at in deployment.order', () => {
    const text = 'deployment:\n  order: [beta, ga]\n  phases:\n    ga: { user_percentage: 100 }\n'
    const error = refusal(text)
    expect(error.location).toMatchObject({ line: 2 })
    expect(error.message).toMatch(/phase "beta" has no user_percentage/)
  })

  it("the seed's phase names in another order are another ladder", () => {
    const error = refusal('deployment:\n  order: [canary, full_production]\n')
    expect(error.message).toMatch(/phase "canary" has no user_percentage/)
  })

  it('records where each phase setting came from', () => {
    const seedLadder = parsePolicyText(
      'deployment:\n  phases:\n    canary: { user_percentage: 2 }\n',
      'policies/checkout.yaml'
    )
    expect(seedLadder.phases[2]!.origins).toEqual({
      userPercentage: 'policy',
      featureFlags: 'seed default',
      monitoringLevel: 'seed default'
    })
    const custom = parsePolicyText(
      'deployment:\n  order: [beta, ga]\n  phases:\n    beta: { user_percentage: 5 }\n    ga: { user_percentage: 100, monitoring_level: error }\n',
      'policies/checkout.yaml'
    )
    expect(custom.phases.map(p => [p.featureFlags, p.monitoringLevel, p.origins])).toEqual([
      [
        [],
        'info',
        { userPercentage: 'policy', featureFlags: 'default', monitoringLevel: 'default' }
      ],
      [
        [],
        'error',
        { userPercentage: 'policy', featureFlags: 'default', monitoringLevel: 'policy' }
      ]
    ])
  })
})

describe('metrics no query can produce (kind 6)', () => {
  const prometheus = (body: string) =>
    [
      'deployment:',
      '  phases:',
      '    canary:',
      '      user_percentage: 1',
      body,
      'metrics:',
      '  provider: prometheus',
      '  url: http://127.0.0.1:9',
      '  queries:',
      '    error_rate: sum(rate(errors[5m]))',
      '    response_time: avg(latency)',
      ''
    ].join('\n')

  it.each([
    ['a success criterion', '      success_criteria:\n        eror_rate: "< 0.01"', 'eror_rate:'],
    [
      'a rollback trigger',
      'rollback:\n  automatic_triggers:\n    - eror_rate > 0.02\n    - system_failure',
      'eror_rate > 0.02'
    ],
    [
      'an alert',
      'monitoring:\n  alerts:\n    eror_rate: { warning: 0.01, critical: 0.02 }',
      'eror_rate:'
    ],
    [
      'a gate',
      '      gates:\n        - type: metrics_threshold\n          thresholds: { respone_time: "< 500" }',
      'respone_time'
    ]
  ])('%s on a misspelt metric is refused at its line, with a did-you-mean', (_, body, needle) => {
    const text = prometheus(body)
    const error = refusal(text)
    expect(error.location?.line).toBe(lineOf(text, needle))
    expect(error.message).toMatch(/no query in metrics\.queries/)
    expect(error.message).toMatch(/did you mean "(error_rate|response_time)"\?/)
  })

  it('a derived performance_degradation and a system_failure trigger need no query', () => {
    const text = prometheus(
      'rollback:\n  automatic_triggers:\n    - performance_degradation > 0.3\n    - system_failure'
    ).replace(
      '  queries:',
      '  performance_degradation: { latency: response_time, baseline_offset: 1d }\n  queries:'
    )
    expect(() => parsePolicyText(text, 'policies/checkout.yaml')).not.toThrow()
  })
})

describe('for: on the file provider (kind 5)', () => {
  it('is accepted with a notice at the window saying the snapshot needs timestamped points', () => {
    const text = [
      'deployment:',
      '  phases:',
      '    canary: { user_percentage: 1 }',
      'rollback:',
      '  automatic_triggers:',
      '    - when: error_rate > 0.02',
      '      for: 10m',
      ''
    ].join('\n')
    const policy = parsePolicyText(text, 'policies/checkout.yaml')
    expect(policy.notices).toEqual([
      expect.stringMatching(
        /^policies\/checkout\.yaml:7:12: rollback\.automatic_triggers\.0\.for: the file provider can judge this window only from timestamped points: give error_rate a series:/
      )
    ])
  })
})
