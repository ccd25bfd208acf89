import * as z from 'zod'
import {
  NOTIFICATION_EVENTS,
  type NotificationsConfig,
  type NotificationTarget
} from '../engine/types.js'
import { parseDurationText } from './quantities.js'

// The policy's `notifications` section: where people hear about the rollout besides GitHub
// issues. Webhook URLs are secrets: the policy names them (url_secret), the workflow passes them
// as NAME=value lines (the action's `notification-secrets`, or the environment for the CLI).

// The JSON Schema (schema/policy.schema.json) refuses what `validate` refuses wherever JSON
// Schema can say it: the `.meta()` patterns, enum and if/then below mirror the refinements, whose
// messages stay what `validate` prints. Only unique target names are left to `validate`.

const SECRET_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$'

/** An environment variable name, as in `metrics-secrets`. */
const secretName = z
  .string()
  .refine(name => new RegExp(SECRET_NAME_PATTERN).test(name), {
    message: 'a secret is named like an environment variable: letters, digits and "_"',
    params: {
      hint: 'e.g. SLACK_WEBHOOK_URL, passed as SLACK_WEBHOOK_URL=${{ secrets.SLACK_WEBHOOK_URL }}'
    }
  })
  .meta({ pattern: SECRET_NAME_PATTERN })

/**
 * A timeout above 0 and at most 30s, written in ms or s (what `validate` also takes as m, h ...
 * is never that short but as a fraction, e.g. 0.25m, which the JSON Schema does not list).
 */
const TIMEOUT_PATTERN =
  '^\\s*(0*([1-9]\\d{0,3}|[12]\\d{4})(\\.\\d+)?\\s*ms|0*30000(\\.0+)?\\s*ms|0*\\.\\d*[1-9]\\d*\\s*ms|0*([1-9]|[12]\\d|30)(\\.0+)?\\s*s|0*([0-9]|[12]\\d)\\.\\d*[1-9]\\d*\\s*s)\\s*$'

const MAX_TIMEOUT_MS = 30_000
const MAX_RETRIES = 5

const targetSchema = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'How reports name this target' }),
    type: z.enum(['slack', 'teams', 'webhook']).meta({
      description:
        'slack: incoming webhook (Block Kit); teams: workflows webhook (Adaptive Card); webhook: JSON (docs/notifications.md)'
    }),
    url_secret: secretName.meta({
      description: 'NAME of the secret holding the webhook URL (never written in the policy)'
    }),
    signing_secret: secretName.optional().meta({
      description:
        'webhook only: NAME of the secret keying the X-Phasegate-Signature-256 HMAC-SHA256 header'
    }),
    events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional().meta({
      description: 'The events this target hears (default: all)'
    }),
    min_severity: z
      .enum(['low', 'medium', 'high', 'critical'])
      .refine(s => s !== 'low', {
        message: 'low-severity events are log only and never sent',
        params: { hint: 'use medium, high or critical (the seed: low → log only)' }
      })
      .optional()
      .meta({
        description: 'The lowest severity sent: medium (default), high or critical',
        enum: ['medium', 'high', 'critical']
      })
  })
  .superRefine((target, ctx) => {
    if (target.signing_secret && target.type !== 'webhook')
      ctx.addIssue({
        code: 'custom',
        path: ['signing_secret'],
        message: `a ${target.type} target is not signed: ${target.type} checks its own webhook URL`,
        params: { hint: 'remove signing_secret, or use type: webhook' }
      })
  })
  // For editors: only a webhook target is signed.
  .meta({
    if: { properties: { type: { enum: ['slack', 'teams'] } }, required: ['type'] },
    then: { not: { required: ['signing_secret'] } }
  })

function boundedDuration(max: number, what: string) {
  return z.union([z.string(), z.number()]).transform((value, ctx): number => {
    const parsed = parseDurationText(value)
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.error, params: { hint: parsed.hint } })
      return z.NEVER
    }
    if (parsed.value.ms <= 0 || parsed.value.ms > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be above 0 and at most ${max / 1000}s`,
        params: { hint: 'a notification never holds a run up for long: e.g. 5s' }
      })
      return z.NEVER
    }
    return parsed.value.ms
  })
}

export const notificationsSchema = z
  .strictObject({
    targets: z
      .array(targetSchema)
      .min(1)
      .superRefine((targets, ctx) => {
        const seen = new Set<string>()
        targets.forEach((t, i) => {
          if (seen.has(t.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `two notification targets are named "${t.name}"`,
              params: { hint: 'give each target its own name: reports and the dedup record use it' }
            })
          seen.add(t.name)
        })
      }),
    timeout: boundedDuration(MAX_TIMEOUT_MS, 'a notification timeout')
      .meta({ type: 'string', pattern: TIMEOUT_PATTERN })
      .optional()
      .meta({ description: 'Per attempt (default 5s, at most 30s)' }),
    retries: z.number().int().min(0).max(MAX_RETRIES).optional().meta({
      description: 'Attempts after the first on 5xx, 429, timeouts (default 2, at most 5)'
    })
  })
  .transform((raw): NotificationsConfig => ({
    targets: raw.targets.map((t): NotificationTarget => ({
      name: t.name,
      type: t.type,
      urlSecret: t.url_secret,
      ...(t.signing_secret ? { signingSecret: t.signing_secret } : {}),
      events: t.events ?? [...NOTIFICATION_EVENTS],
      minSeverity: (t.min_severity ?? 'medium') as NotificationTarget['minSeverity']
    })),
    timeoutMs: raw.timeout ?? 5_000,
    retries: raw.retries ?? 2
  }))
  .meta({
    description:
      'Slack, Teams and JSON webhook targets, each with the events and minimum severity it hears'
  })
