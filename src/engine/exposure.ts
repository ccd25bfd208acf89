import { nextPhase, phaseNamed } from './ladder.js'
import type { MonitoringLevel, Policy, State } from './types.js'

// "Is it on, and for whom": one answer for every surface (status, reports, the action's outputs,
// the SDK and the datafile), so that none of them can say 5% while another says off.

/** Why a feature reaches nobody. */
export type OffBecause = 'not started' | 'state file lost' | 'kill switch' | 'phase disabled'

/** What a feature exposes now. */
export interface Exposure {
  feature: string
  /** The current phase (the first phase before the rollout starts). */
  phase: string
  /** False when the feature reaches nobody; `off` says why. */
  enabled: boolean
  off?: OffBecause
  /** Share of users (0-100) who get the feature: 0 when not enabled. */
  userPercentage: number
  /** The phase's feature flags, or none when not enabled. */
  featureFlags: string[]
  /** How closely to watch: the phase's level, whether or not the feature is on. */
  monitoringLevel: MonitoringLevel
  /** The phase's written rollback thresholds (metric -> value). */
  rollbackThreshold: Record<string, number>
  /** The phase is the ladder's last: the rollout is complete and advances no further. */
  finalPhase: boolean
}

/**
 * What `policy` exposes in `state` (null: the rollout has not started). Off, in order of
 * precedence, when the rollout has not started, its state file is lost (`state.lost`), the kill
 * switch is off, or the phase is `enabled: false`; otherwise the phase's percentage and flags.
 */
export function exposureOf(policy: Policy, state: State | null): Exposure {
  const phase = state ? phaseNamed(policy, state.phase) : policy.phases[0]!
  const off: OffBecause | undefined =
    state === null
      ? 'not started'
      : state.lost
        ? 'state file lost'
        : !state.enabled
          ? 'kill switch'
          : !phase.enabled
            ? 'phase disabled'
            : undefined
  return {
    feature: policy.feature,
    phase: phase.name,
    enabled: off === undefined,
    ...(off ? { off } : {}),
    userPercentage: off ? 0 : phase.userPercentage,
    featureFlags: off ? [] : phase.featureFlags,
    monitoringLevel: phase.monitoringLevel,
    rollbackThreshold: phase.rollbackThreshold,
    finalPhase: nextPhase(policy, phase.name) === undefined
  }
}

/** "5% of users", or "off (kill switch)": the exposure in a few words, for headers. */
export function describeExposure(exposure: Exposure): string {
  return exposure.enabled ? `${exposure.userPercentage}% of users` : `off (${exposure.off})`
}
