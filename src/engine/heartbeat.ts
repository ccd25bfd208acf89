import { CLOCK_SKEW_MS } from './time.js'
import type { Policy } from './types.js'

// Liveness, the pure part: when a feature's last evaluation is too old to trust that the schedule
// still runs. One rule for every surface (status, the dashboard, the exported datafile and so the
// OpenFeature metadata): stale once more than STALE_INTERVALS schedule intervals have passed.

/** The schedule interval a policy without `monitoring.schedule_interval` assumes: a 15-minute cron. */
export const DEFAULT_SCHEDULE_INTERVAL_MS = 15 * 60_000
/** GitHub runs a schedule at most every 5 minutes; a shorter interval would flag every run stale. */
export const MIN_SCHEDULE_INTERVAL_MS = 5 * 60_000
/** A week: a longer schedule cannot be what guards a rollback. */
export const MAX_SCHEDULE_INTERVAL_MS = 7 * 24 * 3_600_000
/** How many missed intervals make a heartbeat stale: GitHub delays and drops single runs. */
export const STALE_INTERVALS = 3

/** What one run recorded of a feature (the heartbeat record's entry), as read back. */
export interface HeartbeatEntry {
  /** When the run evaluated the feature (ISO 8601). */
  evaluatedAt: string
  /** The decision (advance, hold, rollback, ...) or `failed` when it could not be evaluated. */
  outcome: string
  /** The workflow run's page, when the runner said. */
  runUrl?: string
}

/** A feature's heartbeat judged at `now`: `null` evaluatedAt means no heartbeat was recorded. */
export type Heartbeat =
  | { evaluatedAt: null; stale: true; intervalMs: number }
  | (HeartbeatEntry & {
      /** evaluatedAt + STALE_INTERVALS intervals (ISO 8601): from then on it is stale. */
      staleAfter: string
      stale: boolean
      /** now - evaluatedAt, in ms (negative when the record is from a clock ahead of ours). */
      ageMs: number
      /**
       * Set when evaluatedAt is more than CLOCK_SKEW_MS after now: no run can have evaluated the
       * feature then, so the record proves nothing (a clock far ahead, or a forged record on the
       * unprotected heartbeat branch). Such a heartbeat is stale, with staleAfter the epoch.
       */
      future?: true
      intervalMs: number
    })

/** The schedule interval the policy declares, in ms, or the documented default. */
export function scheduleIntervalOf(policy: Pick<Policy, 'scheduleIntervalMs'>): number {
  return policy.scheduleIntervalMs ?? DEFAULT_SCHEDULE_INTERVAL_MS
}

/**
 * The moment a heartbeat recorded at `evaluatedAt` goes stale, in ms since the epoch, judged at
 * `now`: evaluatedAt + STALE_INTERVALS intervals, or 0 (stale since ever) when evaluatedAt is more
 * than CLOCK_SKEW_MS after `now`: a record from the future must never read as fresh for years.
 */
export function staleAfterMs(evaluatedAt: string, intervalMs: number, now: Date): number {
  const at = Date.parse(evaluatedAt)
  if (at > now.getTime() + CLOCK_SKEW_MS) return 0
  return at + STALE_INTERVALS * intervalMs
}

/**
 * Judges a feature's recorded heartbeat at `now`. No entry (or an unreadable time) is stale:
 * a heartbeat nobody recorded proves nothing runs. Exactly STALE_INTERVALS intervals old is
 * still fresh; a millisecond more is stale. One dated more than CLOCK_SKEW_MS after `now` is
 * stale and marked `future`; within the skew it counts as just evaluated.
 */
export function assessHeartbeat(
  entry: HeartbeatEntry | undefined,
  intervalMs: number,
  now: Date
): Heartbeat {
  const at = entry ? Date.parse(entry.evaluatedAt) : NaN
  if (!entry || Number.isNaN(at)) return { evaluatedAt: null, stale: true, intervalMs }
  const staleAfter = staleAfterMs(entry.evaluatedAt, intervalMs, now)
  const future = at > now.getTime() + CLOCK_SKEW_MS
  return {
    ...entry,
    staleAfter: new Date(staleAfter).toISOString(),
    stale: future || now.getTime() > staleAfter,
    ageMs: now.getTime() - at,
    intervalMs,
    ...(future ? { future: true as const } : {})
  }
}
