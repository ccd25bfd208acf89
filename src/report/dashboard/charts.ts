import { severityOf, SEVERITY_RANK } from '../../engine/alerts.js'
import type { AlertRule, MetricReading, Policy } from '../../engine/types.js'
import type { ExperimentAnalysis } from '../../experiments/analysis.js'
import type { HistoryEntry, SkippedCommit } from '../../git/transitions.js'

// The charts' data, computed here (pure) and drawn in the browser by uPlot (assets.ts). Each chart
// also gets a text alternative built from the same data (render.ts), so the numbers a reader
// sees in a table are the ones drawn.

/** One step of the rollout timeline: from `at` on, the rollout was in `phase`. */
export interface TimelinePoint {
  /** Epoch milliseconds. */
  at: number
  phase: string
  /** Index in the policy's ladder; -1 for a phase the policy no longer has. */
  index: number
  /**
   * Users exposed from `at` on, as recorded then (the datafile the transition committed) or, for
   * the closing point, the exposure in force now; null where that is unknown (a transition from
   * before datafiles): never today's policy's figure for a past step.
   */
  percent: number | null
  enabled: boolean
  /** The transition that started this step; absent for a datafile refresh and the closing point. */
  entry?: HistoryEntry
}

/**
 * The rollout's phase and exposure over time, one point per transition (oldest first) and a last
 * one at `now` so the final step reaches the present. Empty before the rollout starts.
 * A transition's percentage is the one its commit recorded (HistoryEntry.usersPercent), the
 * closing point's `inForce` (users exposed now, 0-100: the FeatureView's exposure, which a raise
 * held by a pause or freeze window keeps below the policy's figure). `refreshes` (datafile
 * refreshes, any order) add a point without a transition where the share changed between two.
 * The feature page and its CSV both ask for the same history's points: they are computed once
 * (per history array, policy, `now` and `inForce`).
 */
export function timelinePoints(
  policy: Policy,
  history: HistoryEntry[],
  now: Date,
  inForce: number,
  refreshes: Array<Pick<SkippedCommit, 'at' | 'usersPercent'>> = NO_REFRESHES
): TimelinePoint[] {
  const known = computed.get(history)
  if (
    known &&
    known.policy === policy &&
    known.now === now.getTime() &&
    known.inForce === inForce &&
    known.refreshes === refreshes
  )
    return known.points
  const index = new Map<string, number>()
  policy.phases.forEach((p, i) => {
    if (!index.has(p.name)) index.set(p.name, i)
  })
  const step = (
    phase: string,
    enabled: boolean,
    at: number,
    percent: number | null
  ): TimelinePoint => ({ at, phase, index: index.get(phase) ?? -1, percent, enabled })
  const points: TimelinePoint[] = []
  // A datafile refresh changes the share in force within a step: a point of its own, no marker.
  const later = refreshes
    .map(r => ({ at: Date.parse(r.at), percent: r.usersPercent ?? null }))
    .sort((a, b) => a.at - b.at)
  let next = 0
  const refreshedUntil = (until: number) => {
    for (; next < later.length && later[next]!.at < until; next++) {
      const r = later[next]!
      const last = points.at(-1)
      if (last && r.at > last.at) points.push(step(last.phase, last.enabled, r.at, r.percent))
    }
  }
  let enabled = true
  for (const entry of history) {
    if (entry.kind === 'emergency') enabled = false
    if (entry.kind === 'resume') enabled = true
    const at = Date.parse(entry.at)
    refreshedUntil(at)
    const point = step(entry.to, enabled, at, entry.usersPercent ?? null)
    point.entry = entry
    points.push(point)
  }
  refreshedUntil(now.getTime())
  const last = points.at(-1)
  if (last && now.getTime() > last.at)
    points.push(step(last.phase, last.enabled, now.getTime(), inForce))
  computed.set(history, { policy, now: now.getTime(), inForce, refreshes, points })
  return points
}

const NO_REFRESHES: Array<Pick<SkippedCommit, 'at' | 'usersPercent'>> = []

const computed = new WeakMap<
  HistoryEntry[],
  { policy: Policy; now: number; inForce: number; refreshes: unknown; points: TimelinePoint[] }
>()

export type MarkKind = 'advance' | 'rollback' | 'emergency' | 'resume' | 'pause' | 'init'

export const MARK_KINDS: readonly MarkKind[] = [
  'advance',
  'rollback',
  'emergency',
  'resume',
  'pause',
  'init'
]

/**
 * The timeline as the page carries it: parallel arrays of numbers, each string once (a feature
 * with 1,000 transitions has 1,000 points; a mark as an object with its commit URL was ~150 bytes).
 */
export interface TimelineChart {
  type: 'timeline'
  id: string
  phases: string[]
  /** Epoch seconds. */
  x: number[]
  phase: Array<number | null>
  /** null where the share then is unknown: a gap in the line. */
  percent: Array<number | null>
  /** MARK_KINDS, which `kind` indexes. */
  kinds: readonly MarkKind[]
  /** Per point: the index in `kinds` of the transition that starts it; -1 for a refresh or "now". */
  kind: number[]
  /** The commit page of a sha is commitBase + sha; null when the repository has no web address. */
  commitBase: string | null
  /** Per point: the transition's commit (for a click on its marker); empty without commitBase. */
  sha: Array<string | null>
}

export interface SeriesChart {
  type: 'series'
  id: string
  metric: string
  x: number[]
  y: number[]
  /** Horizontal lines: the alert's warning and critical thresholds and rollback triggers. */
  lines: Array<{ label: string; value: number; level: 'warning' | 'critical' | 'trigger' }>
}

export interface IntervalChart {
  type: 'intervals'
  id: string
  /** "metric (treatment vs control)" per row. */
  labels: string[]
  /** The axis's shorter labels: the metric, and the treatment when there are several. */
  ticks: string[]
  /** Relative differences in percent. */
  estimate: number[]
  lower: number[]
  upper: number[]
}

export interface AlertTrendChart {
  type: 'alerts'
  id: string
  metric: string
  /** Bucket starts, epoch seconds. */
  x: number[]
  warning: number[]
  critical: number[]
  bucket: 'hour' | 'day'
}

export type ChartSpec = TimelineChart | SeriesChart | IntervalChart | AlertTrendChart

/** `commitBase`: the repository's commit page prefix (`.../commit/`), when it has one. */
export function timelineChart(
  id: string,
  policy: Policy,
  points: TimelinePoint[],
  commitBase: string | undefined
): TimelineChart {
  return {
    type: 'timeline',
    id,
    phases: policy.phases.map(p => p.name),
    x: points.map(p => Math.round(p.at / 1000)),
    phase: points.map(p => (p.index >= 0 ? p.index : null)),
    percent: points.map(p => p.percent),
    kinds: MARK_KINDS,
    kind: points.map(p => (p.entry ? MARK_KINDS.indexOf(p.entry.kind as MarkKind) : -1)),
    commitBase: commitBase ?? null,
    sha: commitBase ? points.map(p => p.entry?.sha ?? null) : []
  }
}

/** The lines drawn across a metric's chart: its alert thresholds and any rollback trigger on it. */
export function thresholdLines(policy: Policy, metric: string): SeriesChart['lines'] {
  const lines: SeriesChart['lines'] = []
  const rule = policy.alerts.find(a => a.metric === metric)
  if (rule) {
    lines.push({ label: `warning ${rule.warning}`, value: rule.warning, level: 'warning' })
    lines.push({ label: `critical ${rule.critical}`, value: rule.critical, level: 'critical' })
  }
  for (const t of policy.triggers) {
    if (t.kind === 'metric' && t.metric === metric)
      lines.push({ label: `rollback ${t.source}`, value: t.threshold.value, level: 'trigger' })
  }
  return lines
}

export function seriesChart(id: string, policy: Policy, reading: MetricReading): SeriesChart {
  const series = reading.series ?? []
  return {
    type: 'series',
    id,
    metric: reading.metric,
    x: series.map(([t]) => t),
    y: series.map(([, v]) => v),
    lines: thresholdLines(policy, reading.metric)
  }
}

export function intervalChart(id: string, analysis: ExperimentAnalysis): IntervalChart | undefined {
  const rows = analysis.metrics.flatMap(m =>
    m.comparisons.map(c => {
      const interval = (c.sequential ?? c.fixedHorizon).relativeInterval
      return {
        label: `${m.metric} (${c.treatment} vs ${analysis.control})`,
        tick: m.comparisons.length > 1 ? `${m.metric} (${c.treatment})` : m.metric,
        estimate: percent(c.relativeDifference),
        lower: percent(interval[0]),
        upper: percent(interval[1])
      }
    })
  )
  const finite = rows.filter(r => [r.estimate, r.lower, r.upper].every(Number.isFinite))
  if (finite.length === 0) return undefined
  return {
    type: 'intervals',
    id,
    labels: finite.map(r => r.label),
    ticks: finite.map(r => r.tick),
    estimate: finite.map(r => r.estimate),
    lower: finite.map(r => r.lower),
    upper: finite.map(r => r.upper)
  }
}

const percent = (ratio: number) => Math.round(ratio * 100_000) / 1000

const HOUR_S = 3600
const DAY_S = 86_400

/**
 * How often the metric's series was past its alert thresholds, per hour (series up to 3 days
 * long) or per day: points at low or medium severity count as warning, high or critical as
 * critical. Undefined without range data.
 */
export function alertTrendChart(
  id: string,
  rule: AlertRule,
  reading: MetricReading | undefined
): AlertTrendChart | undefined {
  const series = reading?.series ?? []
  if (series.length === 0) return undefined
  const span = series.at(-1)![0] - series[0]![0]
  const size = span > 3 * DAY_S ? DAY_S : HOUR_S
  const first = Math.floor(series[0]![0] / size) * size
  const count = Math.floor((series.at(-1)![0] - first) / size) + 1
  const warning = new Array<number>(count).fill(0)
  const critical = new Array<number>(count).fill(0)
  for (const [t, v] of series) {
    const severity = severityOf(rule, v)
    if (!severity) continue
    const i = Math.floor((t - first) / size)
    if (SEVERITY_RANK[severity] >= SEVERITY_RANK.high) critical[i]!++
    else warning[i]!++
  }
  return {
    type: 'alerts',
    id,
    metric: rule.metric,
    x: warning.map((_, i) => first + i * size),
    warning,
    critical,
    bucket: size === DAY_S ? 'day' : 'hour'
  }
}
