import type { MetricReading } from '../engine/types.js'
import type { MetricRequest } from './provider.js'
import { placeholders } from './template.js'

// Which template answers a request. One metric is often wanted both for the whole rollout (a gate)
// and per experiment group (the experiment's success metrics), so a policy may give a per-group
// template under `group_queries`; otherwise a `queries` template serves per-group requests only when
// it uses {{group}}, and rollout-wide requests only when it does not.

export function templateFor(
  request: MetricRequest,
  queries: Record<string, string>,
  groupQueries: Record<string, string>
): { template: string } | { reason: string } {
  const plain = queries[request.metric]
  if (request.group !== undefined) {
    const template = groupQueries[request.metric] ?? plain
    if (template === undefined)
      return { reason: `the policy has no query for ${request.metric} (metrics.queries)` }
    if (!placeholders(template).includes('group')) {
      return {
        reason: `the query for ${request.metric} has no {{group}}, so it cannot be read per group; add one under metrics.group_queries`
      }
    }
    return { template }
  }
  if (plain === undefined)
    return { reason: `the policy has no query for ${request.metric} (metrics.queries)` }
  if (placeholders(plain).includes('group')) {
    return {
      reason: `the query for ${request.metric} uses {{group}}, so it cannot be read for the whole rollout; give it a query without {{group}}`
    }
  }
  return { template: plain }
}

export function hasTemplate(
  request: MetricRequest,
  queries: Record<string, string>,
  groupQueries: Record<string, string>
): boolean {
  return 'template' in templateFor(request, queries, groupQueries)
}

export function noData(request: MetricRequest, reason: string): MetricReading {
  return {
    metric: request.metric,
    ...(request.group !== undefined ? { group: request.group } : {}),
    value: null,
    reason
  }
}

export function reading(request: MetricRequest, value: number): MetricReading {
  return {
    metric: request.metric,
    ...(request.group !== undefined ? { group: request.group } : {}),
    value
  }
}
