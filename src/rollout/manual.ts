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
 * The transition of a person's pause: the rollout stays in its phase and stops advancing, while
 * its rollback triggers still act. Throws when it is already paused.
 */
export function manualPause(
  rollout: Rollout & { state: State },
  options: { reason: string; operator: string; now: Date }
): Transition {
  const { policy, state } = rollout
  const reason = options.reason.trim()
  if (!reason)
    throw new PhasegateError('a pause needs a reason', {
      hint: 'pass --reason "why it must not advance" (the workflow_dispatch input "reason")'
    })
  if (state.paused)
    throw new PhasegateError(
      `${policy.feature} is already paused since ${state.paused.at} (${state.paused.reason})`,
      { hint: 'resume it first to pause it again with another reason' }
    )
  return {
    kind: 'pause',
    from: state.phase,
    to: state.phase,
    at: options.now.toISOString(),
    reason: `paused by ${options.operator}: ${reason}`,
    approvers: [],
    operator: options.operator,
    evidence: [{ gate: 'pause', metric: 'operator', value: options.operator, result: 'pass' }]
  }
}

/**
 * The transition of a person's resume: lifts a pause and turns the kill switch back on, whichever
 * of the two is in force. Throws when neither is.
 */
export function manualResume(
  rollout: Rollout & { state: State },
  options: { reason: string; operator: string; now: Date; hint?: string }
): Transition {
  const { policy, state } = rollout
  const reason = options.reason.trim()
  if (!reason)
    throw new PhasegateError('a resume needs a reason', {
      hint:
        options.hint ??
        'pass --reason "why it is safe again" (the workflow_dispatch input "reason")'
    })
  if (state.enabled && !state.paused)
    throw new PhasegateError(
      `the kill switch of "${policy.feature}" is already on and it is not paused (neither paused nor turned off): there is nothing to resume`
    )
  const lifts = [
    ...(state.paused ? ['pause lifted'] : []),
    ...(state.enabled ? [] : ['kill switch on'])
  ]
  return {
    kind: 'resume',
    from: state.phase,
    to: state.phase,
    at: options.now.toISOString(),
    reason: `resumed by ${options.operator} (${lifts.join(', ')}): ${reason}`,
    approvers: [],
    operator: options.operator,
    evidence: [{ gate: 'resume', metric: 'operator', value: options.operator, result: 'pass' }]
  }
}
