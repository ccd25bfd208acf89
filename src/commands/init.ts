import { PhasegateError } from '../errors.js'
import { repoRoot } from '../git/git.js'
import { withCheckoutLock } from '../git/lock.js'
import { commitTransition } from '../git/transitions.js'
import { initialState } from '../state/file.js'
import { assertCommittable } from './committable.js'
import { loadRollouts, type Rollout } from '../rollout/load.js'

interface InitOptions {
  cwd: string
  policies: string[]
  now: Date
}

/**
 * Writes and commits the state file of every policy that has none: the rollout starts at its
 * first phase. Runs under the checkout's lock, so a tick in the same checkout is not interleaved.
 */
export async function init(
  options: InitOptions
): Promise<Array<{ rollout: Rollout; sha: string }>> {
  return withCheckoutLock(await repoRoot(options.cwd), 'init', () => initLocked(options))
}

async function initLocked(options: InitOptions): Promise<Array<{ rollout: Rollout; sha: string }>> {
  const rollouts = await loadRollouts(options.cwd, options.policies)
  const fresh = rollouts.filter(r => !r.state)
  if (fresh.length === 0) {
    throw new PhasegateError(
      `every rollout has started already (${rollouts.map(r => `${r.policy.feature} at ${r.state!.phase}`).join(', ')})`
    )
  }
  for (const rollout of fresh) await assertCommittable(rollout, null, options)
  const started: Array<{ rollout: Rollout; sha: string }> = []
  for (const rollout of fresh) {
    const next = initialState(rollout.policy, options.now)
    const sha = await commitTransition({
      root: rollout.root,
      policy: rollout.policy,
      next,
      transition: {
        feature: rollout.policy.feature,
        kind: 'init',
        from: next.phase,
        to: next.phase,
        reason: `rollout of ${rollout.policy.feature} starts at ${next.phase}`,
        approvers: [],
        evidence: []
      },
      now: options.now
    })
    started.push({ rollout, sha })
  }
  return started
}
