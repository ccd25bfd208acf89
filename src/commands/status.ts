import { decide } from '../engine/decide.js'
import { phaseNamed } from '../engine/ladder.js'
import type { Decision, Policy, State } from '../engine/types.js'
import { currentState, loadRollouts, observe } from './workspace.js'
import type { TickOptions } from './tick.js'

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
  const rollouts = await loadRollouts(options.cwd, options.policies)
  const results = []
  for (const rollout of rollouts) {
    const state = currentState(rollout, options.now)
    const observations = await observe(rollout, state, {
      now: options.now,
      approvals: options.approvedBy.map(user => ({ user })),
      checks: options.checks,
      metricsFile: options.metricsFile
    })
    const decision = decide(rollout.policy, state, observations, options.now)
    const phase = phaseNamed(rollout.policy, state.phase)
    results.push({
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
    })
  }
  return results
}
