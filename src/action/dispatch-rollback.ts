import { rollback, type RollbackOutcome } from '../commands/rollback.js'
import { observe } from '../commands/workspace.js'
import { decide } from '../engine/decide.js'
import { phaseNamed } from '../engine/ladder.js'
import { PhasegateError } from '../errors.js'
import { git } from '../git/git.js'
import { raiseAlertIssue } from '../github/issues.js'
import { operatorStanding } from '../github/operators.js'
import { closeStandingPullRequest, upsertStandingPullRequest } from '../github/pulls.js'
import { commitSubject } from '../state/trailers.js'
import { oncallMentions } from './alerts.js'
import type { ActionContext } from './context.js'
import { commitAndPush, pushHead, remoteDefaultBranch, syncWithRemote } from './remote.js'
import { approversOf, reloadRollout, selectRollouts } from './rollouts.js'
import { advanceBranch, rollbackBranch } from './standing-pr.js'
import type { FeatureOutcome, GitHubSide } from './tick-on-github.js'

/**
 * A person's rollback from workflow_dispatch. Emergency: kill switch off and one phase back in a
 * single commit pushed at once, then the on-call contacts are called in an alert issue. Graceful:
 * the same step back as a pull request for review. The operator is the dispatching user.
 */
export async function dispatchRollback(
  ctx: ActionContext,
  gh: GitHubSide
): Promise<FeatureOutcome> {
  const root = ctx.workspace
  const reason = ctx.reason.trim()
  if (!reason)
    throw new PhasegateError('a rollback needs a reason', {
      hint: 'fill in the workflow_dispatch input "reason" (what went wrong)'
    })
  if (!ctx.actor)
    throw new PhasegateError('cannot tell who dispatched this rollback', {
      hint: 'run it from workflow_dispatch, where GitHub names the sender'
    })
  const base = await remoteDefaultBranch(root)
  await syncWithRemote(root, base)
  const rollouts = await selectRollouts(root, ctx.policies, ctx.feature)
  if (rollouts.length !== 1)
    throw new PhasegateError(
      `a rollback acts on one rollout but ${rollouts.length} policies were found (${rollouts.map(r => r.policy.feature).join(', ')})`,
      { hint: 'name one with the workflow_dispatch input "feature"' }
    )
  const rollout = rollouts[0]!
  const { policy } = rollout
  const standing = await operatorStanding(gh.client, gh.repo, ctx.actor, policy.rollback.operators)
  if (!standing.allowed)
    throw new PhasegateError(
      `${standing.reason}: @${ctx.actor} may not roll back ${policy.feature}`,
      {
        hint: 'ask an operator to dispatch it, or add the user to rollback.operators in the policy'
      }
    )
  const emergency = ctx.mode === 'emergency'
  const run = () =>
    rollback({
      cwd: root,
      policies: [rollout.policyFile],
      reason,
      emergency,
      operator: ctx.actor,
      operatorVerified: true,
      now: ctx.now
    })
  const actions: string[] = []
  let done: RollbackOutcome | undefined
  let rollbackSha: string | undefined
  let prNumber: number | undefined

  if (ctx.dryRun) {
    actions.push(
      `dry run: would ${emergency ? 'turn the kill switch off and ' : ''}step ${policy.feature} back`
    )
  } else if (emergency) {
    const seen = JSON.stringify(rollout.state)
    const result = await commitAndPush(root, base, async n => {
      if (n > 1 && JSON.stringify((await reloadRollout(root, rollout)).state) !== seen)
        return {
          status: 'stale',
          reason: `${policy.feature} moved while the emergency rollback was being pushed: dispatch it again if it is still needed`
        }
      done = await run()
      return { status: 'committed', sha: done.sha }
    })
    if (result.status === 'stale') throw new PhasegateError(result.reason)
    rollbackSha = result.sha
    if (result.status === 'pushed') {
      actions.push(
        `pushed emergency rollback ${result.sha.slice(0, 10)} to ${base}: kill switch OFF`
      )
    } else {
      prNumber = await openRollbackPullRequest(
        ctx,
        gh,
        base,
        done!,
        `Pushing to ${base} was refused (branch protection): **merge this pull request now** to turn ${policy.feature} off.`
      )
      actions.push(`${base} is protected: opened emergency rollback PR #${prNumber}`)
    }
    const mentions = oncallMentions(policy.rollback.emergencyContacts, ctx.repo.owner)
    const issue = await raiseAlertIssue(
      gh.client,
      gh.repo,
      { feature: policy.feature, alert: 'emergency_rollback' },
      {
        severity: 'critical',
        body: [
          `🚨 **Emergency rollback of ${policy.feature}** by @${ctx.actor}: ${done!.transition.from} -> ${done!.transition.to}, kill switch OFF.`,
          '',
          `Reason: ${reason}`,
          '',
          mentions.length
            ? `On call: ${mentions.join(' ')}`
            : 'No on-call contacts are listed in the policy (rollback.emergency_contacts).',
          '',
          prNumber ? `The rollback waits in PR #${prNumber}.` : `Commit: ${rollbackSha}`
        ].join('\n')
      }
    )
    actions.push(`alert issue #${issue.number} ${issue.action} for the on-call contacts`)
  } else {
    const branch = rollbackBranch(policy.feature)
    await git(root, 'checkout', '-q', '-B', branch)
    done = await run()
    rollbackSha = done.sha
    prNumber = await openRollbackPullRequest(
      ctx,
      gh,
      base,
      done,
      `A graceful rollback requested by @${ctx.actor}: merging this pull request steps ${policy.feature} back.`
    )
    actions.push(`opened rollback PR #${prNumber} for review`)
  }
  if (!ctx.dryRun) {
    const closed = await closeStandingPullRequest(
      gh.client,
      gh.repo,
      advanceBranch(policy.feature),
      `Closed: ${ctx.mode} rollback by @${ctx.actor} (${reason}).`
    )
    if (closed !== undefined) actions.push(`closed advance PR #${closed}`)
  }
  await syncWithRemote(root, base)
  const after = await reloadRollout(root, rollout)
  const state = after.state ?? rollout.state!
  // The report shows the gates and alerts as they stood when the operator pulled the lever.
  const observations = await observe(rollout, rollout.state!, {
    now: ctx.now,
    approvals: [],
    checks: [],
    env: ctx.metricsEnv
  })
  const held = decide(policy, rollout.state!, observations, ctx.now)
  return {
    policy,
    state,
    decidedFrom: rollout.state!,
    decision: done
      ? {
          ...held,
          action: 'rollback',
          target: done.transition.to,
          reason: done.transition.reason,
          transition: done.transition
        }
      : held,
    readings: observations.readings,
    actions,
    ...(prNumber !== undefined ? { prNumber } : {}),
    ...(rollbackSha ? { rollbackSha } : {})
  }
}

async function openRollbackPullRequest(
  ctx: ActionContext,
  gh: GitHubSide,
  base: string,
  done: RollbackOutcome,
  note: string
): Promise<number> {
  const { policy } = done.rollout
  const branch = rollbackBranch(policy.feature)
  await pushHead(ctx.workspace, branch, { force: true })
  const pull = await upsertStandingPullRequest(gh.client, gh.repo, {
    head: branch,
    base,
    title: commitSubject(policy.feature, done.transition),
    body: `${note}\n\nReason: ${ctx.reason}\nOperator: @${ctx.actor}`,
    reviewers: approversOf(phaseNamed(policy, done.transition.from)).filter(a => a !== ctx.actor)
  })
  return pull.number
}
