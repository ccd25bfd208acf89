import { previousPhase } from '../engine/ladder.js'
import type { State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import type { Rollout } from './load.js'

// A person's transitions: the CLI's rollback and the action's dispatched rollback build them here.

/** The rollout, if it has started: a manual transition needs a state to move from. */
export function startedRollout(rollout: Rollout): Rollout & { state: State } {
  if (!rollout.state) {
    throw new PhasegateError(
      `the rollout of "${rollout.policy.feature}" has not started (no state file at ${rollout.policy.statePath})`,
      {
        hint: 'run `phasegate init` first'
      }
    )
  }
  return rollout as Rollout & { state: State }
}

/**
 * The transition of a person's rollback: one phase back (an emergency in the first phase only
 * turns the kill switch off). Throws when there is nothing to roll back.
 */
export function manualRollback(
  rollout: Rollout & { state: State },
  options: { reason: string; emergency: boolean; operator: string; now: Date }
): Transition {
  const { policy, state } = rollout
  const { emergency, operator } = options
  const reason = options.reason.trim()
  const previous = previousPhase(policy, state.phase)
  if (!emergency && !previous) {
    throw new PhasegateError(
      `${state.phase} is the first phase: there is nothing to roll back to`,
      {
        hint: 'use --emergency to turn the feature off with the kill switch'
      }
    )
  }
  if (emergency && !previous && !state.enabled) {
    throw new PhasegateError(
      `the kill switch is already off and ${state.phase} is the first phase: nothing left to roll back`
    )
  }
  const kind = emergency ? 'emergency' : 'rollback'
  return {
    kind,
    from: state.phase,
    to: previous?.name ?? state.phase,
    at: options.now.toISOString(),
    reason: `${emergency ? 'emergency' : 'manual'} rollback by ${operator}: ${reason}`,
    approvers: [],
    operator,
    evidence: [{ gate: `${kind} rollback`, metric: 'operator', value: operator, result: 'fired' }]
  }
}

/**
 * The transition of a person's resume: the kill switch back on at the phase the rollout is in.
 * Throws when the kill switch is already on or no reason is given (`hint` says where to give one).
 */
export function manualResume(
  rollout: Rollout & { state: State },
  options: { reason: string; operator: string; now: Date; hint: string }
): Transition {
  const { policy, state } = rollout
  if (state.enabled)
    throw new PhasegateError(`the kill switch of "${policy.feature}" is already on`)
  const reason = options.reason.trim()
  if (!reason) throw new PhasegateError('a resume needs a reason', { hint: options.hint })
  const { operator } = options
  return {
    kind: 'resume',
    from: state.phase,
    to: state.phase,
    at: options.now.toISOString(),
    reason: `resumed by ${operator}: ${reason}`,
    approvers: [],
    operator,
    evidence: [{ gate: 'resume', metric: 'operator', value: operator, result: 'pass' }]
  }
}
