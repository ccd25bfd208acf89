import { PhasegateError } from '../errors.js'

// The fast path: Alertmanager (or anything that can POST /dispatches) sends a repository_dispatch
// of type phasegate-alert, and the run ticks the named features at once instead of waiting for
// the next schedule.

export const ALERT_EVENT_TYPE = 'phasegate-alert'

interface AlertmanagerPayload {
  feature?: unknown
  commonLabels?: { feature?: unknown }
  groupLabels?: { feature?: unknown }
  alerts?: Array<{ labels?: { feature?: unknown } }>
}

/** The features a phasegate-alert payload names: `feature`, or Alertmanager's labels.feature. */
export function featuresFromAlert(clientPayload: unknown): string[] {
  const payload = (clientPayload ?? {}) as AlertmanagerPayload
  const named = [
    payload.feature,
    payload.commonLabels?.feature,
    payload.groupLabels?.feature,
    ...(Array.isArray(payload.alerts) ? payload.alerts.map(a => a.labels?.feature) : [])
  ].filter((f): f is string => typeof f === 'string' && f.length > 0)
  const features = [...new Set(named)]
  if (features.length === 0)
    throw new PhasegateError('the phasegate-alert payload names no feature', {
      hint: 'send client_payload {"feature": "..."} or Alertmanager alerts labelled feature=...'
    })
  return features
}
