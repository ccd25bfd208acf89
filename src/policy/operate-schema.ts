import { DateTime, IANAZone } from 'luxon'
import * as z from 'zod'
import type { FreezeWindow } from '../engine/types.js'
import {
  DEFAULT_SCHEDULE_INTERVAL_MS,
  MAX_SCHEDULE_INTERVAL_MS,
  MIN_SCHEDULE_INTERVAL_MS
} from '../engine/heartbeat.js'
import { parseDurationText } from './quantities.js'

// The operating controls of a policy (issue 15): freeze windows, what a fired trigger does
// (on_fire), cool-downs after a rollback and sustained gates (for:). schema.ts places them.

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const parsed = parseDurationText(value)
  if (parsed.ok) return parsed.value
  ctx.addIssue({ code: 'custom', message: parsed.error, params: { hint: parsed.hint } })
  return z.NEVER
})

/** A trigger's `on_fire`: rollback (default), pause, or observe (report only). */
export const onFireSchema = z.enum(['rollback', 'pause', 'observe']).optional().meta({
  description:
    'What the trigger does when it fires: rollback (default), pause (stop advancing, stay in the phase) or observe (report and alert only). Never softens system_failure.'
})

/** A metrics_threshold gate's `for:`: its criteria must have held over this window. */
export const sustainedSchema = duration.optional().meta({
  description:
    'Sustained success: every threshold must have held over this window (range data; a gap does not count as held), e.g. 30m'
})

/** A phase's `cooldown:` after a rollback out of it, before the advance into it again. */
export const cooldownSchema = duration.optional().meta({
  description:
    'After a rollback out of this phase, how long before the advance into it may be proposed again, e.g. 6h'
})

/**
 * `monitoring.schedule_interval`: how often the workflow's cron runs phasegate, so that a heartbeat
 * older than three intervals can be flagged. GitHub runs schedules at most every 5 minutes.
 */
export const scheduleIntervalSchema = duration
  .refine(d => d.ms >= MIN_SCHEDULE_INTERVAL_MS && d.ms <= MAX_SCHEDULE_INTERVAL_MS, {
    message: `a schedule interval is between ${MIN_SCHEDULE_INTERVAL_MS / 60_000}m and ${MAX_SCHEDULE_INTERVAL_MS / 86_400_000}d`,
    params: {
      hint: "write the interval of the workflow's cron, e.g. 15m for '*/15 * * * *' (GitHub runs schedules at most every 5 minutes)"
    }
  })
  .optional()
  .meta({
    description: `How often the workflow runs phasegate (its cron), e.g. 15m; default ${DEFAULT_SCHEDULE_INTERVAL_MS / 60_000}m. A heartbeat older than three intervals is stale`
  })

const timeZone = z
  .string()
  .refine(zone => IANAZone.isValidZone(zone), {
    message: 'not an IANA time zone',
    params: {
      hint: 'write a name from the tz database, e.g. Europe/Berlin, America/New_York or UTC'
    }
  })
  .meta({ description: 'An IANA time zone, e.g. Europe/Berlin' })

const date = z.string().refine(d => /^\d{4}-\d{2}-\d{2}$/.test(d) && DateTime.fromISO(d).isValid, {
  message: 'not a date written YYYY-MM-DD',
  params: { hint: 'e.g. 2026-12-24' }
})

const timeOfDay = z.string().refine(t => /^([01]\d|2[0-3]):[0-5]\d$/.test(t), {
  message: 'not a time of day written HH:MM (00:00 to 23:59)',
  params: { hint: 'quote it, e.g. "18:00"' }
})

const windowSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    time_zone: timeZone.optional().meta({ description: "This window's zone, if not freeze's" }),
    weekends: z.literal(true).optional().meta({ description: 'Saturday 00:00 to Monday 00:00' }),
    dates: z
      .strictObject({ from: date, to: date })
      .refine(d => d.from <= d.to, {
        message: 'the date range ends before it starts',
        params: { hint: 'write from as the first day and to as the last day (both frozen)' }
      })
      .optional()
      .meta({ description: 'From the start of `from` to the end of `to` (both frozen)' }),
    daily: z
      .strictObject({ from: timeOfDay, to: timeOfDay })
      .refine(d => d.from !== d.to, {
        message: 'a daily window from a time to the same time is empty or the whole day',
        params: { hint: 'use weekends or dates for whole days, or give two different times' }
      })
      .optional()
      .meta({
        description: 'Every day from `from` to `to` (HH:MM), across midnight when to < from'
      })
  })
  .superRefine((w, ctx) => {
    const kinds = (['weekends', 'dates', 'daily'] as const).filter(k => w[k] !== undefined)
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? 'a freeze window needs one of weekends, dates or daily'
            : `a freeze window is one of weekends, dates or daily, not ${kinds.join(' and ')}`,
        params: { hint: 'write each span as its own window' }
      })
  })

/**
 * `freeze:` — windows in which no advance lands; each read on the wall clock of its time zone
 * (the window's, else freeze.time_zone, which is required: no window is read in the runner's).
 */
export const freezeSchema = z
  .strictObject({
    time_zone: timeZone,
    windows: z.array(windowSchema).min(1)
  })
  .transform((freeze): FreezeWindow[] =>
    freeze.windows.map((w, i) => {
      const base = { timeZone: w.time_zone ?? freeze.time_zone }
      if (w.dates) return { ...base, name: w.name ?? `dates[${i}]`, kind: 'dates', ...w.dates }
      if (w.daily) return { ...base, name: w.name ?? `daily[${i}]`, kind: 'daily', ...w.daily }
      return { ...base, name: w.name ?? 'weekends', kind: 'weekends' }
    })
  )
  .optional()
  .meta({
    description:
      'Freeze windows: no advance lands inside one (advance PRs may open and be approved); rollbacks always may'
  })
