import * as z from 'zod'
import { serverProvider, type ReadOne } from './server.js'
import type { DiscardedPoint, MetricsConfig } from '../engine/types.js'
import { connectionShape, parseOptions, type SourceAwareProvider } from './connection.js'
import { degradationSchema, durationMs } from './derived.js'
import { lazy } from '../lazy.js'
import { followJsonPath, parseJsonPath, type PathStep } from './json-path.js'
import { hasTemplate, noData, reading, templateFor } from './queries.js'
import {
  checkPlaceholders,
  refuse,
  render,
  type Rendered,
  type TemplateValues
} from './template.js'
import { finiteNumber, numberedSeries, outOfOrder, valueAgainstSeries } from './value.js'

// The `http` provider reads any JSON endpoint: each metric's query is substituted into the URL
// ({{query}}, URL-encoded) or into the string values of a JSON body, and a JSON path picks the
// number out of the answer. Datadog and New Relic examples are in docs/metrics.md.

/** Placeholders in a metric's query. */
export const HTTP_QUERY_PLACEHOLDERS = ['feature', 'phase', 'group', 'window'] as const
/** Placeholders in the url and body: the query's, the rendered query, and the time range. */
export const HTTP_REQUEST_PLACEHOLDERS = [
  ...HTTP_QUERY_PLACEHOLDERS,
  'query',
  'metric',
  'from',
  'to',
  'from_ms',
  'to_ms'
] as const

const optionsSchema = lazy(() => {
  const jsonPath = z.string().refine(p => 'steps' in parseJsonPath(p), {
    message: 'not a JSON path such as $.series[0].pointlist[-1][1]'
  })
  return z
    .strictObject({
      ...connectionShape(),
      method: z.enum(['GET', 'POST']).default('GET'),
      body: z.unknown().optional(),
      value_path: jsonPath,
      value_paths: z.record(z.string(), jsonPath).default({}),
      // Per metric: where the same answer says how many observations the value rests on (for
      // gates with min_samples, guardrails and provider-fed experiments).
      sample_paths: z.record(z.string(), jsonPath).default({}),
      series_path: jsonPath.optional(),
      series_time_unit: z.enum(['s', 'ms']).default('s'),
      group_queries: z.record(z.string(), z.string()).default({}),
      performance_degradation: degradationSchema().optional()
    })
    .refine(o => o.body === undefined || o.method === 'POST', {
      message: 'a body is sent only with method: POST',
      path: ['body']
    })
})

// Values substituted into a query must be names (as the policy's own names are) or a duration: the
// query language behind an HTTP API is unknown here, so nothing that could quote or operate passes.
const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

export function createHttpProvider(config: MetricsConfig): SourceAwareProvider {
  const options = parseOptions(optionsSchema(), config.options, 'http')
  const queries = config.queries
  const groupQueries = options.group_queries
  for (const [metric, template] of Object.entries(queries))
    checkPlaceholders(template, HTTP_QUERY_PLACEHOLDERS, `metrics.queries.${metric}`)
  for (const [metric, template] of Object.entries(groupQueries))
    checkPlaceholders(template, HTTP_QUERY_PLACEHOLDERS, `metrics.group_queries.${metric}`)
  checkPlaceholders(options.url, HTTP_REQUEST_PLACEHOLDERS, 'metrics.url')
  for (const text of stringsIn(options.body))
    checkPlaceholders(text, HTTP_REQUEST_PLACEHOLDERS, 'metrics.body')
  const steps = (path: string) => (parseJsonPath(path) as { steps: PathStep[] }).steps
  const valueSteps = (metric: string) => steps(options.value_paths[metric] ?? options.value_path)
  const seriesSteps = options.series_path ? steps(options.series_path) : undefined
  const server = `the metrics endpoint ${new URL(options.url).origin}`
  const readOne: ReadOne = async (connection, request, context, headers) => {
    const label = request.group ? `${request.metric} for group ${request.group}` : request.metric
    const fail = (reason: string) => noData(request, `${label}: ${reason}`)
    const chosen = templateFor(request, queries, groupQueries)
    if (!('template' in chosen)) return noData(request, chosen.reason)
    const names: TemplateValues = {
      feature: context.feature,
      phase: context.phase,
      group: request.group,
      window: context.window
    }
    const query = render(chosen.template, names, (value, name) => {
      if (!SAFE_VALUE.test(value))
        refuse(`{{${name}}} value ${JSON.stringify(value)} is not a plain name`)
      return value
    })
    if (!query.ok) return fail(query.reason)
    const toMs = context.now.getTime()
    const spanMs = Math.max(durationMs(context.window), request.rangeMs ?? 0)
    const values: TemplateValues = {
      ...names,
      query: query.text,
      metric: request.metric,
      from: String(Math.floor((toMs - spanMs) / 1000)),
      to: String(Math.floor(toMs / 1000)),
      from_ms: String(toMs - spanMs),
      to_ms: String(toMs)
    }
    const url = render(options.url, values, encodeURIComponent)
    if (!url.ok) return fail(url.reason)
    let body: unknown
    if (options.body !== undefined) {
      const rendered = renderJson(options.body, values)
      if (!rendered.ok) return fail(rendered.reason)
      body = rendered.value
    }
    const answer = await connection.send(
      {
        method: options.method,
        url: url.text,
        headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      },
      server
    )
    if (!answer.ok) return fail(`${server} ${answer.reason}`)
    const found = followJsonPath(answer.json, valueSteps(request.metric))
    if (!found.found) return fail(`no value in the answer: ${found.reason}`)
    const number = finiteNumber(found.value)
    if (!('value' in number)) return fail(number.reason)
    const samplePath = options.sample_paths[request.metric]
    let counted = reading(request, number.value)
    if (samplePath) {
      const samples = followJsonPath(answer.json, steps(samplePath))
      const count = samples.found ? finiteNumber(samples.value) : samples
      if (!('value' in count) || count.value < 0)
        return fail(
          `no sample count in the answer: ${'reason' in count ? count.reason : `${count.value} is negative`}`
        )
      counted = { ...counted, samples: Math.round(count.value) }
    }
    if (!request.rangeMs || !seriesSteps) return counted
    const points = followJsonPath(answer.json, seriesSteps)
    const range = points.found ? toSeries(points.value, options.series_time_unit) : points
    if ('reason' in range) return { ...counted, reason: `no range data: ${range.reason}` }
    // value_path and series_path read one answer two ways: at the evaluation time they must say
    // the same, or a `for:` gate and a trigger would judge one instant by two numbers.
    const twoWays = valueAgainstSeries(number.value, range.series, context.now.getTime() / 1000)
    if (twoWays) return fail(`value_path and series_path disagree: ${twoWays.reason}`)
    return { ...counted, ...range }
  }

  return serverProvider('http', options, r => hasTemplate(r, queries, groupQueries), readOne, [
    ...Object.keys(queries),
    ...Object.keys(groupQueries)
  ])
}

/** Every string in a JSON value, where placeholders may stand. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(stringsIn)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn)
  return []
}

// Substituting into the parsed body's strings, never into its text, so no value can change the
// body's structure; JSON.stringify quotes whatever the value holds.
function renderJson(
  value: unknown,
  values: TemplateValues
): { ok: true; value: unknown } | { ok: false; reason: string } {
  let failed: Rendered | undefined
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const rendered = render(node, values, v => v)
      if (!rendered.ok) failed ??= rendered
      return rendered.ok ? rendered.text : node
    }
    if (Array.isArray(node)) return node.map(walk)
    if (node !== null && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]))
    return node
  }
  const out = walk(value)
  return failed && !failed.ok ? { ok: false, reason: failed.reason } : { ok: true, value: out }
}

/** The answer's [time, value] pairs as range data, or why they are none. */
function toSeries(
  raw: unknown,
  unit: 's' | 'ms'
): { series: Array<[number, number]>; discarded?: DiscardedPoint[] } | { reason: string } {
  const notPairs = { reason: 'series_path does not lead to a list of [time, value] pairs' }
  if (!Array.isArray(raw)) return notPairs
  const points: Array<[number, unknown]> = []
  for (const point of raw) {
    if (!Array.isArray(point) || typeof point[0] !== 'number') return notPairs
    points.push([unit === 'ms' ? point[0] / 1000 : point[0], point[1]])
  }
  const wrong = outOfOrder(points.map(([t]) => t))
  if (wrong) return { reason: `the answer's point ${wrong.index}: ${wrong.reason}` }
  const { series, discarded } = numberedSeries(points)
  return { series, ...discarded }
}
