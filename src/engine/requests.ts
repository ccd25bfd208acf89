import { phaseNamed } from './ladder.js'
import { trendRangeMs } from './trends.js'
import { metricTriggers } from './triggers.js'
import type { Policy, State } from './types.js'

/** One metric the decision needs, optionally per group, with range data for `for:` windows. */
export interface ReadingRequest {
  metric: string
  group?: string
  rangeMs?: number
}

/**
 * Every reading decide() will look at for this policy in this state, and no more: experiments'
 * per-group statistics are read by their analysis (src/experiments), not by every decision.
 */
export function requiredReadings(policy: Policy, state: State): ReadingRequest[] {
  const phase = phaseNamed(policy, state.phase)
  const wanted = new Map<string, ReadingRequest>()
  const add = (metric: string, group?: string, rangeMs = 0) => {
    const key = `${metric}\u0000${group ?? ''}`
    const existing = wanted.get(key)
    const range = Math.max(rangeMs, existing?.rangeMs ?? 0)
    wanted.set(key, {
      metric,
      ...(group ? { group } : {}),
      ...(range > 0 ? { rangeMs: range } : {})
    })
  }
  for (const gate of phase.gates) {
    if (gate.type === 'metrics_threshold')
      Object.keys(gate.thresholds).forEach(m => add(m, gate.group, gate.forMs ?? 0))
  }
  for (const rule of policy.alerts) add(rule.metric, undefined, rule.forMs)
  for (const rule of policy.trends) add(rule.metric, undefined, trendRangeMs(rule))
  for (const check of metricTriggers(policy, phase)) add(check.metric, undefined, check.forMs)
  if (policy.triggers.some(t => t.kind === 'system_failure')) add('system_failure')
  return [...wanted.values()]
}
