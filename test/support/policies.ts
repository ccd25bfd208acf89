import { readFileSync } from 'node:fs'
import type { Observations, Policy, State } from '../../src/engine/types.js'
import { parsePolicyText } from '../../src/policy/load.js'

export const SEED_POLICY_PATH = new URL(
  '../../policies/production_deployment.yaml',
  import.meta.url
)
export const SEED_POLICY_TEXT = readFileSync(SEED_POLICY_PATH, 'utf8')

export function seedPolicy(): Policy {
  return parsePolicyText(SEED_POLICY_TEXT, 'production_deployment.yaml')
}

export function policy(yaml: string, file = 'test.yaml'): Policy {
  return parsePolicyText(yaml, file)
}

export const T0 = new Date('2026-03-02T09:00:00Z')
export const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000)

export function state(p: Policy, phase: string, overrides: Partial<State> = {}): State {
  return {
    feature: p.feature,
    phase,
    enteredAt: T0.toISOString(),
    enabled: true,
    experiments: {},
    ...overrides
  }
}

export function observations(
  values: Record<string, number | null> = {},
  extra: Partial<Observations> = {}
): Observations {
  return {
    readings: Object.entries(values).map(([metric, value]) =>
      value === null ? { metric, value, reason: 'test: no data' } : { metric, value }
    ),
    approvals: [],
    checks: [],
    ...extra
  }
}

/** Metrics inside every one of the seed's success criteria and below every alert. */
export const HEALTHY = {
  error_rate: 0.0005,
  performance_degradation: 0.01,
  user_satisfaction: 0.995,
  response_time: 800,
  system_failure: 0
}

/**
 * Feature f on two phases, a (10% of users) and b (100%), with an alert rule (warning 1, critical
 * 2) and a metric definition (higher is worse) for `metric`, a name written as a quoted YAML key
 * (so any text, markup included, can be tried as one).
 */
export function policyAlertingOn(metric: string): string {
  return [
    'feature: f',
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    '    a: {user_percentage: 10}',
    '    b: {user_percentage: 100}',
    'monitoring:',
    '  alerts:',
    `    ${JSON.stringify(metric)}: {warning: 1, critical: 2}`,
    'metrics:',
    '  definitions:',
    `    ${JSON.stringify(metric)}: {direction: higher_is_worse}`,
    ''
  ].join('\n')
}
