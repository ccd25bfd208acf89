import type { RawPolicy } from './schema.js'

/** A metric the policy names, and where (for an error at its line). */
export interface NamedMetric {
  metric: string
  path: (string | number)[]
  /** The metric is a mapping key (point at the key, not its value). */
  atKey: boolean
}

/**
 * Every metric a gate, trigger, alert, trend, rollback threshold, guardrail or experiment of the policy
 * reads, in file order by section: what some provider query must be able to produce.
 */
export function namedMetrics(raw: RawPolicy): NamedMetric[] {
  const out: NamedMetric[] = []
  const keys = (record: Record<string, unknown> | undefined, path: (string | number)[]) => {
    for (const metric of Object.keys(record ?? {}))
      out.push({ metric, path: [...path, metric], atKey: true })
  }
  for (const [phase, settings] of Object.entries(raw.deployment.phases ?? {})) {
    const path = ['deployment', 'phases', phase]
    keys(settings?.success_criteria, [...path, 'success_criteria'])
    keys(settings?.rollback_threshold, [...path, 'rollback_threshold'])
    settings?.gates?.forEach((gate, i) => {
      if (gate.type === 'metrics_threshold')
        keys(gate.thresholds, [...path, 'gates', i, 'thresholds'])
    })
  }
  raw.rollback?.automatic_triggers?.forEach((trigger, i) => {
    if (trigger.kind === 'metric')
      out.push({
        metric: trigger.metric,
        path: ['rollback', 'automatic_triggers', i],
        atKey: false
      })
  })
  keys(raw.monitoring?.alerts, ['monitoring', 'alerts'])
  keys(raw.monitoring?.trends, ['monitoring', 'trends'])
  keys(raw.guardrails, ['guardrails'])
  for (const [name, experiment] of Object.entries(raw.experiments ?? {}))
    experiment.success_metrics?.forEach((metric, i) =>
      out.push({ metric, path: ['experiments', name, 'success_metrics', i], atKey: false })
    )
  return out
}
