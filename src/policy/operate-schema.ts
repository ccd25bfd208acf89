import { DateTime, IANAZone } from 'luxon'
import * as z from 'zod'
import type { FreezeWindow } from '../engine/types.js'
import {
  DEFAULT_SCHEDULE_INTERVAL_MS,
  MAX_SCHEDULE_INTERVAL_MS,
  MIN_SCHEDULE_INTERVAL_MS
} from '../engine/heartbeat.js'
import type { PolicyIssue } from './normalize.js'
import { parseDurationText } from './quantities.js'

// The operating controls of a policy (issue 15): freeze windows, what a fired trigger does
// (on_fire), cool-downs after a rollback and sustained gates (for:). schema.ts places them.

// The JSON Schema (schema/policy.schema.json, generated from these) carries what an editor can
// check without phasegate: the written forms as patterns, one kind per freeze window. The
// refinements stay the messages `validate` prints; `.meta()` only adds to the JSON Schema.

/** A duration as written (see parseDuration): a number and a unit, never a bare number. */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d|w)\\s*$'
/** The same, longer than nothing. */
const NONZERO_DURATION_PATTERN =
  '^\\s*(\\d*[1-9]\\d*(\\.\\d+)?|\\d+\\.\\d*[1-9]\\d*)\\s*(ms|s|m|h|d|w)\\s*$'

// A number is taken (and refused with a hint) so that `6` says "give it a unit", not "not text".
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

/**
 * A window that must be longer than nothing: `for: 0m` or `cooldown: 0m` would be read and never
 * act, so it is refused where it is written (leave the key out instead).
 */
function nonEmptyWindow(key: string, example: string) {
  return duration
    .refine(d => d.ms > 0, {
      message: 'a window of 0 does nothing',
      params: { hint: `leave ${key} out, or give the window it should span, e.g. ${example}` }
    })
    .meta({ type: 'string', pattern: NONZERO_DURATION_PATTERN })
}

/** A metrics_threshold gate's `for:`: its criteria must have held over this window. */
export const sustainedSchema = nonEmptyWindow('for', '30m').optional().meta({
  description:
    'Sustained success: every threshold must have held over this window (range data; a gap does not count as held), e.g. 30m'
})

/** A trigger's or alert's `for:`: the breach must have held over this window. */
export const breachForSchema = nonEmptyWindow('for', '10m')
  .optional()
  .meta({ description: 'The breach must have held this long (range data), e.g. 10m' })

/** A phase's `cooldown:` after a rollback out of it, before the advance into it again. */
export const cooldownSchema = nonEmptyWindow('cooldown', '6h').optional().meta({
  description:
    'After a rollback out of this phase, how long before the advance into it may be proposed again, e.g. 6h'
})

/**
 * `monitoring.schedule_interval`: how often the workflow's cron runs phasegate, so that a heartbeat
 * older than three intervals can be flagged. GitHub runs schedules at most every 5 minutes.
 */
export const scheduleIntervalSchema = duration
  .meta({ type: 'string', pattern: DURATION_PATTERN })
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

const date = z
  .string()
  .refine(d => /^\d{4}-\d{2}-\d{2}$/.test(d) && DateTime.fromISO(d).isValid, {
    message: 'not a date written YYYY-MM-DD',
    params: { hint: 'e.g. 2026-12-24' }
  })
  .meta({ pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$' })

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/
const timeOfDay = z
  .string()
  .refine(t => TIME_OF_DAY.test(t), {
    message: 'not a time of day written HH:MM (00:00 to 23:59)',
    params: { hint: 'quote it, e.g. "18:00"' }
  })
  .meta({ pattern: TIME_OF_DAY.source })

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
  .meta({
    oneOf: (['weekends', 'dates', 'daily'] as const).map(kind => ({ required: [kind] }))
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

/** Where a place keeping summer time is likely meant by a fixed-offset abbreviation. */
const PLACE_FOR: Record<string, string> = {
  EST: 'America/New_York',
  MST: 'America/Denver (or America/Phoenix, which keeps no summer time)'
}

/**
 * Notices for freeze time zones that are a fixed offset from UTC, not a place (EST, MST, HST,
 * Etc/GMT+5): valid tz names, but EST is UTC-05:00 all year, an hour off New York's clocks half
 * the year, and Etc/GMT+5 is UTC-05:00 (the sign is reversed). UTC itself, and places without
 * summer time (America/Phoenix, Asia/Tokyo), are not noticed. `plain` is the policy as written.
 */
export function fixedZoneNotices(plain: unknown): PolicyIssue[] {
  const freeze = (plain as { deployment?: { freeze?: unknown } } | null)?.deployment?.freeze
  if (freeze === null || typeof freeze !== 'object') return []
  const { time_zone: zone, windows } = freeze as { time_zone?: unknown; windows?: unknown }
  const written: Array<[unknown, (string | number)[]]> = [
    [zone, ['deployment', 'freeze', 'time_zone']],
    ...(Array.isArray(windows) ? windows : []).map(
      (w: unknown, i): [unknown, (string | number)[]] => [
        (w as { time_zone?: unknown } | null)?.time_zone,
        ['deployment', 'freeze', 'windows', i, 'time_zone']
      ]
    )
  ]
  return written.flatMap(([name, path]) => {
    if (typeof name !== 'string' || !IANAZone.isValidZone(name)) return []
    if (name.includes('/') && !name.startsWith('Etc/')) return []
    const tz = IANAZone.create(name)
    const [winter, summer] = [Date.UTC(2026, 0, 15), Date.UTC(2026, 6, 15)].map(t => tz.offset(t))
    if (winter !== summer || winter === 0) return []
    const offset = DateTime.utc().setZone(tz).toFormat('ZZ')
    const place = PLACE_FOR[name.toUpperCase()]
    return [
      {
        path,
        message: `time zone "${name}" is a fixed offset, UTC${offset} all year with no daylight saving time${name.startsWith('Etc/GMT') ? ` (Etc/GMT zones reverse the sign: ${name} is UTC${offset})` : ''}: a window in it is an hour off the clocks of a place that keeps summer time, half the year`,
        hint: `write the place's zone from the tz database${place ? `, e.g. ${place}` : ', e.g. America/New_York or Europe/Berlin'}; keep ${name} only if a fixed UTC${offset} is meant`
      }
    ]
  })
}
