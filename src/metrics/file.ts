import { existsSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import * as z from 'zod'
import { CLOCK_SKEW_MS, INSTANT_FORM, parseInstant } from '../engine/time.js'
import type { MetricReading, MetricsConfig } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { closest } from '../policy/closest.js'
import { parseDuration } from '../policy/quantities.js'
import { PolicyIssues } from '../policy/normalize.js'
import { symlinkEscape } from '../policy/paths.js'
import { errorAt, readYamlFile, toPlain, validate, type YamlSource } from '../policy/yaml.js'
import { durationMs } from './derived.js'
import type { MetricRequest, MetricsProvider, ReadContext } from './provider.js'
import { finiteNumber, outOfOrder, valueAgainstSeries } from './value.js'

// The `file` provider reads a snapshot of metric values from a YAML or JSON file: the embedded
// default, used by the quick start, tests and teams that export metrics from elsewhere.
//
//   error_rate: 0.004                  # a value for the whole rollout
//   response_time: { value: 820, samples: 1500 }
//   error_rate_history: ...            # (any other metric name)
//   groups:                            # per experiment group
//     control: { response_time: 800 }
//     treatment: { response_time: 840 }
//
// A metric may carry `series: [[time, value], ...]` (oldest first; time as RFC 3339 with an
// offset or epoch seconds) for `for:` windows, and `step: 1m`, the spacing its points promise
// (without it, the series' shortest spacing, which needs at least three points; a gap longer than
// one and a half steps is not covered). A metric the file does not list is "no data",
// never zero; so is a metric written wrong (its reason says where and why), while the rest of the
// file is read: one exporter's mistake never hides another metric's breach.
//
//   as_of: 2026-03-02T10:00:00Z        # when the snapshot was taken (each value covers the
//                                      # policy's window ending then); without it, the tick's
//                                      # time; more than 5 minutes after the evaluation
//                                      # time: no data for every metric (located)
//
// After a transition, triggers fire only on values whose window starts after it, so a snapshot
// that says when it was taken is never mistaken for news.

const optionsSchema = z.strictObject({ path: z.string().min(1).optional() })

// Any number, NaN and infinities included (YAML's .nan, .inf): a value that cannot be true is
// "no data" for that metric alone, not a malformed file that stops every feature's tick. They are
// spelled as words before validation (see spelledNonFinite) so that every other mistake is still
// reported at its own line.
const NON_FINITE: readonly string[] = ['NaN', '+Inf', '-Inf']
// A string schema (not an enum), so that a mapping or a list fails it on type alone and the error
// points inside the branch that was meant.
const nonFinite = z.string().refine(t => NON_FINITE.includes(t), {
  error: issue => `expected a number, got text ${JSON.stringify(issue.input)}`,
  params: { hint: 'write a number, e.g. 0.004' }
})
const anyNumber = z.union([z.number(), nonFinite])
// Every time a snapshot writes (its as_of, its series' points) means one instant: epoch seconds,
// or RFC 3339 with an explicit offset, parsed by the one parser --now and the state file use.
// Epoch milliseconds are refused rather than read as a date thousands of years away.
const LARGEST_EPOCH_SECONDS = 1e11
function writtenInstant(what: string) {
  return z.union(
    [
      z.number().refine(t => Number.isFinite(t) && t >= 0 && t < LARGEST_EPOCH_SECONDS, {
        error: issue =>
          `${what} ${String(issue.input)} is not epoch seconds${Number(issue.input) >= LARGEST_EPOCH_SECONDS ? ' (milliseconds?)' : ''}`,
        params: { hint: 'write epoch seconds, e.g. 1772442000, or 2026-03-02T09:00:00Z' }
      }),
      z.string().refine(t => 'date' in parseInstant(t), {
        error: issue => {
          const parsed = parseInstant(String(issue.input))
          return `${what} must be epoch seconds or ${INSTANT_FORM}; ${JSON.stringify(issue.input)}: ${'reason' in parsed ? parsed.reason : 'not read'}`
        },
        params: { hint: 'add the offset, e.g. 2026-03-02T09:00:00Z' }
      })
    ],
    // What both branches accept, for a value that is neither (see unionKinds).
    { error: `epoch seconds or ${INSTANT_FORM}` }
  )
}
const pointTime = writtenInstant('a series time')
const seriesPoint = z.tuple([pointTime, anyNumber])
// One flat union: a nested one would hide a mistake inside the mapping form behind "expected null".
// The text branch takes only the words for NaN and infinities, so it is not offered as a kind.
const metricValue = z.union(
  [
    z.number(),
    nonFinite,
    z.null(),
    z.strictObject({
      value: anyNumber.nullable(),
      samples: z.number().int().nonnegative().optional(),
      series: z.array(seriesPoint).optional(),
      step: z
        .string()
        .refine(t => parseDuration(t).ok && durationMs(t) > 0, {
          message: 'step must be a duration such as 1m'
        })
        .optional()
    })
  ],
  { error: 'a number, null or a mapping (value:, samples:, series:, step:)' }
)

export function defaultMetricsPath(feature: string): string {
  return `.phasegate/metrics/${feature}.yaml`
}

export function createFileProvider(config: MetricsConfig): MetricsProvider {
  // Parsed once per run: no JIT (see validate() in policy/yaml.ts).
  const parsed = optionsSchema.safeParse(config.options, { jitless: true })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const option = issue.code === 'unrecognized_keys' ? issue.keys[0]! : String(issue.path[0])
    throw new PolicyIssues([
      {
        path: ['metrics', option],
        atKey: issue.code === 'unrecognized_keys',
        message:
          issue.code === 'unrecognized_keys'
            ? `the file provider has no option "${option}"`
            : `the file provider's ${option} must be a non-empty path`,
        hint: 'the file provider takes one option, path: the snapshot file, relative to the repository root'
      }
    ])
  }
  const configuredPath = parsed.data.path
  return {
    name: 'file',
    async read(requests: MetricRequest[], context: ReadContext): Promise<MetricReading[]> {
      const configured = configuredPath ?? defaultMetricsPath(context.feature)
      // A relative path is the policy's (or the default): it must not leave the work tree through
      // a symlink. An absolute one is the command line's --metrics, chosen by whoever runs it.
      const escape = isAbsolute(configured) ? undefined : symlinkEscape(context.baseDir, configured)
      if (escape)
        throw new PhasegateError(`the metrics file ${escape}`, {
          hint: 'metrics snapshots live inside the repository: replace the symlink with a directory'
        })
      const path = isAbsolute(configured) ? configured : join(context.baseDir, configured)
      // Shown from the repository root, as policies write it, even when given as an absolute path.
      const fromRoot = relative(context.baseDir, path)
      const shown = fromRoot.startsWith('..') || isAbsolute(fromRoot) ? path : fromRoot
      if (!existsSync(path)) {
        return requests.map(r => ({
          ...key(r),
          value: null,
          reason: `metrics file ${shown} not found`
        }))
      }
      const read = readSnapshot(path, shown, context.now)
      // A file that cannot be read as a whole (not YAML, not a mapping, an impossible as_of) is
      // no data for every metric, as a missing file is: located in every reading's reason, and
      // never an error that stops the feature's evaluation, which would also stop its other
      // rollback paths (a guardrail, a later readable file) from being judged this tick.
      if ('problem' in read)
        return requests.map(r => ({ ...key(r), value: null, reason: read.problem }))
      const { topMetrics, groups, problems, takenS } = read
      const windowStart =
        takenS === undefined ? undefined : takenS - durationMs(context.window) / 1000
      const stamp = windowStart === undefined ? {} : { windowStart }
      const snapshot = { groups }
      return requests.map(request => {
        const groupProblem = request.group ? problems.get(problemKey(request.group)) : undefined
        if (groupProblem) return { ...key(request), value: null, reason: groupProblem }
        const table = request.group ? snapshot.groups[request.group] : topMetrics
        const problem = problems.get(problemKey(request.group, request.metric))
        if (problem) return { ...key(request), value: null, reason: problem }
        const entry = table?.[request.metric]
        const label = request.group
          ? `${request.metric} for group ${request.group}`
          : request.metric
        if (entry === undefined) {
          // The file provider cannot know its metrics before it reads them: a misspelt name in
          // the policy shows here, on every report, rather than at validation.
          const guess = closest(request.metric, Object.keys(table ?? {}))
          return {
            ...key(request),
            value: null,
            reason: `${label} is not in ${shown}${guess ? ` (did you mean "${guess}"? the policy and the snapshot must use the same name)` : ''}`
          }
        }
        const plain = entry === null || typeof entry !== 'object'
        const raw = plain ? entry : entry.value
        const number = finiteNumber(raw)
        const value =
          'value' in number
            ? { value: number.value }
            : {
                value: null,
                reason:
                  raw === null ? `${label} is null in ${shown}` : `${number.reason} in ${shown}`
              }
        if (plain) return { ...key(request), ...value, ...stamp }
        return {
          ...key(request),
          ...value,
          ...stamp,
          ...(entry.samples !== undefined ? { samples: entry.samples } : {}),
          ...(entry.step !== undefined ? { stepS: durationMs(entry.step) / 1000 } : {}),
          ...(entry.series
            ? {
                series: entry.series.map(
                  ([t, v]) => [instantSeconds(t), Number(v)] as [number, number]
                )
              }
            : {})
        }
      })
    }
  }
}

/** The snapshot with NaN and infinities written as the words Prometheus uses for them. */
function spelledNonFinite(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'
  if (Array.isArray(value)) return value.map(spelledNonFinite)
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, spelledNonFinite(v)]))
  return value
}

/** Epoch seconds of a time the schema has already accepted (epoch seconds or RFC 3339 text). */
function instantSeconds(time: number | string): number {
  if (typeof time === 'number') return time
  const parsed = parseInstant(time)
  return 'date' in parsed ? parsed.date.getTime() / 1000 : NaN
}

type MetricEntry = z.infer<typeof metricValue>

/** A snapshot read metric by metric: what could be read, and why each other metric could not. */
interface ReadSnapshot {
  topMetrics: Record<string, MetricEntry>
  groups: Record<string, Record<string, MetricEntry>>
  /** Located reasons (`file:line:col: ...`), keyed by problemKey. */
  problems: Map<string, string>
  takenS?: number
}

const topSchema = z.looseObject({
  groups: z.record(z.string(), z.unknown()).optional(),
  as_of: writtenInstant('as_of').optional()
})

/** The key of a metric's problem (or, without `metric`, of a whole group's). */
function problemKey(group: string | undefined, metric?: string): string {
  return JSON.stringify([group ?? null, metric ?? null])
}

/**
 * The snapshot at `path`, each metric checked on its own: a metric written wrong (a value in
 * words, an unknown key, a non-integer samples, a series out of order or disagreeing with its
 * value) is no data for that metric alone, with its located reason; the rest is read. Only what
 * makes the whole file unreadable comes back as one `problem` for every metric: not YAML, not a
 * mapping, an as_of that is not a time or is more than CLOCK_SKEW_MS after `now` (an as_of up to
 * that far ahead, an exporter's clock a little fast, reads as taken at `now`).
 */
function readSnapshot(path: string, shown: string, now: Date): ReadSnapshot | { problem: string } {
  let source: YamlSource
  let top: z.infer<typeof topSchema>
  try {
    source = readYamlFile(path, 'metrics file', shown)
    top = validate(topSchema, source, spelledNonFinite(toPlain(source)))
  } catch (error) {
    if (error instanceof PhasegateError) return { problem: error.format() }
    throw error
  }
  let takenS = top.as_of === undefined ? undefined : instantSeconds(top.as_of)
  const nowS = now.getTime() / 1000
  if (takenS !== undefined && takenS > nowS) {
    // A snapshot from well after the evaluation time is not evidence of anything at that time
    // (a clock or a copy gone wrong): no data, not fresh.
    if (takenS * 1000 > now.getTime() + CLOCK_SKEW_MS)
      return {
        problem: errorAt(
          source,
          ['as_of'],
          `the snapshot says it was taken at ${new Date(takenS * 1000).toISOString()}, after the evaluation time ${now.toISOString()}`,
          'write the time the values were read, or evaluate later (--now)'
        ).format()
      }
    takenS = nowS
  }
  // Each value is for the snapshot's as_of, or the evaluation time without one.
  const valueAtS = takenS ?? nowS
  const problems = new Map<string, string>()
  const tableOf = (raw: Record<string, unknown>, at: string[], group?: string) => {
    const table: Record<string, MetricEntry> = {}
    for (const [metric, value] of Object.entries(raw)) {
      const problem = entryProblem(source, [...at, metric], value, valueAtS)
      if ('problem' in problem) problems.set(problemKey(group, metric), problem.problem)
      else table[metric] = problem.entry
    }
    return table
  }
  const plain = top as Record<string, unknown>
  const topMetrics = tableOf(
    Object.fromEntries(Object.entries(plain).filter(([k]) => k !== 'groups' && k !== 'as_of')),
    []
  )
  const groups: Record<string, Record<string, MetricEntry>> = {}
  for (const [group, raw] of Object.entries(top.groups ?? {})) {
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw))
      groups[group] = tableOf(raw as Record<string, unknown>, ['groups', group], group)
    else
      problems.set(
        problemKey(group),
        errorAt(
          source,
          ['groups', group],
          `group ${group} must be a mapping of metric names to values`,
          'e.g. control: { response_time: 800 }'
        ).format()
      )
  }
  return { topMetrics, groups, problems, ...(takenS === undefined ? {} : { takenS }) }
}

/**
 * One metric's entry at `at`, or its located problem: not a number, null or mapping the schema
 * accepts; a series not strictly oldest first (see outOfOrder); a value that disagrees with its
 * own series at `valueAtS` (see valueAgainstSeries).
 */
function entryProblem(
  source: YamlSource,
  at: string[],
  value: unknown,
  valueAtS: number
): { entry: MetricEntry } | { problem: string } {
  let entry: MetricEntry
  try {
    // Wrapped in its path, so that the error points at the metric's own line.
    const wrapped = at.reduceRight<unknown>((inner, k) => ({ [k]: inner }), value)
    const schema = at.reduceRight<z.ZodType>(
      (inner, k) => z.looseObject({ [k]: inner }),
      metricValue
    )
    let checked = validate(schema, source, wrapped) as Record<string, unknown>
    for (const k of at) checked = checked[k] as Record<string, unknown>
    entry = checked as unknown as MetricEntry
  } catch (error) {
    if (error instanceof PhasegateError) return { problem: error.format() }
    throw error
  }
  if (entry === null || typeof entry !== 'object' || !entry.series) return { entry }
  const metric = at[at.length - 1]!
  const times = entry.series.map(([t]) => instantSeconds(t))
  const wrong = outOfOrder(times)
  if (wrong)
    return {
      problem: errorAt(
        source,
        [...at, 'series', wrong.index],
        `${metric}: ${wrong.reason}`,
        'write the points in time order, oldest first, one per time'
      ).format()
    }
  const number = finiteNumber(entry.value)
  if (!('value' in number)) return { entry }
  const twoWays = valueAgainstSeries(
    number.value,
    entry.series.map(([, v], i) => [times[i]!, Number(v)] as const),
    valueAtS,
    entry.step === undefined ? undefined : durationMs(entry.step) / 1000
  )
  if (twoWays)
    return {
      problem: errorAt(
        source,
        [...at, 'value'],
        twoWays.reason,
        "one metric at one instant has one value: write the series' point as value:, or correct the series"
      ).format()
    }
  return { entry }
}

function key(request: MetricRequest): Pick<MetricReading, 'metric' | 'group'> {
  return request.group
    ? { metric: request.metric, group: request.group }
    : { metric: request.metric }
}
