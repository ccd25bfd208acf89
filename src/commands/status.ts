import { phaseNamed } from '../engine/ladder.js'
import type { Decision, Policy, State } from '../engine/types.js'
import { evaluateAll, type TickOptions } from './tick.js'

export interface StatusReport {
  feature: string
  policyFile: string
  started: boolean
  phase: string
  enteredAt: string
  enabled: boolean
  userPercentage: number
  featureFlags: string[]
  lastTransition: State['lastTransition'] | null
  decision: Decision
}

/** What `tick` would do now, without doing it. */
export async function status(
  options: Omit<TickOptions, 'dryRun'>
): Promise<Array<{ report: StatusReport; policy: Policy; state: State }>> {
  return (await evaluateAll(options)).map(({ rollout, state, decision }) => {
    const phase = phaseNamed(rollout.policy, state.phase)
    return {
      policy: rollout.policy,
      state,
      report: {
        feature: rollout.policy.feature,
        policyFile: rollout.policyFile,
        started: rollout.state !== null,
        phase: state.phase,
        enteredAt: state.enteredAt,
        enabled: state.enabled,
        userPercentage: state.enabled ? phase.userPercentage : 0,
        featureFlags: state.enabled ? phase.featureFlags : [],
        lastTransition: state.lastTransition ?? null,
        decision
      }
    }
  })
}
