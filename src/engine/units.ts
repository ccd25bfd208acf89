// Units of time a threshold may be written in, and the units a metric may declare its readings
// in. A threshold written with a unit ("< 0.5s", 5000ms) is converted into the metric's unit once,
// when the policy is loaded, so that every comparison is between numbers in the same unit.

/** Milliseconds per unit, for every spelling of a time unit a metric may declare. */
const MS_PER: Record<string, number> = {
  ns: 1e-6,
  nanosecond: 1e-6,
  nanoseconds: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  microsecond: 1e-3,
  microseconds: 1e-3,
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  millis: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000
}

/** Milliseconds in one `unit`, or undefined when `unit` is not a unit of time ("%", "USD"). */
export function msPerUnit(unit: string): number | undefined {
  return MS_PER[unit.trim().toLowerCase()]
}

/**
 * `ms` milliseconds expressed in `unit` (a unit of time), rounded to 12 significant digits so that
 * 1.1s is 1.1 s and not 1.1000000000000002; undefined when `unit` is not a unit of time.
 */
export function fromMs(ms: number, unit: string): number | undefined {
  const per = msPerUnit(unit)
  return per === undefined ? undefined : Number((ms / per).toPrecision(12))
}

/** "2" or "2 s": a number with the unit it is in, for reports. */
export function withUnit(value: number, unit: string | undefined): string {
  return unit ? `${value} ${unit}` : String(value)
}
