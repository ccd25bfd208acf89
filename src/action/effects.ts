import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { nextPhase, phaseNamed } from '../engine/ladder.js'
import type { Exposure } from '../engine/exposure.js'
import type { Decision, State, Transition } from '../engine/types.js'
import { datafilePathOf, readCommittedDatafile } from '../export/datafile.js'
import { isRequestError } from '../github/errors.js'
import {
  closeStandingPullRequest,
  warnOnPullRequest,
  type OpenPullRequest
} from '../github/pulls.js'
import { setCommitStatus } from '../github/statuses.js'
import { git, runGit } from '../git/git.js'
import { foreignChanges } from '../git/transitions.js'
import { digestOf, renderReport, reportDigest, withDigest } from '../report/markdown.js'
import { markdownText as text, mention } from '../report/escape/markdown.js'
import { exposureInForce } from '../rollout/exposure-raise.js'
import type { Rollout } from '../rollout/load.js'
import { listedApproversOf } from '../rollout/standing.js'
import { commitTransitionFrom } from '../rollout/write.js'
import {
  commitMessage,
  commitSubject,
  parseTransitionMessage,
  recordOf
} from '../state/trailers.js'
import type { EvaluatedFeature, FeatureResult } from './feature.js'
import { land, propose, type ActionRun, type LandResult } from './landing.js'
import type { Step } from './next-step.js'
import { judgeStateChange } from './state-change.js'
import { advanceBranch, rollbackBranch } from './standing-pr.js'

// The effects of a tick, one per step nextStep() picks. Each takes the feature and returns what
// it did; none writes into a shared record.

/**
 * A feature as its reports show it: `exposure` is what it serves as deployed (exposureInForce: a
 * raise by a policy edit waiting for a freeze window or a pause is not in it), read before the
 * effect checks out another branch.
 */
type ShownFeature = EvaluatedFeature & { exposure: Exposure }

/** Carries out `step` for `feature`. */
export async function takeStep(
  run: ActionRun,
  evaluated: EvaluatedFeature,
  step: Step
): Promise<FeatureResult> {
  const { policy } = evaluated.rollout
  const committed = readCommittedDatafile(run.ctx.workspace, datafilePathOf(policy))
  const feature: ShownFeature = {
    ...evaluated,
    exposure: exposureInForce(
      policy,
      evaluated.deployed,
      committed.kind === 'parsed' ? committed.datafile : null,
      run.ctx.now
    ).exposure
  }
  switch (step.kind) {
    case 'roll_back':
      return rollBack(run, feature)
    case 'advance':
      return advance(run, feature)
    case 'merge':
      return mergeAdvance(run, feature, feature.pr!)
    case 'propose':
      return proposeAdvance(run, feature)
    case 'refresh':
      return refreshAdvancePullRequest(run, feature, feature.pr!)
    case 'close':
      return closeAdvancePullRequest(run, feature, feature.pr!)
    case 'none':
      return { actions: NO_STEP[step.cause] ? [NO_STEP[step.cause]!(feature)] : [] }
  }
}

const NO_STEP: Record<string, ((feature: EvaluatedFeature) => string) | undefined> = {
  not_started: f =>
    `${f.rollout.policy.feature} has not started: run \`phasegate init\` and push its commit; phasegate does not start rollouts on its own`,
  dry_run: () => 'dry run: nothing committed, no pull request or issue touched'
}

const report = (feature: ShownFeature) =>
  renderReport({
    policy: feature.rollout.policy,
    state: feature.deployed,
    exposure: { state: feature.exposure },
    decision: feature.evaluation.decision,
    readings: feature.evaluation.observations.readings,
    experiments: feature.evaluation.experiments
  })

const retried = (attempts: number) =>
  attempts > 1 ? ` on attempt ${attempts}, after other pushes landed first` : ''

/** The report lines of a landing, for an advance or a rollback. */
/** Why an automatic rollback is proposed rather than pushed: the policy's opt-in. */
const ROLLBACK_NEEDS_APPROVAL = 'rollback.manual_approval_required'

function landedLines(run: ActionRun, decision: Decision, result: LandResult): string[] {
  const what = decision.action === 'hold' ? 'advance' : decision.action
  switch (result.kind) {
    case 'stale':
      return [result.reason]
    case 'pushed':
      return [
        `pushed ${what} ${result.sha.slice(0, 10)} to ${run.base} (${decision.phase} -> ${decision.target})${retried(result.attempts)}`
      ]
    case 'proposed':
      if (result.refusal === ROLLBACK_NEEDS_APPROVAL)
        return [
          `ROLLBACK NEEDS APPROVAL (${ROLLBACK_NEEDS_APPROVAL}): opened rollback PR #${result.pr.number} (${result.pr.htmlUrl}); merge it to roll back`
        ]
      return what === 'rollback'
        ? [
            `${run.base} is protected: opened rollback PR #${result.pr.number} (${result.pr.htmlUrl}); ${result.refusal}`
          ]
        : [
            `${run.base} is protected: advance PR #${result.pr.number} (${result.pr.htmlUrl}); ${result.refusal}`
          ]
  }
}

/** What a landing leaves for the outcome: the commit, the PR that carries it. */
function landedResult(result: LandResult): Omit<FeatureResult, 'actions'> {
  if (result.kind === 'stale') return {}
  return {
    transition: result.transition,
    ...(result.kind === 'pushed' ? { landed: result.sha } : { prNumber: result.pr.number })
  }
}

async function rollBack(run: ActionRun, feature: ShownFeature): Promise<FeatureResult> {
  const { policy } = feature.rollout
  const { decision } = feature.evaluation
  const result = await land(
    run,
    feature.rollout,
    decision.transition!,
    refusal => ({
      head: rollbackBranch(policy.feature),
      base: run.base,
      title: commitSubject(policy.feature, decision.transition!),
      body: decision.rollbackNeedsApproval
        ? `**This rollback needs an approval** (${text(refusal)}): **merge this pull request to roll back.**\n\n${report(feature)}`
        : `Pushing the ${decision.action} to ${text(run.base)} was refused (${text(refusal)}): **merge this pull request to ${decision.action === 'pause' ? 'pause' : 'roll back'}.**\n\n${report(feature)}`,
      reviewers: listedApproversOf(phaseNamed(policy, decision.phase))
    }),
    decision.rollbackNeedsApproval ? ROLLBACK_NEEDS_APPROVAL : undefined
  )
  const actions = landedLines(run, decision, result)
  if (result.kind === 'stale') return { actions }
  const closed = await closeStandingPullRequest(
    run.gh.client,
    run.gh.repo,
    advanceBranch(policy.feature),
    text(
      decision.action === 'pause'
        ? `Closed: ${policy.feature} is paused (${decision.reason}).`
        : `Closed: ${policy.feature} is rolling back ${decision.phase} -> ${decision.target} (${decision.reason}).`
    )
  )
  if (closed !== undefined) actions.push(`closed advance PR #${closed}`)
  return { actions, ...landedResult(result), rollbackSha: result.sha }
}

/** A phase without a manual approval gate advances by itself: the commit goes straight to the default branch. */
async function advance(run: ActionRun, feature: ShownFeature): Promise<FeatureResult> {
  const { policy } = feature.rollout
  const { decision, experiments } = feature.evaluation
  const result = await land(run, feature.rollout, decision.transition!, () => ({
    head: advanceBranch(policy.feature),
    base: run.base,
    title: commitSubject(policy.feature, decision.transition!),
    body: withDigest(
      `${text(run.base)} is protected: merging this pull request is the advance.\n\n${report(feature)}`,
      decision,
      experiments
    )
  }))
  return { actions: landedLines(run, decision, result), ...landedResult(result) }
}

/**
 * Every gate passes, approvals included: the action merges its own PR, squashed into one commit
 * whose message carries the transition's trailers with the approvers and fresh evidence.
 */
async function mergeAdvance(
  run: ActionRun,
  feature: ShownFeature,
  pr: OpenPullRequest
): Promise<FeatureResult> {
  const { policy } = feature.rollout
  const { decision } = feature.evaluation
  const verdict = await judgeBranch(run, feature.rollout, pr.headSha, decision)
  await setCommitStatus(run.gh.client, run.gh.repo, pr.headSha, {
    state: verdict.ok ? 'success' : 'failure',
    description: verdict.ok ? verdict.summary : verdict.reason
  })
  if (!verdict.ok) {
    await warnOnPullRequest(
      run.gh.client,
      run.gh.repo,
      pr,
      `phasegate will not merge this: ${verdict.reason}`
    )
    return { actions: [`advance PR #${pr.number} not merged: ${verdict.reason}`] }
  }
  const [title, ...rest] = commitMessage(recordOf(policy.feature, decision.transition!)).split('\n')
  try {
    const { data } = await run.gh.client.rest.pulls.merge({
      ...run.gh.repo,
      pull_number: pr.number,
      sha: pr.headSha,
      merge_method: 'squash',
      commit_title: `${title} (#${pr.number})`,
      commit_message: rest.join('\n').trim()
    })
    return {
      actions: [
        `merged advance PR #${pr.number} as ${data.sha.slice(0, 10)} (${decision.phase} -> ${decision.target})`
      ],
      transition: decision.transition!,
      landed: data.sha,
      prNumber: pr.number
    }
  } catch (error) {
    if (!isRequestError(error) || ![405, 409, 422].includes(error.status)) throw error
    return {
      actions: [`advance PR #${pr.number} could not be merged: ${error.message}`],
      prNumber: pr.number
    }
  }
}

/** The phasegate/policy verdict on a branch tip that changes the state file. */
export async function judgeBranch(
  run: Pick<ActionRun, 'ctx' | 'base'>,
  rollout: Rollout,
  tip: string,
  decision: Decision
) {
  const root = run.ctx.workspace
  const path = rollout.policy.statePath
  const show = async (ref: string) => {
    const r = await runGit(root, ['show', `${ref}:${path}`], { allowFailure: true })
    return r.code === 0 ? r.stdout : undefined
  }
  const baseRef = `refs/remotes/origin/${run.base}`
  const mergeBase = await git(root, 'merge-base', baseRef, tip)
  const foreign = await foreignChanges(root, mergeBase, tip, rollout.policy)
  if (foreign.length > 0)
    return {
      ok: false as const,
      reason: `the branch changes more than phasegate's own files: ${foreign.join(', ')}`
    }
  const message = await git(root, 'log', '-1', '--format=%B', `${mergeBase}..${tip}`, '--', path)
  const file = join(root, path)
  return judgeStateChange({
    policy: rollout.policy,
    statePath: path,
    baseState: rollout.state,
    baseText: existsSync(file) ? readFileSync(file, 'utf8') : await show(baseRef),
    headText: await show(tip),
    headRecord: message ? parseTransitionMessage(message) : undefined,
    decision
  })
}

/** The transition the advance PR proposes: every gate but approval has passed. */
function proposedAdvance(state: State, decision: Decision, target: string, now: Date): Transition {
  const others = decision.gates.filter(g => g.type !== 'manual_approval')
  return {
    kind: 'advance',
    from: state.phase,
    to: target,
    at: now.toISOString(),
    reason: `${others.length === 0 ? `approval is the only gate of ${state.phase}` : `${others.length === 1 ? 'the gate' : `all ${others.length} gates`} of ${state.phase} but approval passed`}; merging this pull request advances to ${target}`,
    approvers: [],
    evidence: others.flatMap(g => g.evidence)
  }
}

/** The advance PR's body while it waits for approval. */
function awaitingApprovalBody(feature: ShownFeature, target: string): string {
  const { policy } = feature.rollout
  const { decision, experiments } = feature.evaluation
  const from = feature.deployed.phase
  const approvers = listedApproversOf(phaseNamed(policy, from))
  return withDigest(
    [
      `Merging this pull request advances **${text(policy.feature)}** from ${text(from)} to ${text(target)}.`,
      `It needs approval${approvers.length ? ` from ${approvers.map(a => (a.startsWith('@') ? mention(a) : text(a))).join(', ')}` : ''} on its latest commit; phasegate merges it on the next tick after that.`,
      '',
      report(feature)
    ].join('\n'),
    decision,
    experiments
  )
}

/**
 * Only approval is missing and no fitting advance PR stands: (re)build the branch from the
 * default branch's state and open or update its PR. Rewriting the branch makes earlier approvals
 * stale, so it happens only when the change itself must differ.
 */
async function proposeAdvance(run: ActionRun, feature: ShownFeature): Promise<FeatureResult> {
  const { rollout, deployed } = feature
  const { policy } = rollout
  const target = nextPhase(policy, deployed.phase)!.name
  const branch = advanceBranch(policy.feature)
  const transition = proposedAdvance(deployed, feature.evaluation.decision, target, run.ctx.now)
  await commitTransitionFrom(rollout, feature.written!, transition, run.ctx.now)
  const { pr } = await propose(run, {
    head: branch,
    base: run.base,
    title: commitSubject(policy.feature, transition),
    body: awaitingApprovalBody(feature, target),
    reviewers: listedApproversOf(phaseNamed(policy, deployed.phase))
  })
  return {
    actions: [
      `pushed ${branch} (${deployed.phase} -> ${target}, waiting for approval)`,
      `${pr.created ? 'opened' : 'updated'} advance PR #${pr.number} (${pr.htmlUrl})`
    ],
    transition,
    prNumber: pr.number
  }
}

/** The fitting advance PR stays; its report is rewritten only when what it shows changed. */
async function refreshAdvancePullRequest(
  run: ActionRun,
  feature: ShownFeature,
  pr: OpenPullRequest
): Promise<FeatureResult> {
  const { decision, experiments } = feature.evaluation
  if (digestOf(pr.body) === reportDigest(decision, experiments))
    return { actions: [], prNumber: pr.number }
  const target = nextPhase(feature.rollout.policy, feature.deployed.phase)!.name
  const body = decision.awaitingApproval
    ? awaitingApprovalBody(feature, target)
    : withDigest(
        `⚠️ **The gates no longer pass**, so this pull request will not be merged now: ${text(decision.reason)}. It merges once they pass again with approvals on its latest commit.\n\n${report(feature)}`,
        decision,
        experiments
      )
  await run.gh.client.rest.pulls.update({ ...run.gh.repo, pull_number: pr.number, body })
  // A green phasegate/policy the check gave before this hold (a freeze window opening, a pause, a
  // cool-down, gates that stopped passing) would leave the PR mergeable by hand: take it back.
  // Only when the report changes, so a held PR costs no request per tick.
  await setCommitStatus(run.gh.client, run.gh.repo, pr.headSha, {
    state: 'failure',
    description: heldStatus(decision)
  })
  return {
    actions: [
      decision.awaitingApproval
        ? `updated advance PR #${pr.number} (${pr.htmlUrl})`
        : `updated advance PR #${pr.number}: gates no longer pass`
    ],
    prNumber: pr.number
  }
}

/** The phasegate/policy description of an advance PR a tick holds: why it is not merged now. */
function heldStatus(decision: Decision): string {
  const { freeze, cooldown } = decision
  const why =
    decision.holdCause === 'freeze' && freeze
      ? `freeze window ${freeze.window} open ${freeze.endless ? 'at least ' : ''}until ${freeze.endsAt}`
      : decision.holdCause === 'cooldown' && cooldown
        ? `cool-down after a rollback out of ${cooldown.phase} until ${cooldown.endsAt}`
        : decision.holdCause === 'paused'
          ? 'the rollout is paused until `phasegate resume`'
          : decision.reason
  return `not mergeable now: ${why}`
}

/** The rollout cannot advance (final phase, kill switch off): its advance PR is closed. */
async function closeAdvancePullRequest(
  run: ActionRun,
  feature: ShownFeature,
  pr: OpenPullRequest
): Promise<FeatureResult> {
  const { decision } = feature.evaluation
  await closeStandingPullRequest(
    run.gh.client,
    run.gh.repo,
    advanceBranch(feature.rollout.policy.feature),
    `Closed: ${decision.reason}.`
  )
  return { actions: [`closed advance PR #${pr.number}: ${decision.reason}`] }
}
