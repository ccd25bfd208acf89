import fc from 'fast-check'
import type {
  AlertRule,
  Approval,
  CheckObservation,
  Comparator,
  Gate,
  MetricReading,
  Observations,
  Phase,
  Policy,
  State,
  TrendRule,
  Trigger
} from '../../src/engine/types.js'

// fast-check generators for decide()'s inputs: random policies (ladders of 2..7 phases with gates
// of all four types), states, observations and times. Values are drawn from small pools (a few
// metric names, users, checks) so that gates, readings and approvals meet often enough for every
// outcome — advance, hold and rollback — to occur.

export const METRICS = ['error_rate', 'performance_degradation', 'user_satisfaction', 'latency']
export const GROUPS = ['control', 'treatment']
export const USERS = ['alice', 'bob', 'carol', 'dependabot[bot]', 'Dave']
export const TEAMS = ['@org/release', '@org/sre']
export const CHECKS = ['unit', 'smoke', 'e2e']
const PHASE_NAMES = ['dev', 'qa', 'beta', 'canary', 'one_pct', 'ten_pct', 'half', 'ga', 'all']
const COMPARATORS: Comparator[] = ['<', '<=', '>', '>=', '==']

export const T0 = Date.parse('2026-03-02T09:00:00Z')
const HOUR = 3_600_000

const threshold = fc
  .record({
    op: fc.constantFrom(...COMPARATORS),
    value: fc.constantFrom(0, 0.01, 0.05, 0.1, 0.5, 0.95, 1)
  })
  .map(t => ({ ...t, source: `${t.op} ${t.value}` }))

/** A gate of the given type, unnamed (the phase names its gates uniquely). */
const gateBody: fc.Arbitrary<Omit<Gate, 'name'>> = fc.oneof(
  fc.record(
    {
      type: fc.constant('metrics_threshold' as const),
      thresholds: fc.dictionary(fc.constantFrom(...METRICS), threshold, {
        minKeys: 1,
        maxKeys: 3
      }),
      group: fc.constantFrom(...GROUPS),
      minSamples: fc.nat(2000)
    },
    { requiredKeys: ['type', 'thresholds'] }
  ),
  fc.record({
    type: fc.constant('manual_approval' as const),
    required: fc.integer({ min: 1, max: 3 }),
    approvers: fc.subarray([...USERS, ...TEAMS])
  }),
  fc.record({
    type: fc.constant('automated_test' as const),
    checks: fc.subarray(CHECKS, { minLength: 1 })
  }),
  fc
    .record({ type: fc.constant('time_based' as const), hours: fc.integer({ min: 0, max: 72 }) })
    .map(({ type, hours }) => ({ type, durationMs: hours * HOUR, source: `${hours}h` }))
)

const gates: fc.Arbitrary<Gate[]> = fc
  .array(gateBody, { maxLength: 5 })
  .map(bodies => bodies.map((body, i) => ({ ...body, name: `${body.type}#${i}` }) as Gate))

const phase = (name: string): fc.Arbitrary<Phase> =>
  fc.record({
    name: fc.constant(name),
    enabled: fc.constant(true),
    userPercentage: fc.integer({ min: 0, max: 100 }),
    featureFlags: fc.constant([]),
    monitoringLevel: fc.constantFrom('debug' as const, 'info' as const, 'warn' as const),
    rollbackThreshold: fc.dictionary(
      fc.constantFrom('error_rate', 'performance_degradation'),
      fc.constantFrom(0.01, 0.05, 0.1, 0.3),
      { maxKeys: 2 }
    ),
    successCriteria: fc.constant({}),
    durationMs: fc.constant(null),
    gates,
    approvers: fc.constant([]),
    origins: fc.constant({
      userPercentage: 'policy' as const,
      featureFlags: 'default' as const,
      monitoringLevel: 'policy' as const
    })
  })

const alert: fc.Arbitrary<AlertRule> = fc
  .record({
    metric: fc.constantFrom(...METRICS),
    warning: fc.constantFrom(0.01, 0.1, 0.5),
    gap: fc.constantFrom(-0.005, 0.01, 0.1),
    forMs: fc.constantFrom(0, 0, 10 * 60_000)
  })
  .map(({ metric, warning, gap, forMs }) => ({
    metric,
    // The direction the thresholds are written for, as the loader insists.
    direction: gap > 0 ? ('higher_is_worse' as const) : ('lower_is_worse' as const),
    warning,
    critical: warning + gap,
    forMs
  }))

const trend: fc.Arbitrary<TrendRule> = fc.record(
  {
    metric: fc.constantFrom(...METRICS),
    windowMs: fc.constantFrom(5 * 60_000, 60 * 60_000),
    increase: fc.constantFrom(0.1, 0.5),
    decrease: fc.constantFrom(0.02, 0.2)
  },
  { requiredKeys: ['metric', 'windowMs'] }
)

const trigger: fc.Arbitrary<Trigger> = fc.oneof(
  fc.constant({ kind: 'system_failure' as const, source: 'system_failure' }),
  fc
    .record({
      metric: fc.constantFrom(...METRICS),
      value: fc.constantFrom(0.02, 0.1, 0.3),
      forMs: fc.constantFrom(0, 0, 5 * 60_000)
    })
    .map(({ metric, value, forMs }) => ({
      kind: 'metric' as const,
      metric,
      threshold: { op: '>' as const, value, source: `> ${value}` },
      forMs,
      source: `${metric} > ${value}`
    }))
)

export const policyArb: fc.Arbitrary<Policy> = fc
  .shuffledSubarray(PHASE_NAMES, { minLength: 2, maxLength: 7 })
  .chain(names =>
    fc.record({
      feature: fc.constant('checkout'),
      phases: fc.tuple(...names.map(phase)).map(ps => [...ps]),
      experiments: fc.constant([]),
      alerts: fc.uniqueArray(alert, { selector: a => a.metric, maxLength: 3 }),
      trends: fc.uniqueArray(trend, { selector: t => t.metric, maxLength: 2 }),
      dashboards: fc.constant([]),
      triggers: fc.array(trigger, { maxLength: 3 }),
      rollback: fc.record({
        manualApprovalRequired: fc.boolean(),
        emergencyContacts: fc.constant([]),
        operators: fc.constant([]),
        sourceFailureLimit: fc.integer({ min: 1, max: 4 })
      }),
      metrics: fc.constant({ provider: 'file', queries: {}, options: {} }),
      metricDefinitions: fc.constant({}),
      statePath: fc.constant('.phasegate/state/checkout.yaml')
    })
  )

export function stateArb(
  policy: Policy,
  where: { phase?: 'first' | 'final'; enabled?: boolean } = {}
): fc.Arbitrary<State> {
  const names = policy.phases.map(p => p.name)
  const phaseName =
    where.phase === 'first'
      ? fc.constant(names[0]!)
      : where.phase === 'final'
        ? fc.constant(names[names.length - 1]!)
        : fc.constantFrom(...names)
  return fc.record({
    feature: fc.constant(policy.feature),
    phase: phaseName,
    enteredAt: fc.integer({ min: 0, max: 96 }).map(h => new Date(T0 + h * HOUR).toISOString()),
    enabled: where.enabled === undefined ? fc.boolean() : fc.constant(where.enabled),
    experiments: fc.constant({})
  })
}

/** Metric values as sources deliver them: numbers near the thresholds, NaN, infinities, null. */
const metricValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 0.001, 0.01, 0.02, 0.05, 0.1, 0.3, 0.5, 0.96, 1) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity) },
  { weight: 1, arbitrary: fc.constant(null) }
)

const reading = (metric: string, group?: string): fc.Arbitrary<MetricReading> =>
  fc
    .record(
      {
        value: metricValue,
        samples: fc.nat(3000),
        series: fc.array(
          fc.tuple(
            fc.integer({ min: T0 / 1000, max: T0 / 1000 + 96 * 3600 }),
            fc.constantFrom(0, 0.01, 0.05, 0.5, Number.NaN)
          ),
          { maxLength: 4 }
        )
      },
      { requiredKeys: ['value'] }
    )
    .map(r => ({
      metric,
      ...(group ? { group } : {}),
      ...r,
      ...(r.value === null ? { reason: 'no data in the window' } : {}),
      ...(r.series ? { series: [...r.series].sort((a, b) => a[0] - b[0]) } : {})
    }))

const approval: fc.Arbitrary<Approval> = fc.record(
  {
    user: fc.constantFrom(...USERS, 'ALICE'),
    teams: fc.subarray(TEAMS),
    bot: fc.boolean(),
    author: fc.boolean(),
    stale: fc.boolean()
  },
  { requiredKeys: ['user'] }
)

const check: fc.Arbitrary<CheckObservation> = fc.record({
  name: fc.constantFrom(...CHECKS),
  conclusion: fc.constantFrom('success', 'success', 'failure', 'cancelled', null)
})

export const observationsArb: fc.Arbitrary<Observations> = fc.record(
  {
    readings: fc
      .tuple(
        ...[
          ...[...METRICS, 'system_failure'].map(m => fc.option(reading(m), { freq: 4 })),
          ...METRICS.flatMap(m => GROUPS.map(g => fc.option(reading(m, g), { freq: 4 })))
        ]
      )
      .map(rs => rs.filter((r): r is MetricReading => r !== null)),
    approvals: fc.array(approval, { maxLength: 4 }),
    checks: fc.uniqueArray(check, { selector: c => c.name, maxLength: 3 }),
    sourceFailures: fc.record({
      consecutive: fc.integer({ min: 1, max: 5 }),
      reason: fc.constant('connection refused')
    })
  },
  { requiredKeys: ['readings', 'approvals', 'checks'] }
)

/** Any time from shortly before the earliest generated entry into a phase to days after it. */
export const nowArb: fc.Arbitrary<Date> = fc
  .integer({ min: -2, max: 200 })
  .map(h => new Date(T0 + h * HOUR))

export interface DecideInputs {
  policy: Policy
  state: State
  observations: Observations
  now: Date
}

export function inputsArb(where?: Parameters<typeof stateArb>[1]): fc.Arbitrary<DecideInputs> {
  return policyArb.chain(policy =>
    fc.record({
      policy: fc.constant(policy),
      state: stateArb(policy, where),
      observations: observationsArb,
      now: nowArb
    })
  )
}
