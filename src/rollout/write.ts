import { relative } from 'node:path'
import { nextState } from '../engine/next-state.js'
import type { Policy, State, Transition } from '../engine/types.js'
import { advanceToUndo, commitTransition, ownFiles, readHistory } from '../git/transitions.js'
import type { Rollout } from './load.js'

// Writing a transition: the one place a state file is written from a state and a transition.

/**
 * phasegate's own files in a transition commit of this rollout, relative to the repository root:
 * its state file and its datafile. A transition commit changes these and nothing else; a
 * rollback restores only these; an advance PR may be merged only if its diff is these.
 */
export function ownFilesOf(rollout: { policy: Pick<Policy, 'statePath'> }): string[] {
  return ownFiles(rollout.policy)
}

/**
 * Commits `transition` from `state` on the checked-out branch, writing `nextState(state,
 * transition)`. A rollback or an emergency reverts the advance that brought the rollout into its
 * phase (recorded in the transition's `reverts`). Returns the commit's sha.
 */
export async function commitTransitionFrom(
  rollout: Rollout,
  state: State,
  transition: Transition,
  now: Date,
  /** Compare-and-swap: commit only while HEAD is still this commit (see commitTransition). */
  expectedHead?: string
): Promise<{ sha: string; transition: Transition }> {
  const recorded = { ...transition }
  if (recorded.kind === 'rollback' || recorded.kind === 'emergency') {
    const undo = advanceToUndo(await readHistory(rollout.root, [rollout.policy]), state.phase)
    if (undo) recorded.reverts = undo.sha
  }
  const sha = await commitTransition({
    root: rollout.root,
    policy: rollout.policy,
    next: nextState(state, recorded),
    transition: recorded,
    now,
    ...(expectedHead !== undefined
      ? { expectedHead, inputs: [relative(rollout.root, rollout.policyFile)] }
      : {})
  })
  return { sha, transition: recorded }
}
