import { relative } from 'node:path'
import { futureBeyondSkew } from '../engine/time.js'
import type { State } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { changedPaths } from '../git/git.js'
import { relativeTo, type Rollout } from '../rollout/load.js'

// A transition is evidence, and git must hold everything it was decided from: the policy as
// committed at HEAD (as the state file already must be), and a time that does not put the
// transition before the phase it leaves was entered nor after the machine's clock (a transition
// dated in the future would hold every fired trigger until then).

export interface CommitGuard {
  /** Where the user stands: paths in messages are shown from here. */
  cwd: string
  now: Date
  /** The time was written on the command line (--now) rather than read from the clock. */
  nowGiven?: boolean
}

/**
 * Refuses (PhasegateError, nothing written) to commit a transition of `rollout` from `state`
 * when the policy file differs from HEAD (edited, or never committed), or when a given --now is
 * earlier than the moment the current phase was entered, or when the time is more than
 * CLOCK_SKEW_MS (5 minutes) after the machine's clock.
 */
export async function assertCommittable(
  rollout: Rollout,
  state: State | null,
  guard: CommitGuard
): Promise<void> {
  const shown = relativeTo(guard.cwd, rollout.policyFile)
  const fromRoot = relative(rollout.root, rollout.policyFile)
  if (fromRoot.startsWith('..')) {
    throw new PhasegateError(`the policy ${shown} is outside the repository`, {
      location: { file: shown },
      hint: 'a transition records the policy it was decided from: keep the policy in the repository'
    })
  }
  if ((await changedPaths(rollout.root, [fromRoot])).length > 0) {
    throw new PhasegateError(
      'the policy has changes that are not committed; a transition decided from it would record evidence git does not hold',
      {
        location: { file: shown },
        hint: `commit the policy first (git add ${shown} && git commit), or \`git checkout -- ${shown}\` to drop the edit; --dry-run shows what it would do`
      }
    )
  }
  const future = futureBeyondSkew(guard.now)
  if (future) {
    throw new PhasegateError(
      `--now ${future}: a transition dated in the future would hold every rollback trigger until then`,
      {
        hint: 'give a --now at or before the current time, or leave --now out to use the clock; status and --dry-run accept any --now'
      }
    )
  }
  if (state && guard.nowGiven && guard.now.getTime() < Date.parse(state.enteredAt)) {
    throw new PhasegateError(
      `--now ${guard.now.toISOString()} is before ${rollout.policy.feature} entered ${state.phase} (${state.enteredAt})`,
      { hint: `give a --now at or after ${state.enteredAt}, or leave --now out to use the clock` }
    )
  }
}
