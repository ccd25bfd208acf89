import { repoRoot } from '../git/git.js'
import { withCheckoutLock } from '../git/lock.js'
import { manualResume, type ResumeLift } from '../rollout/manual.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { assertCommittable } from './committable.js'
import { resolveOperator, singleRollout, type RollbackOutcome } from './rollback.js'

/**
 * Lifts a pause and/or turns the kill switch back on after an emergency, at the phase the
 * rollout is in (operators only).
 */
export async function resume(options: {
  cwd: string
  policies: string[]
  reason: string
  operator?: string
  now: Date
  /** What to lift (--pause, --kill-switch, both); unset: whichever one is in force. */
  lift?: ResumeLift
  /** `now` was written on the command line: a commit before the phase's entry is refused. */
  nowGiven?: boolean
}): Promise<RollbackOutcome> {
  return withCheckoutLock(await repoRoot(options.cwd), 'resume', async () => {
    const { rollout } = await singleRollout(options.cwd, options.policies, 'resume')
    const { state } = rollout
    await assertCommittable(rollout, state, options)
    const operator = await resolveOperator(rollout, options.operator)
    const transition = manualResume(rollout, {
      reason: options.reason,
      operator,
      now: options.now,
      hint: 'pass --reason "why it is safe again"',
      ...(options.lift ? { lift: options.lift } : {}),
      spell: lift =>
        lift === 'both'
          ? '`--pause --kill-switch`'
          : lift === 'pause'
            ? '`--pause`'
            : '`--kill-switch`'
    })
    const made = await commitTransitionFrom(rollout, state, transition, options.now)
    return { rollout, ...made }
  })
}
