import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDocument } from 'yaml'
import type { Policy } from '../../src/engine/types.js'
import { loadPolicy } from '../../src/policy/load.js'
import { tempRepo } from './repo.js'

// The seed's production_deployment.yaml, pointed at a Prometheus server holding the scenario,
// with the error-rate trigger made to wait for a sustained breach.

const SEED = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../policies/production_deployment.yaml'
)

const selector = (group: boolean) => `feature="{{feature}}"${group ? ',group="{{group}}"' : ''}`

export function scenarioQueries(group: boolean): Record<string, string> {
  const s = selector(group)
  const rate = (name: string) => `sum(rate(${name}{${s}}[{{window}}]))`
  return {
    error_rate: `${rate('app_request_errors_total')} / ${rate('app_requests_total')}`,
    response_time: `1000 * ${rate('app_request_duration_seconds_sum')} / ${rate('app_request_duration_seconds_count')}`,
    cost_per_request: `${rate('app_cost_dollars_total')} / ${rate('app_requests_total')}`,
    user_satisfaction: `avg(app_user_satisfaction{${s}})`,
    accuracy: `avg(app_accuracy_ratio{${s}})`,
    ...(group ? {} : { system_failure: `1 - min(app_up{${s}})` })
  }
}

export function scenarioPolicyText(
  url: string,
  extraMetrics: Record<string, unknown> = {}
): string {
  const doc = parseDocument(readFileSync(SEED, 'utf8'))
  doc.set('metrics', {
    provider: 'prometheus',
    url,
    step: '1m',
    performance_degradation: {
      latency: 'response_time',
      control_group: 'control',
      baseline_offset: '2h'
    },
    queries: scenarioQueries(false),
    group_queries: scenarioQueries(true),
    ...extraMetrics
  })
  doc.setIn(
    ['rollback', 'automatic_triggers'],
    [{ when: 'error_rate > 0.02', for: '10m' }, 'performance_degradation > 0.3', 'system_failure']
  )
  return doc.toString()
}

/** A git repository holding the scenario policy under policies/, for tick(). */
export function scenarioRepo(
  url: string,
  text = scenarioPolicyText(url)
): { root: string; policy: Policy } {
  const root = tempRepo({ 'policies/production_deployment.yaml': text })
  return { root, policy: loadPolicy(join(root, 'policies/production_deployment.yaml')) }
}
