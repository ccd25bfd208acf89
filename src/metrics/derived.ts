import * as z from 'zod'
import type { MetricReading } from '../engine/types.js'
import { lazy } from '../lazy.js'
import { parseDuration } from '../policy/quantities.js'
import type { MetricRequest, ReadContext } from './provider.js'

// performance_degradation is the relative increase of a latency metric over a baseline:
//   per experiment group: latency(group) / latency(control group) - 1
//   for the whole rollout: latency(now) / latency(baseline_offset earlier) - 1
// unless the policy gives performance_degradation a query of its own, which then wins.

export const PERFORMANCE_DEGRADATION = 'performance_degradation'

export const degradationSchema = lazy(() =>
  z.strictObject({
    latency: z.string().min(1),
    control_group: z.string().min(1).default('control'),
    baseline_offset: z
      .string()
      .refine(s => parseDuration(s).ok, {
        message: 'baseline_offset must be a duration such as 1d'
      })
      .optional()
  })
)

export type DegradationOptions = z.infer<ReturnType<typeof degradationSchema>>

export type ReadFn = (requests: MetricRequest[], context: ReadContext) => Promise<MetricReading[]>

/** The relative change of `current` over `baseline`, or why there is none. */
export function relativeChange(
  current: number,
  baseline: number
): { value: number } | { reason: string } {
  if (!(baseline > 0)) return { reason: `the baseline latency is ${baseline}, not above 0` }
  return { value: current / baseline - 1 }
}

/** The pointwise relative change of two series, matching points `shiftS` seconds apart. */
export function relativeSeries(
  current: Array<[number, number]>,
  baseline: Array<[number, number]>,
  shiftS = 0
): Array<[number, number]> {
  const byTime = new Map(baseline.map(([t, v]) => [Math.round((t + shiftS) * 1000), v]))
  const out: Array<[number, number]> = []
  for (const [t, v] of current) {
    const base = byTime.get(Math.round(t * 1000))
    if (base === undefined) continue
    const change = relativeChange(v, base)
    out.push([t, 'value' in change ? change.value : NaN])
  }
  return out
}

/** A duration the options schema has already checked, in ms (0 when absent). */
export function durationMs(text: string | undefined): number {
  const parsed = text === undefined ? undefined : parseDuration(text)
  return parsed?.ok ? parsed.value : 0
}

const keyOf = (r: { metric: string; group?: string }) => `${r.metric}\u0000${r.group ?? ''}`

/**
 * Reads `requests` through `read`, computing performance_degradation from latency readings where
 * the policy has no query for it (`hasQuery` false) and `options` says how.
 */
export async function readWithDerived(
  requests: MetricRequest[],
  context: ReadContext,
  options: DegradationOptions | undefined,
  hasQuery: (request: MetricRequest) => boolean,
  read: ReadFn
): Promise<MetricReading[]> {
  const derived = (r: MetricRequest) =>
    options !== undefined && r.metric === PERFORMANCE_DEGRADATION && !hasQuery(r)
  const wanted = new Map<string, MetricRequest>()
  const want = (request: MetricRequest) => {
    const existing = wanted.get(keyOf(request))
    const rangeMs = Math.max(request.rangeMs ?? 0, existing?.rangeMs ?? 0)
    wanted.set(keyOf(request), {
      metric: request.metric,
      ...(request.group !== undefined ? { group: request.group } : {}),
      ...(rangeMs > 0 ? { rangeMs } : {})
    })
  }
  const baselineWanted: MetricRequest[] = []
  for (const request of requests) {
    if (!derived(request)) {
      want(request)
      continue
    }
    const latency = { ...request, metric: options!.latency }
    want(latency)
    if (request.group !== undefined) want({ ...latency, group: options!.control_group })
    else if (options!.baseline_offset) baselineWanted.push(latency)
  }
  const offsetMs = durationMs(options?.baseline_offset)
  const [now, before] = await Promise.all([
    read([...wanted.values()], context),
    baselineWanted.length
      ? read(baselineWanted, { ...context, now: new Date(context.now.getTime() - offsetMs) })
      : Promise.resolve([])
  ])
  const found = new Map(now.map(r => [keyOf(r), r]))
  const foundBefore = new Map(before.map(r => [keyOf(r), r]))

  return requests.map(request => {
    if (!derived(request)) return found.get(keyOf(request))!
    const { latency, control_group: control, baseline_offset: offset } = options!
    const current = found.get(keyOf({ metric: latency, group: request.group }))!
    const baseline =
      request.group !== undefined
        ? found.get(keyOf({ metric: latency, group: control }))
        : foundBefore.get(keyOf({ metric: latency }))
    const label = request.group !== undefined ? ` for group ${request.group}` : ''
    const noData = (reason: string): MetricReading => ({
      metric: request.metric,
      ...(request.group !== undefined ? { group: request.group } : {}),
      value: null,
      reason: `${PERFORMANCE_DEGRADATION}${label}: ${reason}`
    })
    if (!baseline) {
      return noData(
        `the policy has no query for it and no baseline_offset to compare ${latency} with`
      )
    }
    const baselineName =
      request.group !== undefined
        ? `${latency} of group ${control}`
        : `${latency} ${offset} earlier`
    if (current.value === null) return noData(`${latency}${label} has no data: ${current.reason}`)
    if (baseline.value === null) return noData(`${baselineName} has no data: ${baseline.reason}`)
    const change = relativeChange(current.value, baseline.value)
    if (!('value' in change)) return noData(`${baselineName}: ${change.reason}`)
    const series =
      current.series && baseline.series
        ? relativeSeries(current.series, baseline.series, request.group ? 0 : offsetMs / 1000)
        : undefined
    return {
      metric: request.metric,
      ...(request.group !== undefined ? { group: request.group } : {}),
      value: change.value,
      ...(series ? { series } : {})
    }
  })
}
