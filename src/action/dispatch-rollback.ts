import { recordLandedDeployment } from './deployments.js'
import { manualRollback, startedRollout } from '../rollout/manual.js'
import { phaseNamed } from '../engine/ladder.js'
import type { State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { git } from '../git/git.js'
import { raiseAlertIssue } from '../github/issues.js'
import { operatorStanding } from '../github/operators.js'
import { closeStandingPullRequest, type StandingPullRequestContent } from '../github/pulls.js'
import { evaluate } from '../rollout/evaluate.js'
import { reloadRollout, selectRollouts, unknownFeatures, type Rollout } from '../rollout/load.js'
import { listedApproversOf } from '../rollout/standing.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { commitSubject } from '../state/trailers.js'
import { oncallMentions } from './alerts.js'
import { markdownText as text, mention } from '../report/escape/markdown.js'
import type { ActionContext } from './context.js'
import type { FeatureResult } from './feature.js'
import { land, propose, type ActionRun, type GitHubSide } from './landing.js'
import { outcomeOf, type FeatureOutcome } from './outcome.js'
import { syncDefaultBranch, syncWithRemote } from './remote.js'
import { advanceBranch, rollbackBranch } from './standing-pr.js'

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
  const base = await syncDefaultBranch(root)
  const run: ActionRun = { ctx, gh, base }
  const rollout = await theRollout(ctx)
  const { policy } = rollout
  const standing = await operatorStanding(gh.client, gh.repo, ctx.actor, policy.rollback.operators)
  if (!standing.allowed)
    throw new PhasegateError(
      `${standing.reason}: @${ctx.actor} may not roll back ${policy.feature}`,
      {
        hint: 'ask an operator to dispatch it, or add the user to rollback.operators in the policy'
      }
    )
  const from = startedRollout(rollout)
  const emergency = ctx.mode === 'emergency'
  const transition = manualRollback(from, { reason, emergency, operator: ctx.actor, now: ctx.now })

  const result: FeatureResult = ctx.dryRun
    ? {
        actions: [
          `dry run: would ${emergency ? 'turn the kill switch off and ' : ''}step ${policy.feature} back`
        ]
      }
    : emergency
      ? await emergencyRollback(run, from, transition)
      : await gracefulRollback(run, from, transition)
  if (!ctx.dryRun) {
    const closed = await closeStandingPullRequest(
      gh.client,
      gh.repo,
      advanceBranch(policy.feature),
      `Closed: ${ctx.mode} rollback by @${ctx.actor} (${reason}).`
    )
    if (closed !== undefined) result.actions.push(`closed advance PR #${closed}`)
  }
  return manualOutcome(run, rollout, from, result, result.transition)
}

/**
 * The outcome of an operator's dispatched rollback, resume or pause, once `result` is known: the
 * checkout synced with the remote, the state after it, a landed transition recorded as a
 * deployment (`recordDeployment`), and the report's gates and triggers as they stood when the
 * operator acted (evaluated from the state before it).
 */
export async function manualOutcome(
  run: ActionRun,
  rollout: Rollout,
  from: Rollout & { state: State },
  result: FeatureResult,
  manual: Transition | undefined,
  recordDeployment = true
): Promise<FeatureOutcome> {
  const { ctx, gh, base } = run
  await syncWithRemote(rollout.root, base)
  const after = (await reloadRollout(rollout)).state ?? from.state
  if (recordDeployment && ctx.deployments && result.landed)
    result.actions.push(...(await recordLandedDeployment(gh, rollout, result.landed, undefined)))
  const { decision, observations } = await evaluate(rollout, from.state, {
    now: ctx.now,
    approvals: [],
    checks: [],
    env: ctx.metricsEnv
  })
  return outcomeOf({
    policy: rollout.policy,
    decidedFrom: from.state,
    after,
    decision,
    readings: observations.readings,
    result,
    ...(manual ? { manual } : {})
  })
}

/** The one rollout a dispatched rollback (or resume: `command`) acts on. */
export async function theRollout(ctx: ActionContext, command = 'rollback'): Promise<Rollout> {
  const { rollouts, failures, unknown } = await selectRollouts(
    ctx.workspace,
    ctx.policies,
    ctx.feature ? [ctx.feature] : []
  )
  if (unknown.length) throw unknownFeatures(unknown, rollouts)
  if (rollouts.length !== 1 || failures.length > 0)
    throw new PhasegateError(
      `a ${command} acts on one rollout but ${rollouts.length + failures.length} policies were found (${rollouts.map(r => r.policy.feature).join(', ')})${failures.length ? `, and ${failures.length} did not load (${failures.map(f => f.error.format()).join('; ')})` : ''}`,
      {
        // Named, a feature is found whatever other policies fail (selectRollouts).
        hint: 'name one with the workflow_dispatch input "feature": a broken policy of another feature does not stop it'
      }
    )
  return rollouts[0]!
}

function rollbackProposal(
  run: ActionRun,
  rollout: Rollout,
  transition: Transition,
  note: string
): StandingPullRequestContent {
  const { policy } = rollout
  return {
    head: rollbackBranch(policy.feature),
    base: run.base,
    title: commitSubject(policy.feature, transition),
    body: rollbackProposalBody(note, run.ctx.reason, run.ctx.actor),
    reviewers: listedApproversOf(phaseNamed(policy, transition.from)).filter(
      a => a !== run.ctx.actor
    )
  }
}

/**
 * A dispatched rollback's PR body: phasegate's note (Markdown it wrote), then the operator's
 * reason as text and their login as a mention.
 */
export function rollbackProposalBody(note: string, reason: string, actor: string): string {
  return `${note}\n\nReason: ${text(reason)}\nOperator: ${mention(actor)}`
}

/**
 * The emergency alert issue: who pulled the lever and why, where it landed, then on-call. The
 * reason is text on one line, so nothing in it can swallow the on-call mentions below it.
 * `mentions` are oncallMentions' output.
 */
export function emergencyIssueBody(input: {
  feature: string
  actor: string
  transition: Pick<Transition, 'from' | 'to'>
  reason: string
  mentions: string[]
  landed: { pr: number } | { sha: string }
}): string {
  const { feature, actor, transition, reason, mentions, landed } = input
  return [
    `🚨 **Emergency rollback of ${text(feature)}** by ${mention(actor)}: ${text(transition.from)} -> ${text(transition.to)}, kill switch OFF.`,
    '',
    `Reason: ${text(reason)}`,
    '',
    mentions.length
      ? `On call: ${mentions.join(' ')}`
      : 'No on-call contacts are listed in the policy (rollback.emergency_contacts).',
    '',
    'pr' in landed ? `The rollback waits in PR #${landed.pr}.` : `Commit: ${ownSha(landed.sha)}`
  ].join('\n')
}

/** phasegate's own commit, as GitHub links it; anything that is not a SHA as text. */
const ownSha = (sha: string) => (/^[0-9a-f]{7,40}$/.test(sha) ? sha : text(sha))

/** Kill switch off and one phase back, pushed at once (a PR when protected), then on-call is called. */
async function emergencyRollback(
  run: ActionRun,
  rollout: Rollout,
  transition: Transition
): Promise<FeatureResult> {
  const { ctx, gh, base } = run
  const { policy } = rollout
  const landed = await land(run, rollout, transition, refusal =>
    rollbackProposal(
      run,
      rollout,
      transition,
      `Pushing to ${base} was refused (${refusal}): **merge this pull request now** to turn ${policy.feature} off.`
    )
  )
  if (landed.kind === 'stale')
    throw new PhasegateError(
      `${policy.feature} moved while the emergency rollback was being pushed: dispatch it again if it is still needed`
    )
  const actions =
    landed.kind === 'pushed'
      ? [`pushed emergency rollback ${landed.sha.slice(0, 10)} to ${base}: kill switch OFF`]
      : [
          `${base} is protected: opened emergency rollback PR #${landed.pr.number}; ${landed.refusal}`
        ]
  const mentions = oncallMentions(policy.rollback.emergencyContacts, ctx.repo.owner)
  const issue = await raiseAlertIssue(
    gh.client,
    gh.repo,
    { feature: policy.feature, alert: 'emergency_rollback' },
    {
      severity: 'critical',
      body: emergencyIssueBody({
        feature: policy.feature,
        actor: ctx.actor,
        transition,
        reason: ctx.reason,
        mentions,
        landed: landed.kind === 'proposed' ? { pr: landed.pr.number } : { sha: landed.sha }
      })
    }
  )
  actions.push(`alert issue #${issue.number} ${issue.action} for the on-call contacts`)
  return {
    actions,
    transition: landed.transition,
    rollbackSha: landed.sha,
    ...(landed.kind === 'pushed' ? { landed: landed.sha } : { prNumber: landed.pr.number })
  }
}

/** One phase back through a pull request for review. */
async function gracefulRollback(
  run: ActionRun,
  rollout: Rollout & { state: NonNullable<Rollout['state']> },
  transition: Transition
): Promise<FeatureResult> {
  const { ctx } = run
  await git(ctx.workspace, 'checkout', '-q', '-B', rollbackBranch(rollout.policy.feature))
  const made = await commitTransitionFrom(rollout, rollout.state, transition, ctx.now)
  const { pr } = await propose(
    run,
    rollbackProposal(
      run,
      rollout,
      transition,
      `A graceful rollback requested by @${ctx.actor}: merging this pull request steps ${rollout.policy.feature} back.`
    )
  )
  return {
    actions: [`opened rollback PR #${pr.number} for review`],
    transition: made.transition,
    rollbackSha: made.sha,
    prNumber: pr.number
  }
}
