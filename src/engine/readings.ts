import { formatSpan } from './time.js'
import { withUnit } from './units.js'
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

/**
 * A threshold as it is compared, in its metric's unit: "< 0.5 s"; with the text as written after it
 * when that was in another unit: "< 0.5 s (written < 500ms)". Without a unit, as written.
 */
export function shownThreshold(threshold: Threshold): string {
  const { op, value, unit, source } = threshold
  if (!unit) return source
  if (/\d$/.test(source)) return `${source} ${unit}`
  const compared = `${op} ${value} ${unit}`
  return compared.replace(/\s+/g, '') === source.replace(/\s+/g, '')
    ? compared
    : `${compared} (written ${source})`
}

/** Evidence fields saying the unit a threshold was compared in, when it has one. */
export function comparedIn(threshold: Threshold): { unit?: string; compared?: string } {
  return threshold.unit ? { unit: threshold.unit, compared: shownThreshold(threshold) } : {}
}

/** A reading's value for reports, in the unit `threshold` is in: "2 s". */
export function shownValue(value: number, threshold: Pick<Threshold, 'unit'>): string {
  return withUnit(value, threshold.unit)
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
 * state is kept between runs: every sample in the window breaches, and the samples cover the
 * window: from its start to `now` no stretch is longer than the source's step with half a step of
 * slack, so a gap is never read as a sustained breach. The step is the one the source states
 * (reading.stepS: Prometheus' query step, a snapshot's `step:`), else the series' shortest spacing
 * when it has at least three points; two points alone cannot vouch for the gap between them.
 * `what` words the reason: a trigger's or alert's `breach`, or a gate's `success`.
 */
export function heldFor(
  reading: MetricReading,
  forMs: number,
  now: Date,
  breaches: (value: number) => boolean,
  what: 'breach' | 'success'
): { held: boolean; reason: string } {
  if (forMs <= 0) return { held: true, reason: '' }
  const span = formatSpan(forMs)
  const series = reading.series ?? []
  const end = now.getTime() / 1000
  const start = end - forMs / 1000
  const inWindow = series.filter(([t]) => t >= start - 1e-9 && t <= end)
  if (inWindow.length === 0)
    return {
      held: false,
      reason: `no range data covering the last ${span}: a for: window needs timestamped points`
    }
  const lastOk = inWindow.findLast(([, v]) => !(Number.isFinite(v) && breaches(v)))
  if (lastOk) {
    // A discarded point is named as the source wrote it, with why, never as the NaN it became.
    const dropped = Number.isFinite(lastOk[1])
      ? undefined
      : reading.discarded?.find(d => d.at === lastOk[0])
    return {
      held: false,
      reason: `not sustained: within the window ${
        dropped
          ? `${dropped.written} at ${iso(lastOk[0])} was discarded (${dropped.why})`
          : Number.isFinite(lastOk[1])
            ? `it was ${lastOk[1]} at ${iso(lastOk[0])}`
            : `${lastOk[1]} at ${iso(lastOk[0])} was discarded (not a number)`
      }`
    }
  }
  const step = reading.stepS ?? inferredStep(series)
  if (step === undefined)
    return {
      held: false,
      reason: `${series.length} point${series.length === 1 ? '' : 's'} cannot show the source's step, so a gap between them cannot be told from cover: give the series a step: or more points`
    }
  const gap = widestGap(step, inWindow, start, end)
  if (gap) {
    // Before the first point: the breach began inside the window; a gap after a point is a gap.
    if (gap.from === start && gap.to === inWindow[0]![0])
      return {
        held: false,
        reason: `${what === 'breach' ? 'breaching' : 'met'} since ${iso(inWindow[0]![0])}, not yet for the full window`
      }
    return {
      held: false,
      reason: `no data between ${iso(gap.from)} and ${iso(gap.to)} (${formatSpan((gap.to - gap.from) * 1000)}): a gap in the last ${span}${what === 'breach' ? ' is not a sustained breach' : ': success is not shown held'}`
    }
  }
  return { held: true, reason: `held for ${span}` }
}

/**
 * The series' shortest spacing in seconds, or undefined with fewer than three points: with two,
 * the only spacing is the very gap being judged.
 */
function inferredStep(series: Array<[number, number]>): number | undefined {
  if (series.length < 3) return undefined
  let step = Infinity
  for (let i = 1; i < series.length; i++) {
    const spacing = series[i]![0] - series[i - 1]![0]
    if (spacing > 0) step = Math.min(step, spacing)
  }
  return Number.isFinite(step) ? step : undefined
}

/**
 * The first stretch of the window [start, end] with no sample that is longer than one and a half
 * `step` (seconds), or undefined when the samples cover the window.
 */
function widestGap(
  step: number,
  inWindow: Array<[number, number]>,
  start: number,
  end: number
): { from: number; to: number } | undefined {
  // At least a second of slack for clock rounding.
  const allowed = Math.max(1.5 * step, 1)
  const edges = [start, ...inWindow.map(([t]) => t), end]
  for (let i = 1; i < edges.length; i++) {
    if (edges[i]! - edges[i - 1]! > allowed) return { from: edges[i - 1]!, to: edges[i]! }
  }
  return undefined
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString()
}
