import { phaseNamed } from '../engine/ladder.js'
import type { Phase, State } from '../engine/types.js'
import { runGit } from '../git/git.js'
import type { WantedCheck } from '../github/checks.js'
import { currentState, type Rollout } from './load.js'

// Where a rollout stands on the default branch: the commit that landed its state, the state as
// deployed, and who and what its current phase waits for.

/** The commit that last changed the state file on the current branch's first-parent line. */
export async function landingCommit(
  root: string,
  statePath: string
): Promise<{ sha: string; at: string } | undefined> {
  const result = await runGit(
    root,
    ['log', '-1', '--first-parent', '--format=%H %cI', '--', statePath],
    { allowFailure: true }
  )
  const [sha, at] = result.stdout.trim().split(' ')
  return sha && at ? { sha, at } : undefined
}

/**
 * The state as deployed: a phase counts as entered when its change landed on the default branch.
 * An advance PR is written before it is approved; its entered_at is when the PR was built, but
 * the phase starts, and its duration gate counts, from the merge. A transition that kept the
 * clock (entered_at earlier than its own time: a pause) leaves entered_at as written.
 */
export function deployedState(
  rollout: Rollout,
  now: Date,
  landed: { at: string } | undefined
): State {
  const state = currentState(rollout, now)
  if (!rollout.state || !landed) return state
  // A pause (or a resume lifting one) keeps the phase's clock: its landing does not restart it,
  // or triggers would wait for evidence newer than the pause.
  const last = state.lastTransition
  if (last && last.at !== state.enteredAt) return state
  return Date.parse(landed.at) > Date.parse(state.enteredAt)
    ? { ...state, enteredAt: new Date(landed.at).toISOString() }
    : state
}

/**
 * The users and teams a phase's manual approval gates list: who is asked to review its advance
 * (not who approved: that is the transition's `approvers`).
 */
export function listedApproversOf(phase: Phase): string[] {
  return [...new Set(phase.gates.flatMap(g => (g.type === 'manual_approval' ? g.approvers : [])))]
}

/**
 * The checks the automated_test gates of the rollout's current phase wait for, each with the app
 * it trusts.
 */
export function testsOf(rollout: Rollout, state: State): WantedCheck[] {
  return phaseNamed(rollout.policy, state.phase).gates.flatMap(g =>
    g.type === 'automated_test'
      ? g.checks.map(name => ({
          name,
          app: g.app,
          ...(g.workflow ? { workflow: g.workflow } : {})
        }))
      : []
  )
}
