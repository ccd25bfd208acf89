import type { State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { git } from '../git/git.js'
import { loadRollouts, type Rollout } from '../rollout/load.js'
import { manualRollback, startedRollout } from '../rollout/manual.js'
import { commitTransitionFrom } from '../rollout/write.js'

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
  return startedRollout(rollouts[0]!)
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
    // Locally only names can be matched: whether someone belongs to a team only GitHub knows.
    const teams = operators.filter(o => o.startsWith('@'))
    throw new PhasegateError(
      `${who} is not one of this policy's rollback operators (${operators.join(', ')})`,
      {
        hint: teams.length
          ? `membership of ${teams.join(', ')} can only be checked by GitHub: dispatch the rollback workflow there, or ask a listed operator`
          : 'ask an operator, or add the user to rollback.operators in the policy'
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
  const operator = await resolveOperator(rollout, options.operator, options.operatorVerified)
  const transition = manualRollback(rollout, { ...options, reason, operator })
  const made = await commitTransitionFrom(rollout, rollout.state, transition, options.now)
  return { rollout, ...made }
}
