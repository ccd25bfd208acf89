import type { Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { assertCommittable } from './committable.js'
import { resolveOperator, singleRollout, type RollbackOutcome } from './rollback.js'

/** Turns the kill switch back on after an emergency, at the phase the rollout is in. */
export async function resume(options: {
  cwd: string
  policies: string[]
  reason: string
  operator?: string
  now: Date
  /** `now` was written on the command line: a commit before the phase's entry is refused. */
  nowGiven?: boolean
}): Promise<RollbackOutcome> {
  const rollout = await singleRollout(options.cwd, options.policies, 'resume')
  const { policy, state } = rollout
  await assertCommittable(rollout, state, options)
  if (state.enabled)
    throw new PhasegateError(`the kill switch of "${policy.feature}" is already on`)
  const reason = options.reason.trim()
  if (!reason)
    throw new PhasegateError('resuming needs a reason', {
      hint: 'pass --reason "why it is safe again"'
    })
  const operator = await resolveOperator(rollout, options.operator)
  const transition: Transition = {
    kind: 'resume',
    from: state.phase,
    to: state.phase,
    at: options.now.toISOString(),
    reason: `resumed by ${operator}: ${reason}`,
    approvers: [],
    operator,
    evidence: [{ gate: 'resume', metric: 'operator', value: operator, result: 'pass' }]
  }
  const made = await commitTransitionFrom(rollout, state, transition, options.now)
  return { rollout, ...made }
}
