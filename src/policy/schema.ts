import * as z from 'zod'
import { GITHUB_LOGIN } from './login.js'
import type { Trigger } from '../engine/types.js'
import {
  parseDurationText,
  parseMeasure,
  parseThreshold,
  parseTrigger,
  type Parsed
} from './quantities.js'
import { workTreePathProblem } from './paths.js'
import { guardrailsSchema } from './guardrails-schema.js'
import {
  breachForSchema,
  cooldownSchema,
  DURATION_PATTERN,
  freezeSchema,
  onFireSchema,
  scheduleIntervalSchema,
  sustainedSchema
} from './operate-schema.js'
import { notificationsSchema } from './notifications-schema.js'

// The policy file as people write it: a superset of the seed's production_deployment.yaml.
// Parsed once, here: durations, thresholds and quantities leave this schema as values (a
// Duration keeps its source text for evidence), so normalize.ts only applies defaults and checks
// across fields. The JSON Schema for editors is generated from the input side (io: 'input'),
// which stays plain text and numbers.

/** A transform that parses with `parse`, or reports its error (and hint) at the value. */
function parsedBy<T>(parse: (input: unknown) => Parsed<T>) {
  return (value: unknown, ctx: z.core.$RefinementCtx<unknown>): T => {
    const parsed = parse(value)
    if (parsed.ok) return parsed.value
    ctx.addIssue({ code: 'custom', message: parsed.error, params: { hint: parsed.hint } })
    return z.NEVER
  }
}

/**
 * Feature, phase, experiment and group names: they end up in branch names (phasegate/<feature>/…)
 * and commit trailers, so they must be usable in a git ref (git check-ref-format): no "..", and
 * not ending in "." or ".lock".
 */
export const NAME_PATTERN = /^(?!.*\.\.)(?!.*\.lock$)[A-Za-z0-9][A-Za-z0-9_.-]*(?<!\.)$/

const name = z.string().regex(NAME_PATTERN, {
  message:
    'names use letters, digits, "_", "." and "-", start with a letter or digit, and must be usable in a git branch name (no "..", not ending in "." or ".lock")'
})

/**
 * The dashboard's panels, as the seed's monitoring.dashboards names them, plus `deployment` (the
 * seed's fifth part: phase, percentage, timeline). Any other name is a validation error.
 */
export const DASHBOARD_PANELS = [
  'production_overview',
  'performance_comparison',
  'experiment_results',
  'alert_summary',
  'deployment'
] as const

export const thresholdSchema = z
  .union([z.string(), z.number()])
  .transform(parsedBy(parseThreshold))
  .meta({
    description:
      'A comparison such as "< 0.01" or "> 0.95" (quote it when it starts with ">"); a time such as "< 500ms" is converted into the metric\'s unit'
  })

// Numbers are let through the shape check so that `duration: 24` gets parseDuration's message
// (a unit is missing) rather than a bare "expected text".
export const durationSchema = z
  .union([z.string(), z.number()])
  .transform(parsedBy(parseDurationText))
  .meta({
    description: 'A duration: 500ms, 30s, 10m, 24h, 30d, 2w',
    type: 'string',
    pattern: DURATION_PATTERN
  })

export const quantitySchema = z
  .union([z.number(), z.string()])
  .transform(parsedBy(parseMeasure))
  .meta({
    description:
      "A number in the metric's unit, or a time with a unit such as 5000ms (converted into the metric's unit)"
  })

/**
 * A GitHub login ("alice": letters, digits and single inner dashes, at most 39) or a team as
 * "@org/team-slug". Anything else ("@sre", "@alice") would match nobody, and an operators list
 * that matches nobody fails only when someone pulls the emergency lever.
 */
const identity = z.string().superRefine((entry, ctx) => {
  const login = GITHUB_LOGIN
  const team = /^@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9][A-Za-z0-9_.-]*$/
  if (login.test(entry) || team.test(entry)) return
  const bare = entry.startsWith('@') && !entry.includes('/')
  ctx.addIssue({
    code: 'custom',
    message: `"${entry}" is neither a GitHub login nor a team written "@org/team"`,
    params: {
      hint: bare
        ? `write a user without the @ ("${entry.slice(1)}") or a team as @org/team ("@your-org/${entry.slice(1)}")`
        : 'write a login such as alice, or a team as @org/team'
    }
  })
})

const approvers = z
  .array(identity)
  .meta({ description: 'GitHub users ("alice") and teams ("@org/team")' })

const gateName = z.string().min(1).optional()

export const gateSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('metrics_threshold'),
    name: gateName,
    thresholds: z.record(z.string(), thresholdSchema).refine(t => Object.keys(t).length > 0, {
      message: 'a metrics_threshold gate needs at least one threshold',
      params: { hint: 'add "metric: condition" lines, e.g. error_rate: < 0.01' }
    }),
    group: z.string().optional(),
    min_samples: z.number().int().nonnegative().optional(),
    for: sustainedSchema
  }),
  z.strictObject({
    type: z.literal('manual_approval'),
    name: gateName,
    required: z.number().int().min(1).optional(),
    approvers: approvers.optional()
  }),
  z
    .strictObject({
      type: z.literal('automated_test'),
      name: gateName,
      checks: z.array(z.string().min(1)).min(1),
      app: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]*$/, 'an app slug: lower-case letters, digits and dashes')
        .optional()
        .meta({
          description:
            'The GitHub App whose check runs count (its slug); default github-actions. Runs by other producers never count.'
        }),
      workflow: z
        .string()
        .regex(
          /^\.github\/workflows\/[^/]+\.ya?ml$/,
          'a workflow file: .github/workflows/NAME.yml (or .yaml)'
        )
        .optional()
        .meta({
          description:
            'Only runs of this workflow file count (GitHub Actions only): a job or workflow of the same name from another file never does.'
        })
    })
    .refine(g => g.workflow === undefined || g.app === undefined || g.app === 'github-actions', {
      message:
        'workflow: names a GitHub Actions workflow file, so app: must be github-actions (or left out)',
      path: ['workflow']
    }),
  z.strictObject({
    type: z.literal('time_based'),
    name: gateName,
    duration: durationSchema
  })
])

/**
 * Whether `value` is a whole number of `step`s, within floating-point noise (0.07 is 7 × 0.01,
 * though 0.07 / 0.01 is 7.000000000000001).
 */
function wholeStepsOf(value: number, step: number): boolean {
  const steps = value / step
  return Math.abs(steps - Math.round(steps)) < 1e-6
}

/**
 * A percentage of users, in whole buckets: phasegate resolves a rollout to 0.01% (10,000 buckets,
 * experiments/assignment.ts), so a finer value would mean one bucket to the SDK and the provider
 * and none to flagd's whole-number weights; it is refused rather than read two ways.
 */
const userPercentage = z
  .number()
  .min(0)
  .max(100)
  .refine(p => wholeStepsOf(p, 0.01), {
    message: 'user_percentage is finer than one bucket (0.01% of users)',
    params: {
      hint: 'write a multiple of 0.01 (e.g. 0.01 or 0.5): every route (SDK, provider, flagd) resolves percentages to 0.01%'
    }
  })

export const phaseSchema = z.strictObject({
  enabled: z.boolean().optional(),
  user_percentage: userPercentage.optional(),
  feature_flags: z.array(z.string()).optional(),
  monitoring_level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  rollback_threshold: z.record(z.string(), quantitySchema).optional(),
  success_criteria: z.record(z.string(), thresholdSchema).optional(),
  duration: durationSchema.nullable().optional(),
  approvers: approvers.optional(),
  gates: z.array(gateSchema).optional(),
  cooldown: cooldownSchema
})

export const experimentSchema = z.strictObject({
  enabled: z.boolean().optional(),
  seed: z.string().min(1).optional(),
  hash_version: z.union([z.literal(1), z.literal(2)]).optional(),
  groups: z
    .record(
      name,
      z.strictObject({
        weight: z.number().positive(),
        configuration: z.record(z.string(), z.unknown()).optional()
      })
    )
    .refine(groups => Object.keys(groups).length >= 2, {
      message: 'an experiment needs at least two groups',
      params: { hint: 'add a control group and a treatment group, each with a weight' }
    })
    .superRefine((groups, ctx) => {
      // A group's share is resolved to one bucket (0.01%) by the SDK and the provider, and flagd
      // carries weights as whole numbers (scaled by at most 10^6): a share or a weight finer than
      // that would be read differently by each route.
      const total = Object.values(groups).reduce((sum, g) => sum + g.weight, 0)
      for (const [group, { weight }] of Object.entries(groups)) {
        if (weight / total < 1 / 10_000)
          ctx.addIssue({
            code: 'custom',
            path: [group, 'weight'],
            message: `group ${group} gets ${((weight / total) * 100).toPrecision(2)}% of users, less than one bucket (0.01%)`,
            params: {
              hint: 'give every group at least 1/10,000 of the total weight: assignment resolves shares to 0.01%'
            }
          })
        else if (!wholeStepsOf(weight, 1e-6))
          ctx.addIssue({
            code: 'custom',
            path: [group, 'weight'],
            message: `weight ${weight} has more than six decimals`,
            params: { hint: 'round it to six decimals (only the ratios between weights matter)' }
          })
      }
    }),
  success_metrics: z.array(z.string()).optional(),
  // What each success metric is, so stray values are errors rather than a silent change of test.
  metric_kinds: z.record(z.string(), z.enum(['rate', 'mean', 'count'])).optional(),
  duration: durationSchema.nullable().optional(),
  minimum_sample_size: z.number().int().nonnegative().optional()
})

export const alertSchema = z.strictObject({
  warning: quantitySchema,
  critical: quantitySchema,
  for: breachForSchema
})

export const triggerSchema = z.union([
  z
    .string()
    .transform(parsedBy(when => parseTrigger(String(when))))
    .meta({ description: 'e.g. "error_rate > 0.02" or "system_failure"' }),
  z
    .strictObject({ when: z.string(), for: breachForSchema, on_fire: onFireSchema })
    // For editors: system_failure's on_fire can only say what it always does, and it takes no
    // for:, whether written bare or as a comparison on the metric of that name.
    .meta({
      if: {
        properties: { when: { pattern: '^\\s*system_failure\\s*($|[<>=])' } },
        required: ['when']
      },
      then: { properties: { on_fire: { const: 'rollback' }, for: false } }
    })
    .transform((entry, ctx): Trigger => {
      const parsed = parseTrigger(entry.when, entry.for?.ms ?? 0)
      // The metric named system_failure is the system saying it is down, however the trigger
      // compares it ("system_failure", "system_failure > 0"): it always rolls back, at once.
      const systemFailure =
        parsed.ok &&
        (parsed.value.kind === 'system_failure' || parsed.value.metric === 'system_failure')
      if (systemFailure && (entry.on_fire ?? 'rollback') !== 'rollback') {
        ctx.addIssue({
          code: 'custom',
          path: ['on_fire'],
          message: `system_failure always rolls back at once: on_fire: ${entry.on_fire} cannot soften it`,
          params: { hint: 'remove on_fire here; only metric triggers can pause or observe' }
        })
        return z.NEVER
      }
      if (systemFailure && entry.for !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['for'],
          message: 'system_failure always rolls back at once: for: cannot delay it',
          params: {
            hint: 'remove for: here; to wait out an unreachable metrics server, set rollback.source_failure_limit'
          }
        })
        return z.NEVER
      }
      if (parsed.ok)
        return parsed.value.kind === 'metric' && entry.on_fire
          ? { ...parsed.value, onFire: entry.on_fire }
          : parsed.value
      ctx.addIssue({
        code: 'custom',
        path: ['when'],
        message: parsed.error,
        params: { hint: parsed.hint }
      })
      return z.NEVER
    })
])

/** What a metric is: which way is worse, what kind of number, in what unit. */
export const metricDefinitionSchema = z
  .strictObject({
    direction: z.enum(['higher_is_worse', 'lower_is_worse']).optional().meta({
      description: 'Which way is worse; known names (error_rate, latency ...) have a default'
    }),
    kind: z.enum(['rate', 'mean', 'count']).optional().meta({
      description: 'rate: a share between 0 and 1; mean: an average; count: a number of events'
    }),
    unit: z.string().min(1).optional().meta({
      description:
        'The unit readings are in, e.g. ms, s, USD; thresholds written with a time unit are converted into it (latency names default to ms, *_seconds to s)'
    })
  })
  .refine(d => d.direction !== undefined || d.kind !== undefined || d.unit !== undefined, {
    message: 'a metric definition says nothing',
    params: {
      hint: 'give direction (higher_is_worse or lower_is_worse), kind or unit, or remove it'
    }
  })

export const policySchema = z
  .strictObject({
    feature: name
      .optional()
      .meta({ description: 'The rolled-out feature; defaults to the file name' }),
    state: z
      .string()
      .min(1)
      .superRefine((path, ctx) => {
        const problem = workTreePathProblem(path)
        if (problem)
          ctx.addIssue({
            code: 'custom',
            message: `the state file ${problem}`,
            params: {
              hint: 'write a path relative to the repository root, e.g. .phasegate/state/checkout.yaml'
            }
          })
      })
      .optional()
      .meta({ description: 'State file path; default .phasegate/state/<feature>.yaml' }),
    deployment: z.strictObject({
      order: z
        .array(name)
        .min(2)
        .optional()
        .meta({ description: 'Your own phase ladder, first to last' }),
      phases: z.record(name, phaseSchema.nullable()).optional(),
      freeze: freezeSchema
    }),
    experiments: z.record(name, experimentSchema).optional(),
    guardrails: guardrailsSchema.optional(),
    monitoring: z
      .strictObject({
        alerts: z.record(z.string(), alertSchema).optional(),
        trends: z
          .record(
            z.string(),
            z
              .strictObject({
                window: durationSchema,
                increase: z.number().positive().optional(),
                decrease: z.number().positive().optional()
              })
              .refine(t => t.increase !== undefined || t.decrease !== undefined, {
                message: 'a trend needs increase or decrease',
                params: { hint: 'e.g. { window: 10m, increase: 0.5 } alerts on a 50% rise' }
              })
          )
          .optional()
          .meta({
            description:
              "Trend alerts: compare the latest window with the one before (the seed's check_trend_alerts)"
          }),
        dashboards: z
          .array(z.enum(DASHBOARD_PANELS))
          .optional()
          .meta({ description: 'Panels the dashboard shows for this feature (default: all)' }),
        schedule_interval: scheduleIntervalSchema
      })
      .optional(),
    rollback: z
      .strictObject({
        automatic_triggers: z.array(triggerSchema).optional(),
        manual_approval_required: z.boolean().optional(),
        emergency_contacts: z
          .array(
            z.strictObject({
              team: z.string().optional(),
              user: z.string().optional(),
              oncall: z.boolean().optional()
            })
          )
          .optional(),
        operators: approvers
          .optional()
          .meta({ description: 'Who may dispatch a rollback; empty: anyone with write access' }),
        source_failure_limit: z.number().int().min(1).optional()
      })
      .optional(),
    metrics: z
      .looseObject({
        provider: z.string().min(1).optional(),
        queries: z.record(z.string(), z.string()).optional(),
        definitions: z.record(z.string(), metricDefinitionSchema).optional().meta({
          description:
            'Per metric: direction (higher_is_worse | lower_is_worse), kind (rate | mean | count), unit'
        }),
        window: durationSchema
          .refine(w => /^\d+(ms|s|m|h|d|w)$/.test(w.source), {
            message: 'the window goes into queries as written: use a whole number and a unit',
            params: { hint: 'e.g. 5m, 90s or 1h: PromQL reads no spaces or fractions there' }
          })
          .optional()
          .meta({
            description:
              'The evaluation window, substituted for {{window}} in queries (default 5m): 500ms, 30s, 10m, 24h, 30d, 2w'
          })
      })
      .optional()
      .meta({
        description: "Where metric values come from; other keys are the provider's options"
      }),
    notifications: notificationsSchema.optional()
  })
  .meta({ title: 'phasegate policy', description: 'A phased rollout of one feature' })

/** The policy as parsed: quantities already values. */
export type RawPolicy = z.output<typeof policySchema>
export type RawGate = z.output<typeof gateSchema>
