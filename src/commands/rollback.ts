import { previousPhase } from '../engine/ladder.js'
import type { Decision, State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { git } from '../git/git.js'
import { commitTransition } from '../git/transitions.js'
import { assertCommittable } from './committable.js'
import { applyDecision } from './tick.js'
import { loadRollouts, type Rollout } from './workspace.js'

export interface RollbackOptions {
  cwd: string
  policies: string[]
  reason: string
  /** Emergency: the kill switch goes off in the same commit as the step back. */
  emergency: boolean
  operator?: string
  /** The caller already checked the operator's standing (teams included). */
  operatorVerified?: boolean
  now: Date
  /** `now` was written on the command line: a commit before the phase's entry is refused. */
  nowGiven?: boolean
}

export interface RollbackOutcome {
  rollout: Rollout
  transition: Transition
  sha: string
}

/** Picks the one rollout a manual command is about. */
export async function singleRollout(
  cwd: string,
  policies: string[],
  command: string
): Promise<Rollout & { state: State }> {
  const rollouts = await loadRollouts(cwd, policies)
  if (rollouts.length > 1) {
    throw new PhasegateError(
      `${command} acts on one rollout but ${rollouts.length} policies were found (${rollouts.map(r => r.policy.feature).join(', ')})`,
      {
        hint: 'name one with --policy FILE'
      }
    )
  }
  const rollout = rollouts[0]!
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
 * Who is rolling back, checked against the policy's operators by name. `verified` says the caller
 * has already checked the operator's standing with more than names (the action resolves
 * "@org/team" entries through GitHub), which a local repository cannot do.
 */
export async function resolveOperator(
  rollout: Rollout,
  operator: string | undefined,
  verified = false
): Promise<string> {
  const who =
    operator ??
    ((await git(rollout.root, 'config', '--default', '', 'user.name')) ||
      process.env.USER ||
      'unknown')
  const operators = rollout.policy.rollback.operators
  if (
    !verified &&
    operators.length > 0 &&
    !operators.some(o => o.toLowerCase() === who.toLowerCase())
  ) {
    throw new PhasegateError(
      `${who} is not one of this policy's rollback operators (${operators.join(', ')})`,
      {
        hint: 'ask an operator, or add the user to rollback.operators in the policy'
      }
    )
  }
  return who
}

export async function rollback(options: RollbackOptions): Promise<RollbackOutcome> {
  const reason = options.reason.trim()
  if (!reason)
    throw new PhasegateError('a rollback needs a reason', {
      hint: 'pass --reason "what went wrong"'
    })
  const rollout = await singleRollout(options.cwd, options.policies, 'rollback')
  const { policy, state } = rollout
  await assertCommittable(rollout, state, options)
  const operator = await resolveOperator(rollout, options.operator, options.operatorVerified)
  const previous = previousPhase(policy, state.phase)
  if (!options.emergency && !previous) {
    throw new PhasegateError(
      `${state.phase} is the first phase: there is nothing to roll back to`,
      {
        hint: 'use --emergency to turn the feature off with the kill switch'
      }
    )
  }
  if (options.emergency && !previous && !state.enabled) {
    throw new PhasegateError(
      `the kill switch is already off and ${state.phase} is the first phase: nothing left to roll back`
    )
  }
  const kind = options.emergency ? 'emergency' : 'rollback'
  const transition: Transition = {
    kind,
    from: state.phase,
    to: previous?.name ?? state.phase,
    at: options.now.toISOString(),
    reason: `${options.emergency ? 'emergency' : 'manual'} rollback by ${operator}: ${reason}`,
    approvers: [],
    operator,
    evidence: [{ gate: `${kind} rollback`, metric: 'operator', value: operator, result: 'fired' }]
  }
  if (!previous) {
    const next: State = { ...state, enabled: false, lastTransition: transition }
    const sha = await commitTransition({
      root: rollout.root,
      policy,
      next,
      transition,
      now: options.now
    })
    return { rollout, transition, sha }
  }
  const decision: Decision = {
    action: 'rollback',
    feature: policy.feature,
    phase: state.phase,
    target: previous.name,
    reason: transition.reason,
    gates: [],
    alerts: [],
    trends: [],
    triggers: [],
    awaitingApproval: false,
    transition
  }
  const sha = await applyDecision(
    rollout,
    { ...state, enabled: state.enabled && !options.emergency },
    decision,
    options.now
  )
  return { rollout, transition, sha }
}
