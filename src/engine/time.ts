/** "3h 5m", "2d 4h", "40s": a span of time for people, two units at most. */
export function formatSpan(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000]
  ]
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  const parts: string[] = []
  let rest = ms
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    } else if (parts.length > 0) {
      break
    }
  }
  return parts.join(' ')
}

/** The one accepted form of a written instant, shown in every error about one. */
export const INSTANT_FORM =
  'an RFC 3339 time with an offset, e.g. 2026-11-27T09:00:00Z or 2026-11-27T10:00:00+01:00'

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/**
 * One instant from text a person or a tool wrote: RFC 3339 / ISO 8601 with the date, the time
 * (seconds optional) and an explicit offset (`Z` or `±HH:MM`). Everything else is refused with
 * why, rather than read the way JavaScript's Date would: `2026-02-30` is not March 2, `12` is not
 * December 2001, and a time without an offset is not read in the machine's zone.
 */
export function parseInstant(text: string): { date: Date } | { reason: string } {
  const m = INSTANT.exec(text.trim())
  if (!m) {
    return {
      reason: /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text.trim())
        ? 'it has no offset, so it would mean a different instant in each time zone'
        : 'it is not a date and time'
    }
  }
  const [, y, mo, d, h, mi, s = '0', frac = '', z, sign, oh, om] = m
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (month < 1 || month > 12) return { reason: `month ${mo} does not exist` }
  if (day < 1 || day > daysInMonth) return { reason: `${y}-${mo} has no day ${d}` }
  if (hour > 23 || minute > 59 || second > 59)
    return { reason: `${h}:${mi}:${s} is not a time of day` }
  const offsetMin = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om))
  if (!z && (Number(oh) > 23 || Number(om) > 59))
    return { reason: `${sign}${oh}:${om} is not an offset` }
  const ms = Math.floor(Number(`0${frac || '.0'}`) * 1000)
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000
  return { date: new Date(utc) }
}

/**
 * How far past the machine clock a committed time may be (ms): two machines' clocks differ by
 * seconds, not by more. A committing command's time beyond it (a `--now` typo: 2099 for 2026)
 * would commit a phase entered in the future, and every tick before that date would then hold a
 * fired trigger "waiting for a reading taken after it" (attack A17).
 */
export const CLOCK_SKEW_MS = 5 * 60_000

/**
 * Why `now` cannot date a commit: it is more than CLOCK_SKEW_MS after `clock` (the machine's
 * time, ms since the epoch); undefined when it may.
 */
export function futureBeyondSkew(now: Date, clock: number = Date.now()): string | undefined {
  if (now.getTime() <= clock + CLOCK_SKEW_MS) return undefined
  return `${now.toISOString()} is more than ${formatSpan(CLOCK_SKEW_MS)} after this machine's clock (${new Date(clock).toISOString()})`
}
