import * as z from 'zod'
import { queryPrometheus } from './batch.js'
import { serverProvider, type ReadOne } from './server.js'
import type { MetricReading, MetricsConfig } from '../engine/types.js'
import { parseDuration } from '../policy/quantities.js'
import {
  connectionShape,
  parseOptions,
  type Connection,
  type SourceAwareProvider
} from './connection.js'
import { degradationSchema, durationMs } from './derived.js'
import { lazy } from '../lazy.js'
import type { MetricRequest, ReadContext } from './provider.js'
import { hasTemplate, noData, reading, templateFor } from './queries.js'
import { checkPlaceholders, renderPromQL } from './template.js'
import { finiteNumber, numberedSeries, outOfOrder } from './value.js'

// The `prometheus` provider reads the Prometheus HTTP API (/api/v1/query at the evaluation time,
// /api/v1/query_range for `for:` windows and trends), so it also works with Thanos, Mimir,
// VictoriaMetrics and Grafana Cloud. Each query must come back as exactly one finite number.

export const PROMETHEUS_PLACEHOLDERS = ['feature', 'phase', 'group', 'window'] as const

// Prometheus refuses range queries of more than 11,000 points; stay well below.
const MAX_POINTS = 10_000

const optionsSchema = lazy(() =>
  z.strictObject({
    ...connectionShape(),
    step: z
      .string()
      .refine(s => parseDuration(s).ok, { message: 'step must be a duration such as 1m' })
      .default('1m'),
    group_queries: z.record(z.string(), z.string()).default({}),
    // How many observations a metric's value rests on, for gates with min_samples.
    sample_queries: z.record(z.string(), z.string()).default({}),
    group_sample_queries: z.record(z.string(), z.string()).default({}),
    performance_degradation: degradationSchema().optional(),
    // Queries combined into one request (src/metrics/batch.ts); 1 sends each query on its own.
    batch_size: z.number().int().min(1).max(200).default(20)
  })
)

export function createPrometheusProvider(config: MetricsConfig): SourceAwareProvider {
  const options = parseOptions(optionsSchema(), config.options, 'prometheus')
  const queries = config.queries
  const groupQueries = options.group_queries
  const templates = {
    queries,
    group_queries: groupQueries,
    sample_queries: options.sample_queries,
    group_sample_queries: options.group_sample_queries
  }
  for (const [option, map] of Object.entries(templates)) {
    for (const [metric, template] of Object.entries(map))
      checkPlaceholders(template, PROMETHEUS_PLACEHOLDERS, `metrics.${option}.${metric}`)
  }
  const stepS = durationMs(options.step) / 1000
  const base = options.url.replace(/\/+$/, '')
  const server = `Prometheus at ${base}`
  const evaluate = async (
    connection: Connection,
    template: string,
    label: string,
    request: MetricRequest,
    context: ReadContext,
    headers: Record<string, string>
  ): Promise<MetricReading> => {
    const fail = (reason: string) => noData(request, `${label}: ${reason}`)
    const query = renderPromQL(template, {
      feature: context.feature,
      phase: context.phase,
      group: request.group,
      window: context.window
    })
    if (!query.ok) return fail(query.reason)
    const endS = context.now.getTime() / 1000
    const rangeS = (request.rangeMs ?? 0) / 1000
    // The range ends at the evaluation time exactly, so its last point is the current value.
    const step = Math.max(stepS, Math.ceil(rangeS / MAX_POINTS))
    const answer = await queryPrometheus({
      connection,
      base,
      server,
      headers,
      query: query.text,
      batchSize: options.batch_size,
      ...(rangeS > 0
        ? {
            path: '/api/v1/query_range',
            params: {
              start: String(endS - Math.ceil(rangeS / step) * step),
              end: String(endS),
              step: String(step)
            }
          }
        : { path: '/api/v1/query', params: { time: String(endS) } })
    })
    if (!answer.ok) return fail(`${server} ${answer.reason}${prometheusError(answer.json)}`)
    const parsed = answerSchema().safeParse(answer.json)
    if (!parsed.success)
      return fail(`${server} answered with JSON that is not a Prometheus query result`)
    const { data } = parsed.data
    if (parsed.data.status !== 'success' || !data)
      return fail(`${server} answered status ${parsed.data.status}${prometheusError(answer.json)}`)
    // The step is the one asked for, so coverage never infers it from the points themselves.
    return rangeS > 0
      ? { ...fromMatrix(request, data, endS, fail), stepS: step }
      : fromInstant(request, data, fail)
  }

  const readOne: ReadOne = async (connection, request, context, headers) => {
    const label = request.group ? `${request.metric} for group ${request.group}` : request.metric
    const chosen = templateFor(request, queries, groupQueries)
    if (!('template' in chosen)) return noData(request, chosen.reason)
    const sampleRequest = {
      metric: request.metric,
      ...(request.group ? { group: request.group } : {})
    }
    const samplesTemplate = templateFor(
      sampleRequest,
      options.sample_queries,
      options.group_sample_queries
    )
    const [reading, samples] = await Promise.all([
      evaluate(connection, chosen.template, label, request, context, headers),
      'template' in samplesTemplate
        ? evaluate(
            connection,
            samplesTemplate.template,
            `${label} samples`,
            sampleRequest,
            context,
            headers
          )
        : undefined
    ])
    if (!samples || reading.value === null) return reading
    return samples.value === null
      ? { ...reading, reason: samples.reason }
      : { ...reading, samples: Math.max(0, Math.round(samples.value)) }
  }

  return serverProvider(
    'prometheus',
    options,
    r => hasTemplate(r, queries, groupQueries),
    readOne,
    [...Object.keys(queries), ...Object.keys(groupQueries)]
  )
}

const seriesSchema = lazy(() =>
  z.object({
    metric: z.record(z.string(), z.string()).default({}),
    value: z.tuple([z.number(), z.string()]).optional(),
    values: z.array(z.tuple([z.number(), z.string()])).optional()
  })
)
const answerSchema = lazy(() =>
  z.object({
    status: z.string(),
    data: z
      .object({
        resultType: z.string(),
        result: z.union([z.tuple([z.number(), z.string()]), z.array(seriesSchema())])
      })
      .optional()
  })
)
type QueryData = NonNullable<z.infer<ReturnType<typeof answerSchema>>['data']>
type Series = z.infer<ReturnType<typeof seriesSchema>>

function prometheusError(json: unknown): string {
  if (json === null || typeof json !== 'object') return ''
  const { errorType, error } = json as { errorType?: unknown; error?: unknown }
  return typeof error === 'string'
    ? ` (${typeof errorType === 'string' ? `${errorType}: ` : ''}${error})`
    : ''
}

function oneSeries(result: Series[]): { series: Series } | { reason: string } {
  if (result.length === 0) return { reason: 'the query returned no series (empty result)' }
  if (result.length > 1) {
    const shown = result.slice(0, 3).map(
      s =>
        `{${Object.entries(s.metric)
          .map(([k, v]) => `${k}="${v}"`)
          .join(', ')}}`
    )
    return {
      reason: `the query returned ${result.length} series where one is expected (${shown.join(', ')}${result.length > 3 ? ', ...' : ''}); aggregate them, e.g. with sum()`
    }
  }
  return { series: result[0]! }
}

function fromInstant(
  request: MetricRequest,
  data: QueryData,
  fail: (reason: string) => MetricReading
): MetricReading {
  let raw: unknown
  if (data.resultType === 'scalar' && !isSeriesList(data.result)) raw = data.result[1]
  else if (data.resultType === 'vector' && isSeriesList(data.result)) {
    const one = oneSeries(data.result)
    if (!('series' in one)) return fail(one.reason)
    raw = one.series.value?.[1]
  } else {
    return fail(
      `the query returns a ${data.resultType}, not one number; use an instant vector or scalar expression`
    )
  }
  const number = finiteNumber(raw)
  if (!('value' in number)) return fail(number.reason)
  return reading(request, number.value)
}

function fromMatrix(
  request: MetricRequest,
  data: QueryData,
  endS: number,
  fail: (reason: string) => MetricReading
): MetricReading {
  if (data.resultType !== 'matrix' || !isSeriesList(data.result))
    return fail(`the range query returned a ${data.resultType}, not a range of one series`)
  const one = oneSeries(data.result)
  if (!('series' in one))
    return { ...fail(one.reason), ...(data.result.length ? {} : { series: [] }) }
  const wrong = outOfOrder((one.series.values ?? []).map(([t]) => t))
  if (wrong) return fail(`the range answer's point ${wrong.index}: ${wrong.reason}`)
  const { series, discarded } = numberedSeries(one.series.values ?? [])
  const last = series[series.length - 1]
  if (!last || Math.abs(last[0] - endS) > 1e-3) {
    return {
      ...fail(
        `no sample at the evaluation time${last ? ` (the last is at ${new Date(last[0] * 1000).toISOString()})` : ''}`
      ),
      series,
      ...discarded
    }
  }
  const number = finiteNumber(one.series.values![one.series.values!.length - 1]![1])
  if (!('value' in number)) return { ...fail(number.reason), series, ...discarded }
  return { ...reading(request, number.value), series, ...discarded }
}

function isSeriesList(result: QueryData['result']): result is Series[] {
  return result.length === 0 || typeof result[0] === 'object'
}
