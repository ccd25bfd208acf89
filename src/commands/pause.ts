import { manualPause } from '../rollout/manual.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { assertCommittable } from './committable.js'
import { resolveOperator, singleRollout, type RollbackOutcome } from './rollback.js'

/**
 * Pauses one rollout (operators only): one commit, a `pause` transition; it no longer advances
 * until `phasegate resume`, while its rollback triggers still act.
 */
export async function pause(options: {
  cwd: string
  policies: string[]
  reason: string
  operator?: string
  now: Date
  /** `now` was written on the command line: a commit before the phase's entry is refused. */
  nowGiven?: boolean
}): Promise<RollbackOutcome> {
  const { rollout, skipped } = await singleRollout(options.cwd, options.policies, 'pause', {
    pastBroken: true
  })
  const { state } = rollout
  await assertCommittable(rollout, state, options)
  const operator = await resolveOperator(rollout, options.operator)
  const transition = manualPause(rollout, { reason: options.reason, operator, now: options.now })
  const made = await commitTransitionFrom(rollout, state, transition, options.now)
  return { rollout, ...made, skipped }
}
