import { guardrailName } from './guardrails.js'
import { metricTriggers } from './triggers.js'
import type { Alert, Phase, Policy, TriggerResult } from './types.js'

// An observe-only trigger (on_fire: observe) rolls nothing back; what it promises instead is
// "reported and alerted". On a metric with a monitoring.alerts rule the alert is that rule's (the
// trigger fires only at high or critical, so the rule's alert is raised already). On a metric
// without one, nothing else would alert: the trigger raises an alert of its own, at high (the
// severity a trigger fires at when no rule rates it), at its own threshold. A pausing trigger
// (on_fire: pause) stops the rollout instead of rolling back; it is no quieter than the rollback
// it stands in for, nor than an observe-only trial beside it: it raises the same alert, so a
// target that hears high alerts hears it. A guardrail with on_fire observe or pause is alike: it
// raises the alert `guardrail_<metric>` (its own name: an alert rule may watch the metric's
// overall value), its value the treatment's estimate against control, at its margin.

/**
 * The alerts that `phase`'s fired observe-only and pausing metric triggers raise beside `alerts` (the alert
 * rules' alerts): one per such trigger whose metric has none there. Pure.
 */
export function observedTriggerAlerts(
  policy: Policy,
  phase: Phase,
  triggers: TriggerResult[],
  alerts: Alert[]
): Alert[] {
  const checks = metricTriggers(policy, phase)
  const guardrails = policy.guardrails ?? []
  return triggers.flatMap((t): Alert[] => {
    if (!t.fired || (t.onFire !== 'observe' && t.onFire !== 'pause')) return []
    const guardrail = guardrails.find(rule => guardrailName(rule) === t.trigger)
    if (guardrail) {
      const estimate = t.evidence[0]?.value
      if (typeof estimate !== 'number') return []
      const margin = guardrail.worse === 'increase' ? guardrail.margin : -guardrail.margin
      return [
        {
          metric: `guardrail_${guardrail.metric}`,
          value: estimate,
          severity: 'high',
          warning: margin,
          critical: margin,
          message: `${t.onFire === 'observe' ? 'observe-only' : 'pausing'} ${t.trigger} fired: ${t.reason}; nothing rolled back`,
          trigger: t.trigger
        }
      ]
    }
    const check = checks.find(c => c.source === t.trigger && c.onFire === t.onFire)
    const value = t.evidence[0]?.value
    if (!check || typeof value !== 'number') return []
    if (alerts.some(a => a.metric === check.metric)) return []
    return [
      {
        metric: check.metric,
        value,
        severity: 'high' as const,
        warning: check.threshold.value,
        critical: check.threshold.value,
        ...(check.threshold.unit ? { unit: check.threshold.unit } : {}),
        message:
          t.onFire === 'observe'
            ? `observe-only trigger ${t.trigger} fired: ${t.reason}; nothing rolled back`
            : `pausing trigger ${t.trigger} fired: ${t.reason}; the rollout is paused, nothing rolled back`,
        trigger: t.trigger
      }
    ]
  })
}
