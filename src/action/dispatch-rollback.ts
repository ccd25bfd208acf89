import * as core from '@actions/core'
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
import { datafilePathOf } from '../export/datafile.js'
import { refreshDatafile } from '../rollout/datafile.js'
import {
  currentState,
  lostStateError,
  reloadRollout,
  selectRollouts,
  unknownFeatures,
  type Rollout,
  type RolloutFailure
} from '../rollout/load.js'
import { terminalText } from '../report/escape/terminal.js'
import { annotationOf } from './annotations.js'
import { dispatchRun, landedByThisRun } from './rerun.js'
import { commitAndPush, syncDefaultBranch, syncWithRemote } from './remote.js'
import { listedApproversOf } from '../rollout/standing.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { commitSubject } from '../state/trailers.js'
import { oncallMentions } from './alerts.js'
import { markdownText as text, mention } from '../report/escape/markdown.js'
import type { ActionContext } from './context.js'
import type { FeatureResult } from './feature.js'
import { land, propose, type ActionRun, type GitHubSide } from './landing.js'
import { outcomeOf, type FeatureOutcome } from './outcome.js'
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
  const emergency = ctx.mode === 'emergency'
  const { rollout, skipped, stateless } = await theRollout(ctx, 'rollback', {
    pastBroken: true,
    withoutState: emergency
  })
  const { policy } = rollout
  const standing = await operatorStanding(gh.client, gh.repo, ctx.actor, policy.rollback.operators)
  if (!standing.allowed)
    throw new PhasegateError(
      `${standing.reason}: @${ctx.actor} may not roll back ${policy.feature}`,
      {
        hint: 'ask an operator to dispatch it, or add the user to rollback.operators in the policy'
      }
    )
  const notLoaded = reportSkipped(ctx, skipped)
  if (stateless) {
    const result = await emergencyWithoutState(run, rollout, stateless)
    result.actions.push(...notLoaded)
    const state = currentState(rollout, ctx.now)
    return manualOutcome(run, rollout, { ...rollout, state }, result, undefined, false, state)
  }
  const from = startedRollout(rollout)
  // A re-run of this workflow run whose rollback landed (only what came after it failed) reports
  // it and sends its notifications again: acting again would step back a second phase.
  const dispatch = dispatchRun()
  const already = ctx.dryRun
    ? undefined
    : await landedByThisRun(rollout, dispatch, emergency ? 'emergency' : 'rollback')
  if (already)
    return manualOutcome(
      run,
      rollout,
      from,
      alreadyLanded(already, dispatch!.id, notLoaded),
      already.transition,
      false
    )
  const transition: Transition = {
    ...manualRollback(from, { reason, emergency, operator: ctx.actor, now: ctx.now }),
    ...(dispatch ? { dispatchRun: dispatch.id } : {})
  }

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
  result.actions.push(...notLoaded)
  return manualOutcome(run, rollout, from, result, result.transition)
}

/**
 * The result of a dispatch whose transition an earlier attempt of the same workflow run
 * (`runId`) landed as `landed.sha`: nothing is done again; its notifications are sent again.
 */
export function alreadyLanded(
  landed: { sha: string; transition: Transition },
  runId: string,
  notLoaded: string[] = []
): FeatureResult {
  return {
    actions: [
      `already landed in ${landed.sha.slice(0, 10)} by an earlier attempt of this workflow run (${runId}): ${landed.transition.kind} not done again; only its notifications are sent again`,
      ...notLoaded
    ],
    transition: landed.transition,
    landed: landed.sha,
    ...(landed.transition.kind === 'rollback' || landed.transition.kind === 'emergency'
      ? { rollbackSha: landed.sha }
      : {})
  }
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
  recordDeployment = true,
  /** The state after it when it is known without reading the file (one that does not read). */
  known?: State
): Promise<FeatureOutcome> {
  const { ctx, gh, base } = run
  await syncWithRemote(rollout.root, base)
  const after = known ?? (await reloadRollout(rollout)).state ?? from.state
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

/** The rollout a dispatch acts on, the policies that did not load beside it, and its state's fault. */
export interface DispatchTarget {
  rollout: Rollout
  /** Policy files that did not load (no feature named): reported, they stopped nothing. */
  skipped: RolloutFailure[]
  /** With `withoutState`: why its state file cannot be read (present but broken, or lost). */
  stateless?: PhasegateError
}

/**
 * The one rollout a dispatched rollback, pause or resume (`command`) acts on. Named by the input
 * `feature`, it is found whatever other policies fail. Named by none, it is the one rollout that
 * loaded when `pastBroken` (a rollback or a pause only lowers or holds exposure, and phasegate can
 * act on no policy that does not load, so one broken policy never stops the lever); several are
 * ambiguous and refused, naming them. `withoutState` (an emergency) also takes a rollout whose
 * state file is lost or does not read: its datafile can still be written off.
 */
export async function theRollout(
  ctx: ActionContext,
  command = 'rollback',
  options: { pastBroken?: boolean; withoutState?: boolean } = {}
): Promise<DispatchTarget> {
  const { rollouts, failures, unknown } = await selectRollouts(
    ctx.workspace,
    ctx.policies,
    ctx.feature ? [ctx.feature] : []
  )
  const unreadable = options.withoutState
    ? failures.filter(
        f => f.unreadableState && (!ctx.feature || f.unreadableState.policy.feature === ctx.feature)
      )
    : []
  const candidates = [...rollouts, ...unreadable.map(f => f.unreadableState!)]
  const missing = unknown.filter(f => !candidates.some(r => r.policy.feature === f))
  // A named feature whose state file does not read is found, and refused for what it is.
  const named = failures.find(
    f => f.unreadableState && missing.includes(f.unreadableState.policy.feature)
  )
  if (named) throw named.error
  if (missing.length) throw unknownFeatures(missing, rollouts)
  // A named feature was found: the other policies' failures are none of this dispatch's business.
  const others = ctx.feature ? [] : failures.filter(f => !unreadable.includes(f))
  if (candidates.length === 0 && others[0]) throw others[0].error
  if (candidates.length !== 1 || (others.length > 0 && !options.pastBroken))
    throw new PhasegateError(
      `a ${command} acts on one rollout but ${candidates.length} can be acted on (${candidates.map(r => r.policy.feature).join(', ')})${others.length ? `, and ${others.length} ${others.length === 1 ? 'policy' : 'policies'} did not load (${others.map(f => f.error.format()).join('; ')})` : ''}`,
      {
        hint: 'name one with the workflow_dispatch input "feature": a broken policy of another feature does not stop it'
      }
    )
  const rollout = candidates[0]!
  const broken = unreadable.find(f => f.unreadableState === rollout)?.error
  const stateless = broken ?? (rollout.lost ? lostStateError(rollout) : undefined)
  if (stateless && !options.withoutState) throw stateless
  return { rollout, skipped: others, ...(stateless ? { stateless } : {}) }
}

/**
 * Each policy that did not load beside the dispatch's rollout, as a warning annotation at its
 * place and an action line: reported, not failed (a re-run would step back once more).
 */
export function reportSkipped(ctx: ActionContext, skipped: RolloutFailure[]): string[] {
  return skipped.map(f => {
    const line = `not loaded, not acted on: ${f.error.format()}`
    core.warning(terminalText(line), annotationOf(f.error, ctx.workspace))
    return line
  })
}

/**
 * An emergency on a rollout whose state file is lost or does not read (`why`): no transition can
 * be committed, so the datafile applications poll is rewritten off in a refresh commit pushed at
 * once (as the CLI's lever does: no state file changed, so no transition), and `why` is reported
 * at its place. A protected branch that refuses the push fails the step, naming the rule.
 */
async function emergencyWithoutState(
  run: ActionRun,
  rollout: Rollout,
  why: PhasegateError
): Promise<FeatureResult> {
  const { ctx, base } = run
  const path = datafilePathOf(rollout.policy)
  core.warning(terminalText(why.format()), annotationOf(why, ctx.workspace))
  const actions = [`the state file cannot be read: ${why.format()}`]
  if (ctx.dryRun) return { actions: [...actions, `dry run: would rewrite ${path} off`] }
  const pushed = await commitAndPush(ctx.workspace, base, async () => {
    const made = await refreshDatafile(rollout, ctx.now)
    return made?.sha
      ? { status: 'committed', sha: made.sha }
      : { status: 'stale', reason: `${path} already says off (or is absent): nothing to commit` }
  })
  if (pushed.status === 'protected')
    throw new PhasegateError(
      `the emergency's datafile ${path} (off) could not be pushed to ${base}: ${pushed.message.split('\n')[0]}`,
      { hint: 'give the phasegate app a bypass for the rule, or turn the feature off by hand' }
    )
  return {
    actions: [
      ...actions,
      pushed.status === 'pushed'
        ? `emergency: datafile ${path} rewritten OFF in ${pushed.sha.slice(0, 10)} (not a transition: the state file cannot be read)`
        : pushed.reason
    ],
    ...(pushed.status === 'pushed' ? { landed: pushed.sha } : {})
  }
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
