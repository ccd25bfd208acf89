import type { DiscardedPoint } from '../engine/types.js'

/**
 * Exactly one finite number, or why the answer is not one. Prometheus writes sample values as
 * strings ("0.004", "NaN", "+Inf"), JSON APIs as numbers; both are accepted.
 */
export function finiteNumber(raw: unknown): { value: number } | { reason: string } {
  if (Array.isArray(raw)) return { reason: `several values (${raw.length}) where one is expected` }
  if (raw === null || raw === undefined) return { reason: 'the value is null' }
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' ? parseNumber(raw) : undefined
  if (value === undefined) return { reason: `the value ${JSON.stringify(raw)} is not a number` }
  if (Number.isNaN(value)) return { reason: 'the value is NaN' }
  if (!Number.isFinite(value)) return { reason: `the value is ${value > 0 ? '+Inf' : '-Inf'}` }
  return { value }
}

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim()
  if (/^[+-]?nan$/i.test(trimmed)) return NaN
  if (/^[+-]?inf(inity)?$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity
  const value = trimmed === '' ? NaN : Number(trimmed)
  return Number.isNaN(value) ? undefined : value
}

/**
 * Range data from a source's [time, value] points (time already epoch seconds): a value that is
 * not a finite number becomes NaN (a gap, never a breach) and is listed, as written, in
 * `discarded` (absent when none was).
 */
export function numberedSeries(points: ReadonlyArray<readonly [number, unknown]>): {
  series: Array<[number, number]>
  discarded: { discarded?: DiscardedPoint[] }
} {
  const dropped: DiscardedPoint[] = []
  const series = points.map(([t, raw]): [number, number] => {
    const number = finiteNumber(raw)
    if ('value' in number) return [t, number.value]
    dropped.push({
      at: t,
      written: typeof raw === 'string' ? raw : JSON.stringify(raw),
      why: number.reason
    })
    return [t, NaN]
  })
  return { series, discarded: dropped.length ? { discarded: dropped } : {} }
}

/**
 * The first point of `times` (epoch seconds) that is not strictly after the one before it, and
 * why, or undefined when they are oldest first. Every series source refuses such a series rather
 * than sorting it: read as written, points out of order shorten a sustained breach, and two points
 * at one instant say two things about it.
 */
export function outOfOrder(
  times: readonly number[]
): { index: number; reason: string } | undefined {
  for (let i = 1; i < times.length; i++) {
    if (times[i]! > times[i - 1]!) continue
    const [here, before] = [times[i]!, times[i - 1]!].map(t => new Date(t * 1000).toISOString())
    return {
      index: i,
      reason:
        times[i] === times[i - 1]
          ? `two points at the same time ${here}`
          : `series points must be oldest first; ${here} comes after ${before}`
    }
  }
  return undefined
}

/**
 * Why `value`, a source's number for the instant `atS` (epoch seconds), disagrees with the point
 * of `series` at that instant, or undefined when they agree or the series has no number there.
 * The point "at" it is the latest at or before `atS` no further from it than half the series'
 * step (`stepS` as the source states it, else its shortest spacing; at least a second). One metric
 * at one instant has one value: a gate reading the series (`for:`) and a trigger reading the
 * value must never see two.
 */
export function valueAgainstSeries(
  value: number,
  series: ReadonlyArray<readonly [number, number]>,
  atS: number,
  stepS?: number
): { point: readonly [number, number]; reason: string } | undefined {
  const spacing = series.slice(1).map(([t], i) => t - series[i]![0])
  const step = stepS ?? (spacing.length ? Math.min(...spacing) : 0)
  const point = series.findLast(([t]) => t <= atS)
  if (!point || atS - point[0] > Math.max(step / 2, 1)) return undefined
  const [t, v] = point
  if (!Number.isFinite(v) || Math.abs(v - value) <= 1e-9 * Math.max(Math.abs(v), Math.abs(value)))
    return undefined
  return {
    point,
    reason: `value ${value} disagrees with its series, which has ${v} at ${new Date(t * 1000).toISOString()}, the instant the value is for`
  }
}
