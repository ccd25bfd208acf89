import type { Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import type { GitHubClient, RepoRef } from '../github/client.js'
import { landThroughApi } from '../github/git-data.js'
import { describeRefusal, type ProtectionRefusal } from '../github/protection.js'
import {
  upsertStandingPullRequest,
  type StandingPullRequest,
  type StandingPullRequestContent
} from '../github/pulls.js'
import { reloadRollout, type Rollout } from '../rollout/load.js'
import { commitTransitionFrom } from '../rollout/write.js'
import type { State } from '../engine/types.js'
import type { ActionContext } from './context.js'
import { commitAndPush, pushHead, syncWithRemote, type CommitAttempt } from './remote.js'

// The two ways a transition reaches the default branch: landing (commit and push it there) and
// proposing (a standing branch and its pull request). Both return what happened as a record.

export interface GitHubSide {
  client: GitHubClient
  repo: RepoRef
}

/** One run of the action against one repository: its inputs, GitHub, and the default branch. */
export interface ActionRun {
  ctx: ActionContext
  gh: GitHubSide
  /** The default branch, checked out at its remote tip. */
  base: string
}

export type ProposeResult = { kind: 'proposed'; pr: StandingPullRequest }

export type LandResult =
  | { kind: 'pushed'; sha: string; transition: Transition; attempts: number }
  /** The rollout moved since the decision (another run, a merged PR): nothing was landed. */
  | { kind: 'stale'; reason: string }
  /**
   * The default branch refused the push (branch protection or a ruleset; `refusal` says which
   * rule and what to configure), or the policy wants the rollback approved: the commit waits in
   * a pull request.
   */
  | {
      kind: 'proposed'
      sha: string
      transition: Transition
      refusal: string
      pr: StandingPullRequest
    }

/** Identifies a state as read: a retry after a lost push goes on only if nobody moved it. */
function stateKey(state: State | null): string {
  return JSON.stringify([
    state?.phase,
    state?.enabled,
    state?.lastTransition?.at,
    state?.lastTransition?.kind
  ])
}

/**
 * Commits `transition` on the default branch's tip and pushes it, retrying a lost race. A retry
 * re-reads the state: if another run or a merged PR moved the rollout meanwhile, the result is
 * `stale` rather than a transition decided from a state that no longer exists. When the branch
 * is protected, the same commit goes to `propose()` with `proposal(refusal)` as its content.
 */
export async function land(
  run: ActionRun,
  rollout: Rollout,
  transition: Transition,
  proposal: (refusal: string) => StandingPullRequestContent,
  /** Propose instead of pushing, for this reason (a rollback the policy wants approved). */
  approvalRequired?: string
): Promise<LandResult> {
  const root = run.ctx.workspace
  if (approvalRequired) {
    const made = await commitTransitionFrom(rollout, rollout.state!, transition, run.ctx.now)
    const { pr } = await propose(run, proposal(approvalRequired))
    return {
      kind: 'proposed',
      sha: made.sha,
      transition: made.transition,
      refusal: approvalRequired,
      pr
    }
  }
  const seen = stateKey(rollout.state)
  let landed: Transition = transition
  const attempt = async (n: number): Promise<CommitAttempt> => {
    const current = n === 1 ? rollout : await reloadRollout(rollout)
    if (stateKey(current.state) !== seen)
      return {
        status: 'stale',
        reason: `another run moved ${rollout.policy.feature} to ${current.state?.phase} while this one was pushing; the next tick decides from there`
      }
    const made = await commitTransitionFrom(current, current.state!, transition, run.ctx.now)
    landed = made.transition
    return { status: 'committed', sha: made.sha }
  }
  let result = await commitAndPush(root, run.base, attempt)
  if (result.status === 'protected' && onlySignaturesRequired(result.refusal)) {
    // GitHub signs the commits its Git Data API makes: the same commit, made there, lands.
    await syncWithRemote(root, run.base)
    result = await commitAndPush(root, run.base, attempt, async sha => {
      const api = await landThroughApi(run.gh.client, run.gh.repo, root, sha, run.base)
      if (api.status === 'pushed') await syncWithRemote(root, run.base)
      return api
    })
  }
  if (result.status === 'stale') return { kind: 'stale', reason: result.reason }
  if (result.status === 'pushed')
    return { kind: 'pushed', sha: result.sha, transition: landed, attempts: result.attempts }
  const refusal = describeRefusal(result.refusal, run.base)
  const { pr } = await propose(run, proposal(refusal))
  return { kind: 'proposed', sha: result.sha, transition: landed, refusal, pr }
}

/**
 * Force-pushes HEAD to the proposal's standing branch, creates or updates its pull request, and
 * checks the default branch out again.
 */
export async function propose(
  run: ActionRun,
  content: StandingPullRequestContent
): Promise<ProposeResult> {
  const pushed = await pushHead(run.ctx.workspace, content.head, { force: true })
  if (pushed.status !== 'pushed')
    throw new PhasegateError(
      `pushing the branch ${content.head} for its pull request was refused: ${pushed.status === 'protected' ? describeRefusal(pushed.refusal, content.head) : pushed.message}`,
      {
        hint: `phasegate needs to push its own branches (phasegate/*) when ${run.base} takes changes only through pull requests`
      }
    )
  const pr = await upsertStandingPullRequest(run.gh.client, run.gh.repo, content)
  await syncWithRemote(run.ctx.workspace, run.base)
  return { kind: 'proposed', pr }
}

/** A refusal that only wants signed commits: the Git Data API, whose commits GitHub signs, gets past it. */
function onlySignaturesRequired(refusal: ProtectionRefusal): boolean {
  return refusal.rules.length > 0 && refusal.rules.every(rule => rule.kind === 'signatures')
}
