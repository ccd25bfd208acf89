import { phaseNamed } from '../engine/ladder.js'
import type { Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { git } from '../git/git.js'
import { operatorStanding } from '../github/operators.js'
import type { StandingPullRequestContent } from '../github/pulls.js'
import type { Rollout } from '../rollout/load.js'
import { manualResume, startedRollout } from '../rollout/manual.js'
import { listedApproversOf } from '../rollout/standing.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { commitSubject } from '../state/trailers.js'
import type { ActionContext } from './context.js'
import { alreadyLanded, manualOutcome, theRollout } from './dispatch-rollback.js'
import { dispatchRun, landedByThisRun } from './rerun.js'
import type { FeatureResult } from './feature.js'
import { land, propose, type ActionRun, type GitHubSide } from './landing.js'
import type { FeatureOutcome } from './outcome.js'
import { syncDefaultBranch } from './remote.js'
import { resumeBranch } from './standing-pr.js'

/**
 * An operator's resume from workflow_dispatch: the kill switch back on at the phase the rollout
 * is in. Mode emergency pushes it at once (a resume PR when the branch refuses the push); mode
 * graceful always proposes it for review. Only the policy's operators (or, when it names none,
 * people with write access) may dispatch it, as for an emergency rollback.
 */
export async function dispatchResume(ctx: ActionContext, gh: GitHubSide): Promise<FeatureOutcome> {
  const root = ctx.workspace
  if (!ctx.actor)
    throw new PhasegateError('cannot tell who dispatched this resume', {
      hint: 'run it from workflow_dispatch, where GitHub names the sender'
    })
  const base = await syncDefaultBranch(root)
  const run: ActionRun = { ctx, gh, base }
  // A resume raises exposure: it never guesses past a broken policy, and a lost state refuses.
  const { rollout } = await theRollout(ctx, 'resume')
  const { policy } = rollout
  const from = startedRollout(rollout)
  // A re-run of this workflow run whose resume landed: said so, its notifications sent again.
  const dispatch = dispatchRun()
  const already = ctx.dryRun ? undefined : await landedByThisRun(rollout, dispatch, 'resume')
  if (already)
    return manualOutcome(
      run,
      rollout,
      from,
      alreadyLanded(already, dispatch!.id),
      already.transition
    )
  const transition: Transition = {
    ...manualResume(from, {
      reason: ctx.reason,
      operator: ctx.actor,
      now: ctx.now,
      hint: 'fill in the workflow_dispatch input "reason" (why it is safe again)',
      ...(ctx.lift ? { lift: ctx.lift } : {}),
      spell: lift => `the workflow_dispatch input lift: ${lift}`
    }),
    ...(dispatch ? { dispatchRun: dispatch.id } : {})
  }
  const standing = await operatorStanding(gh.client, gh.repo, ctx.actor, policy.rollback.operators)
  if (!standing.allowed)
    throw new PhasegateError(`${standing.reason}: @${ctx.actor} may not resume ${policy.feature}`, {
      hint: 'ask an operator to dispatch it, or add the user to rollback.operators in the policy'
    })

  const result: FeatureResult = ctx.dryRun
    ? { actions: [`dry run: would turn the kill switch of ${policy.feature} back on`] }
    : ctx.mode === 'graceful'
      ? await proposeResume(run, from, transition)
      : await landResume(run, from, transition)
  return manualOutcome(run, rollout, from, result, result.transition)
}

function resumeProposal(
  run: ActionRun,
  rollout: Rollout,
  transition: Transition,
  note: string
): StandingPullRequestContent {
  const { policy } = rollout
  return {
    head: resumeBranch(policy.feature),
    base: run.base,
    title: commitSubject(policy.feature, transition),
    body: [
      note,
      '',
      `The phasegate/policy check passes a resume once an operator (rollback.operators, or anyone with write access when the policy names none) has opened it or approved its latest commit: @${run.ctx.actor}, approve it to vouch for this resume.`,
      '',
      `Reason: ${run.ctx.reason.trim()}`,
      `Operator: @${run.ctx.actor}`
    ].join('\n'),
    reviewers: [
      run.ctx.actor,
      ...listedApproversOf(phaseNamed(policy, transition.from)).filter(a => a !== run.ctx.actor)
    ]
  }
}

/** The kill switch on, pushed at once; where the default branch refuses the push, a resume PR. */
async function landResume(
  run: ActionRun,
  rollout: Rollout,
  transition: Transition
): Promise<FeatureResult> {
  const { policy } = rollout
  const landed = await land(run, rollout, transition, refusal =>
    resumeProposal(
      run,
      rollout,
      transition,
      `Pushing to ${run.base} was refused (${refusal}): merging this pull request turns ${policy.feature} back on at ${transition.to}.`
    )
  )
  if (landed.kind === 'stale')
    throw new PhasegateError(
      `${policy.feature} moved while the resume was being pushed: look at where it stands and dispatch it again if it is still wanted`
    )
  if (landed.kind === 'pushed')
    return {
      actions: [
        `pushed resume ${landed.sha.slice(0, 10)} to ${run.base}: kill switch ON at ${transition.to}`
      ],
      transition: landed.transition,
      landed: landed.sha
    }
  return {
    actions: [
      `${run.base} is protected (${landed.refusal}): opened resume PR #${landed.pr.number} (${landed.pr.htmlUrl})`
    ],
    transition: landed.transition,
    prNumber: landed.pr.number
  }
}

/** The kill switch on through a pull request for review. */
async function proposeResume(
  run: ActionRun,
  rollout: Rollout & { state: NonNullable<Rollout['state']> },
  transition: Transition
): Promise<FeatureResult> {
  const { ctx } = run
  await git(ctx.workspace, 'checkout', '-q', '-B', resumeBranch(rollout.policy.feature))
  const made = await commitTransitionFrom(rollout, rollout.state, transition, ctx.now)
  const { pr } = await propose(
    run,
    resumeProposal(
      run,
      rollout,
      transition,
      `A resume requested by @${ctx.actor}: merging this pull request turns ${rollout.policy.feature} back on at ${transition.to}.`
    )
  )
  return {
    actions: [`opened resume PR #${pr.number} (${pr.htmlUrl}) for review`],
    transition: made.transition,
    prNumber: pr.number
  }
}
