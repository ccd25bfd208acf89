import { DateTime } from 'luxon'
import type { FreezeWindow } from './types.js'

// Freeze windows: whether an instant lies inside one, and when none is open any more. Membership
// is read on the window's wall clock (luxon does the time-zone arithmetic); where a DST change
// makes a wall time happen twice or never, the end found from wall times is corrected minute by
// minute, since windows and every zone's offsets are whole minutes.

const MINUTE = 60_000

/** Every zone's DST change is at most this far from the wall time it moves (Lord Howe: 30m). */
const DST_SLACK_MINUTES = 180

function wallClock(window: FreezeWindow, at: number): DateTime {
  return DateTime.fromMillis(at, { zone: window.timeZone })
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number]
  return h * 60 + m
}

/** Whether the instant `at` (epoch ms) lies inside `window`, read on its zone's wall clock. */
export function insideWindow(window: FreezeWindow, at: number): boolean {
  const local = wallClock(window, at)
  switch (window.kind) {
    case 'weekends':
      return local.weekday >= 6
    case 'dates': {
      const day = local.toISODate()!
      return day >= window.from && day <= window.to
    }
    case 'daily': {
      const minute = local.hour * 60 + local.minute
      const from = minutesOf(window.from)
      const to = minutesOf(window.to)
      return from < to ? minute >= from && minute < to : minute >= from || minute < to
    }
  }
}

/** Where `window`, open at `at`, ends by its wall clock; DST can make this off by an hour or so. */
function roughEnd(window: FreezeWindow, at: number): number {
  const local = wallClock(window, at)
  const midnight = local.startOf('day')
  switch (window.kind) {
    case 'weekends':
      return midnight
        .plus({ days: 8 - local.weekday })
        .startOf('day')
        .toMillis()
    case 'dates':
      return DateTime.fromISO(window.to, { zone: window.timeZone })
        .plus({ days: 1 })
        .startOf('day')
        .toMillis()
    case 'daily': {
      const to = minutesOf(window.to)
      const day = local.hour * 60 + local.minute < to ? midnight : midnight.plus({ days: 1 })
      return day.set({ hour: Math.floor(to / 60), minute: to % 60 }).toMillis()
    }
  }
}

/** The first whole minute after `at` at which `window` is closed, from its rough end. */
function exactEnd(window: FreezeWindow, at: number): number {
  let end = Math.floor(roughEnd(window, at) / MINUTE) * MINUTE
  if (end <= at) end = Math.floor(at / MINUTE) * MINUTE + MINUTE
  // A wall time that happens twice: the rough end may be its first occurrence.
  for (let i = 0; i < DST_SLACK_MINUTES && insideWindow(window, end); i++) end += MINUTE
  // A wall time that never happens: the window closed at the jump, before the rough end.
  for (
    let i = 0;
    i < DST_SLACK_MINUTES && end - MINUTE > at && !insideWindow(window, end - MINUTE);
    i++
  )
    end -= MINUTE
  return end
}

/** How far ahead the end of chained windows is looked for. */
const HORIZON_ROUNDS = 400

/**
 * The freeze window open at `now`, and the first instant at which no window is open (windows
 * that meet or overlap are followed to their end); undefined when none is open. `endless`: the
 * windows chain without a gap for as far as it looked (`endsAt` is where it stopped looking).
 */
export function openFreeze(
  windows: FreezeWindow[],
  now: Date
): { window: FreezeWindow; endsAt: Date; endless?: true } | undefined {
  const open = windows.filter(w => insideWindow(w, now.getTime()))
  if (open.length === 0) return undefined
  let end = now.getTime()
  for (let round = 0; round < HORIZON_ROUNDS; round++) {
    const still = windows.filter(w => insideWindow(w, end))
    if (still.length === 0) return { window: open[0]!, endsAt: new Date(end) }
    end = Math.max(...still.map(w => exactEnd(w, end)))
  }
  return { window: open[0]!, endsAt: new Date(end), endless: true }
}

/** "weekends (Europe/Berlin)": a window as reports name it. */
export function describeWindow(window: FreezeWindow): string {
  const span =
    window.kind === 'weekends'
      ? 'Saturday 00:00 to Monday 00:00'
      : window.kind === 'dates'
        ? `${window.from} to ${window.to}`
        : `daily ${window.from} to ${window.to}`
  return `"${window.name}" (${span}, ${window.timeZone})`
}

/** The instant as the window's wall clock shows it, e.g. "2026-12-07 00:00 Europe/Berlin". */
export function localTime(window: FreezeWindow, at: Date): string {
  return `${wallClock(window, at.getTime()).toFormat('yyyy-MM-dd HH:mm')} ${window.timeZone}`
}
