import type { Comparator, MetricReading, Threshold } from './types.js'

export function findReading(
  readings: MetricReading[],
  metric: string,
  group?: string
): MetricReading | undefined {
  return readings.find(r => r.metric === metric && r.group === group)
}

const COMPARE: Record<Comparator, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b
}

export function meets(threshold: Threshold, value: number): boolean {
  return COMPARE[threshold.op](value, threshold.value)
}

/** A usable number from a reading, or why there is none. Missing and NaN data are never values. */
export function usableValue(
  reading: MetricReading | undefined,
  metric: string
): { value: number } | { reason: string } {
  if (!reading) return { reason: `no reading for ${metric}` }
  if (reading.value === null)
    return { reason: `no data for ${metric}: ${reading.reason ?? 'the source returned nothing'}` }
  if (!Number.isFinite(reading.value))
    return { reason: `no data for ${metric}: value is ${reading.value}` }
  return { value: reading.value }
}

/**
 * Why a trigger's evidence predates `since` (when the phase was entered), or undefined when it
 * does not: the reading's window, and a `for:` window of `forMs` before `now`, must both start at
 * or after it, so one bad reading costs one phase, not one phase per tick.
 */
export function olderThan(
  reading: MetricReading,
  forMs: number,
  now: Date,
  since: Date | undefined
): string | undefined {
  if (!since) return undefined
  const sinceS = since.getTime() / 1000
  const starts = [
    ...(reading.windowStart !== undefined ? [reading.windowStart] : []),
    ...(forMs > 0 ? [(now.getTime() - forMs) / 1000] : [])
  ]
  if (starts.length === 0) return undefined
  const start = Math.min(...starts)
  if (start >= sinceS) return undefined
  return `its evidence window starts at ${new Date(start * 1000).toISOString()}, before`
}

/**
 * Whether `breaches` has held for `forMs` up to `now`, judged from range data alone so that no
 * state is kept between runs: every sample in the window breaches, and the samples reach back to
 * the window's start (within one step), so a gap is never read as a sustained breach.
 */
export function heldFor(
  reading: MetricReading,
  forMs: number,
  now: Date,
  breaches: (value: number) => boolean
): { held: boolean; reason: string } {
  if (forMs <= 0) return { held: true, reason: '' }
  const series = reading.series ?? []
  const end = now.getTime() / 1000
  const start = end - forMs / 1000
  const inWindow = series.filter(([t]) => t >= start - 1e-9 && t <= end)
  if (inWindow.length === 0)
    return { held: false, reason: `no range data covering the last ${forMs / 60000}m` }
  const step = series.length > 1 ? series[1]![0] - series[0]![0] : 0
  const covered = inWindow[0]![0] <= start + Math.max(step, 1)
  const lastOk = inWindow.findLast(([, v]) => !(Number.isFinite(v) && breaches(v)))
  if (lastOk) {
    return {
      held: false,
      reason: `not sustained: within the window it was ${lastOk[1]} at ${new Date(lastOk[0] * 1000).toISOString()}`
    }
  }
  if (!covered)
    return {
      held: false,
      reason: `breaching since ${new Date(inWindow[0]![0] * 1000).toISOString()}, not yet for the full window`
    }
  return { held: true, reason: `held for ${forMs / 60000}m` }
}
