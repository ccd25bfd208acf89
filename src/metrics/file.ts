import { existsSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import { z } from 'zod'
import type { MetricReading, MetricsConfig } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { PolicyIssues } from '../policy/normalize.js'
import { symlinkEscape } from '../policy/paths.js'
import { readYamlFile, toPlain, validate } from '../policy/yaml.js'
import type { MetricRequest, MetricsProvider, ReadContext } from './provider.js'

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
// A metric may carry `series: [[time, value], ...]` (time as ISO-8601 or epoch seconds) for
// `for:` windows. A metric the file does not list is "no data", never zero.

const optionsSchema = z.strictObject({ path: z.string().min(1).optional() })

const seriesPoint = z.tuple([z.union([z.string(), z.number()]), z.number()])
const metricValue = z.union([
  z.number(),
  z.null(),
  z.strictObject({
    value: z.number().nullable(),
    samples: z.number().int().nonnegative().optional(),
    series: z.array(seriesPoint).optional()
  })
])
const metricMap = z.record(z.string(), metricValue)
const snapshotSchema = z.looseObject({ groups: z.record(z.string(), metricMap).optional() })

export function defaultMetricsPath(feature: string): string {
  return `.phasegate/metrics/${feature}.yaml`
}

export function createFileProvider(config: MetricsConfig): MetricsProvider {
  const parsed = optionsSchema.safeParse(config.options)
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
      const source = readYamlFile(path, 'metrics file', shown)
      const snapshot = validate(snapshotSchema, source, toPlain(source))
      const top: Record<string, unknown> = { ...snapshot }
      delete top.groups
      const topMetrics = validate(metricMap, source, top)
      return requests.map(request => {
        const table = request.group ? snapshot.groups?.[request.group] : topMetrics
        const entry = table?.[request.metric]
        const label = request.group
          ? `${request.metric} for group ${request.group}`
          : request.metric
        if (entry === undefined)
          return { ...key(request), value: null, reason: `${label} is not in ${shown}` }
        if (entry === null || typeof entry === 'number') {
          return entry === null
            ? { ...key(request), value: null, reason: `${label} is null in ${shown}` }
            : { ...key(request), value: entry }
        }
        return {
          ...key(request),
          value: entry.value,
          ...(entry.value === null ? { reason: `${label} is null in ${shown}` } : {}),
          ...(entry.samples !== undefined ? { samples: entry.samples } : {}),
          ...(entry.series
            ? {
                series: entry.series.map(
                  ([t, v]) =>
                    [typeof t === 'number' ? t : Date.parse(t) / 1000, v] as [number, number]
                )
              }
            : {})
        }
      })
    }
  }
}

function key(request: MetricRequest): Pick<MetricReading, 'metric' | 'group'> {
  return request.group
    ? { metric: request.metric, group: request.group }
    : { metric: request.metric }
}
