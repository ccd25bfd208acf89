import { phaseNamed } from '../engine/ladder.js'
import type { Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { operatorStanding } from '../github/operators.js'
import { manualPause, manualResume, startedRollout } from '../rollout/manual.js'
import { listedApproversOf } from '../rollout/standing.js'
import { commitSubject } from '../state/trailers.js'
import type { ActionContext } from './context.js'
import { alreadyLanded, manualOutcome, reportSkipped, theRollout } from './dispatch-rollback.js'
import { dispatchRun, landedByThisRun } from './rerun.js'
import type { FeatureResult } from './feature.js'
import { land, type GitHubSide } from './landing.js'
import type { FeatureOutcome } from './outcome.js'
import { syncDefaultBranch } from './remote.js'
import { rollbackBranch } from './standing-pr.js'

/**
 * A person's pause or resume from workflow_dispatch (operators only, as for a rollback): one
 * transition commit pushed to the default branch at once (a pull request when it is protected).
 * A pause stops the rollout advancing while its rollback triggers still act; a resume lifts a
 * pause and/or turns the kill switch back on.
 */
export async function dispatchPauseOrResume(
  ctx: ActionContext,
  gh: GitHubSide,
  kind: 'pause' | 'resume'
): Promise<FeatureOutcome> {
  const root = ctx.workspace
  if (!ctx.actor)
    throw new PhasegateError(`cannot tell who dispatched this ${kind}`, {
      hint: 'run it from workflow_dispatch, where GitHub names the sender'
    })
  const base = await syncDefaultBranch(root)
  // A pause only holds exposure: like a rollback, it goes on past another policy that is broken.
  const { rollout, skipped } = await theRollout(ctx, kind, { pastBroken: kind === 'pause' })
  const { policy } = rollout
  const standing = await operatorStanding(gh.client, gh.repo, ctx.actor, policy.rollback.operators)
  if (!standing.allowed)
    throw new PhasegateError(
      `${standing.reason}: @${ctx.actor} may not ${kind} ${policy.feature}`,
      {
        hint: 'ask an operator to dispatch it, or add the user to rollback.operators in the policy'
      }
    )
  const from = startedRollout(rollout)
  // A re-run of this workflow run whose transition landed: said so, its notifications sent again.
  const dispatch = dispatchRun()
  const already = ctx.dryRun ? undefined : await landedByThisRun(rollout, dispatch, kind)
  if (already) {
    const result = alreadyLanded(already, dispatch!.id, reportSkipped(ctx, skipped))
    return manualOutcome({ ctx, gh, base }, rollout, from, result, already.transition, false)
  }
  const make = kind === 'pause' ? manualPause : manualResume
  const transition: Transition = {
    ...make(from, { reason: ctx.reason, operator: ctx.actor, now: ctx.now }),
    ...(dispatch ? { dispatchRun: dispatch.id } : {})
  }

  let result: FeatureResult
  if (ctx.dryRun) result = { actions: [`dry run: would ${kind} ${policy.feature}`] }
  else {
    const landed = await land({ ctx, gh, base }, from, transition, refusal => ({
      head: rollbackBranch(policy.feature),
      base,
      title: commitSubject(policy.feature, transition),
      body: `Pushing the ${kind} to ${base} was refused (${refusal}): **merge this pull request to ${kind} ${policy.feature}.**\n\nReason: ${ctx.reason}\nOperator: @${ctx.actor}`,
      reviewers: listedApproversOf(phaseNamed(policy, transition.from)).filter(a => a !== ctx.actor)
    }))
    if (landed.kind === 'stale')
      throw new PhasegateError(
        `${policy.feature} moved while the ${kind} was being pushed: dispatch it again if it is still needed`
      )
    result =
      landed.kind === 'pushed'
        ? {
            actions: [`pushed ${kind} ${landed.sha.slice(0, 10)} to ${base}`],
            transition: landed.transition,
            landed: landed.sha
          }
        : {
            actions: [`${base} is protected: opened ${kind} PR #${landed.pr.number}`],
            transition: landed.transition,
            prNumber: landed.pr.number
          }
  }
  result.actions.push(...reportSkipped(ctx, skipped))
  // A pause records no deployment: it changes no exposure.
  return manualOutcome(
    { ctx, gh, base },
    rollout,
    from,
    result,
    result.transition ?? transition,
    false
  )
}
