import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'

// The guardrails block: direction and kind come from metrics.definitions (one declaration), and
// every mistake is refused at its line with a hint.

function refusal(text: string): PhasegateError {
  try {
    parsePolicyText(text, 'policies/checkout.yaml')
  } catch (error) {
    if (error instanceof PhasegateError) return error
    throw error
  }
  throw new Error('the policy was accepted')
}

const lineOf = (text: string, needle: string) =>
  text.split('\n').findIndex(l => l.includes(needle)) + 1

const policy = (...lines: string[]) =>
  ['deployment:', '  phases:', '    canary: { user_percentage: 5 }', ...lines, ''].join('\n')

describe('guardrails in the policy', () => {
  it('reads direction and kind from metrics.definitions, with the defaults', () => {
    const parsed = parsePolicyText(
      policy(
        'metrics:',
        '  definitions:',
        '    checkout_time: { direction: higher_is_worse, kind: mean }',
        '    conversion: { direction: lower_is_worse }',
        'guardrails:',
        '  checkout_time: { margin: 0.1, on_fire: pause }',
        '  conversion: { margin: 0.02, alpha: 0.01, minimum_sample_size: 1000 }',
        '  error_rate: { margin: 0.05 }'
      ),
      'policies/checkout.yaml'
    )
    expect(parsed.guardrails).toEqual([
      {
        metric: 'checkout_time',
        worse: 'increase',
        margin: 0.1,
        alpha: 0.05,
        tuning: 20_000,
        onFire: 'pause',
        kind: 'mean'
      },
      {
        metric: 'conversion',
        worse: 'decrease',
        margin: 0.02,
        alpha: 0.01,
        tuning: 2000,
        onFire: 'rollback'
      },
      // A known name brings its direction and kind.
      {
        metric: 'error_rate',
        worse: 'increase',
        margin: 0.05,
        alpha: 0.05,
        tuning: 20_000,
        onFire: 'rollback',
        kind: 'rate'
      }
    ])
  })

  it('refuses a metric whose direction nobody declared, at its key, with the declaration to add', () => {
    const text = policy('guardrails:', '  basket_size: { margin: 0.05 }')
    const error = refusal(text)
    expect(error.location).toMatchObject({ line: lineOf(text, 'basket_size'), col: 3 })
    expect(error.message).toContain('whether a higher or a lower basket_size is worse')
    expect(error.hint).toContain('definitions: { basket_size: { direction: higher_is_worse } }')
  })

  it.each([
    ['an unknown on_fire', '  error_rate: { margin: 0.05, on_fire: revert }', 'on_fire'],
    ['a negative margin', '  error_rate: { margin: -0.05 }', 'margin'],
    ['a missing margin', '  error_rate: { alpha: 0.05 }', 'error_rate'],
    ['alpha of 1', '  error_rate: { margin: 0.05, alpha: 1 }', 'alpha'],
    ['a key that does nothing', '  error_rate: { margin: 0.05, marign: 0.1 }', 'marign']
  ])('refuses %s at its line', (_, line, needle) => {
    const text = policy('guardrails:', line)
    const error = refusal(text)
    expect(error.location?.line).toBe(lineOf(text, needle))
  })

  it('refuses a guardrail on a metric the provider has no query for (Prometheus reads per group)', () => {
    const text = policy(
      'metrics:',
      '  provider: prometheus',
      '  url: http://127.0.0.1:9',
      '  group_queries: { error_rate: "x" }',
      'guardrails:',
      '  latency: { margin: 0.05 }'
    )
    expect(refusal(text).location?.line).toBe(lineOf(text, '  latency'))
    expect(() =>
      parsePolicyText(text.replace('  latency:', '  error_rate:'), 'policies/checkout.yaml')
    ).not.toThrow()
  })
})

describe("an experiment's metric_kinds: one declaration with metrics.definitions", () => {
  const experiment = (kinds: string, ...more: string[]) =>
    policy(
      ...more,
      'experiments:',
      '  e:',
      '    groups: { control: { weight: 50 }, treatment: { weight: 50 } }',
      '    success_metrics: [checkout_time]',
      `    metric_kinds: ${kinds}`
    )

  it('is read as metrics.definitions.<metric>.kind, with a notice at the old key saying where it moved', () => {
    const text = experiment('{ checkout_time: mean }')
    const parsed = parsePolicyText(text, 'policies/checkout.yaml')
    expect(parsed.metricDefinitions.checkout_time).toEqual({ kind: 'mean' })
    expect(parsed.experiments[0]!.metricKinds).toEqual({ checkout_time: 'mean' })
    expect(parsed.notices).toEqual([
      expect.stringMatching(
        new RegExp(
          `^policies/checkout.yaml:${lineOf(text, 'metric_kinds')}:\\d+: .*metric_kinds is read as metrics.definitions.checkout_time.kind: mean.*hint: move it there`
        )
      ),
      // checkout_time has no known direction (units-direction.test.ts).
      expect.stringMatching(/does not know whether a higher or a lower checkout_time is better/)
    ])
  })

  it('a kind declared in metrics.definitions reaches the experiment without metric_kinds', () => {
    const text = policy(
      'metrics:',
      '  definitions: { checkout_time: { kind: count } }',
      'experiments:',
      '  e:',
      '    groups: { control: { weight: 50 }, treatment: { weight: 50 } }',
      '    success_metrics: [checkout_time]'
    )
    expect(parsePolicyText(text, 'policies/checkout.yaml').experiments[0]!.metricKinds).toEqual({
      checkout_time: 'count'
    })
  })

  it('a metric_kinds that contradicts metrics.definitions is refused at its line', () => {
    const text = experiment(
      '{ checkout_time: rate }',
      'metrics:',
      '  definitions: { checkout_time: { kind: mean } }'
    )
    const error = refusal(text)
    expect(error.location?.line).toBe(lineOf(text, 'metric_kinds'))
    expect(error.message).toContain(
      'metric_kinds says checkout_time is a rate, but metrics.definitions says it is a mean'
    )
    expect(error.hint).toContain('metrics.definitions.checkout_time.kind')
  })
})

describe("the README's guardrails example", () => {
  it('is a valid guardrails block', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
    const block = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
      .map(m => m[1]!)
      .find(b => b.startsWith('guardrails:'))!
    expect(parsePolicyText(policy(block), 'policies/checkout.yaml').guardrails).toEqual([
      expect.objectContaining({ metric: 'error_rate', margin: 0.05, tuning: 1_000_000 })
    ])
  })
})
