import { runGit } from '../git/git.js'
import { readHistory, transitionsOf, type History } from '../git/transitions.js'
import type { Rollout } from '../rollout/load.js'

// A state file changes only through phasegate's transitions (git/transitions.ts
// transitionVerdict: a commit that changes the state file in agreement with its trailers). So the
// state a pull request starts from must be the one the latest transition on the base branch
// wrote (not an edit pushed straight to it), and every commit of the pull request that changes a
// state file must itself be a transition (not a hand edit that a later trailer-carrying commit
// merely touches). judgeStateChange then holds the head's state to one step from the base's.

/** What the history makes of the pull request's state files. */
export interface StateHistory {
  /** One per disagreement; empty when all agree. */
  reasons: string[]
  /**
   * Features whose state file on the base is not what their latest transition wrote (lost, or
   * edited by hand) and which the head puts back to exactly that content, with that transition's
   * commit: the repair the lost-state hint prescribes, not a transition.
   */
  restored: Map<string, string>
}

/**
 * Reasons for each disagreement between the rollouts' state files and their transitions: a
 * state file on `baseRef` whose content is not what its feature's latest transition wrote (unless
 * the head restores exactly that content), or a commit in `mergeBase..tip` that changes one to
 * anything but that content and is not a transition. A state file no transition ever wrote on
 * the base (it predates phasegate's trailers) stands as it is.
 */
export async function stateHistoryDisagreements(
  root: string,
  baseRef: string,
  mergeBase: string,
  tip: string,
  rollouts: Rollout[]
): Promise<StateHistory> {
  const restored = new Map<string, string>()
  if (rollouts.length === 0) return { reasons: [], restored }
  const sources = rollouts.map(r => r.policy)
  // The base's own history, and the pull request's commits (each judged against its parent).
  const onBase = await readHistory(root, sources, [baseRef])
  const onBranch = await readHistory(root, sources, [`^${mergeBase}`, tip])
  const shasOf = (history: History, feature: string) =>
    new Set(
      transitionsOf(history)
        .filter(h => h.feature === feature)
        .map(h => h.sha)
    )
  const reasons: string[] = []
  for (const { policy } of rollouts) {
    const path = policy.statePath
    const branch = shasOf(onBranch, policy.feature)
    const writers = async (...range: string[]) =>
      (
        await runGit(root, ['log', '--format=%H', ...range, '--', path], { allowFailure: true })
      ).stdout
        .split('\n')
        .filter(Boolean)
    // The base's state must be the content its latest transition wrote; a file put back to
    // that content (by a push that repairs a hand edit) agrees again.
    const [latest] = transitionsOf(onBase).filter(h => h.feature === policy.feature)
    const written = latest ? await blobAt(root, latest.sha, path) : undefined
    const repaired = written !== undefined && (await blobAt(root, tip, path)) === written
    if (latest && (await blobAt(root, baseRef, path)) !== written) {
      const [writer] = await writers('-1', baseRef)
      if (repaired) restored.set(policy.feature, latest.sha)
      else
        reasons.push(
          `${path} on the base branch was last written by ${writer?.slice(0, 10) ?? 'nothing'}, not by a phasegate transition${writer ? why(onBase, writer) : ''}: its state is not the one its latest transition (${latest.sha.slice(0, 10)}) wrote`
        )
    }
    for (const sha of await writers(`${mergeBase}..${tip}`)) {
      // A commit that puts back exactly what the latest transition wrote restores, not edits.
      if (branch.has(sha) || (written && (await blobAt(root, sha, path)) === written)) continue
      reasons.push(
        `${path} is changed by ${sha.slice(0, 10)} on the pull request's branch, not by a phasegate transition${why(onBranch, sha)}`
      )
    }
  }
  return { reasons, restored }
}

/** Why a commit with trailers is not a transition, when it carries some (readHistory's reason). */
function why(history: History, sha: string): string {
  const skipped = history.find(h => h.sha === sha && 'skipped' in h)
  return skipped && 'skipped' in skipped ? ` (it ${skipped.skipped})` : ''
}

async function blobAt(root: string, rev: string, path: string): Promise<string> {
  const result = await runGit(root, ['rev-parse', '-q', '--verify', `${rev}:${path}`], {
    allowFailure: true
  })
  return result.stdout.trim()
}
