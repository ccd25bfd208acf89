import { analyzeEnabledExperiments } from '../commands/analyze.js'
import type { ExperimentAnalysis } from '../experiments/analysis.js'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { decide } from '../engine/decide.js'
import { nextPhase, phaseNamed } from '../engine/ladder.js'
import type {
  Approval,
  CheckObservation,
  Decision,
  MetricReading,
  Observations,
  Policy,
  State,
  Transition
} from '../engine/types.js'
import type { GitHubClient, RepoRef } from '../github/client.js'
import { observeChecks } from '../github/checks.js'
import { isRequestError } from '../github/errors.js'
import {
  closeStandingPullRequest,
  findOpenPullRequest,
  upsertStandingPullRequest,
  type OpenPullRequest
} from '../github/pulls.js'
import { issueLedger } from '../github/failed-runs-issue.js'
import { collectApprovals } from '../github/reviews.js'
import type { FailedRunsLedger } from '../state/source-failures.js'
import { setCommitStatus } from '../github/statuses.js'
import { git, runGit } from '../git/git.js'
import { commitTransition } from '../git/transitions.js'
import { applyDecision } from '../commands/tick.js'
import { lostStateError, observe, type Rollout } from '../commands/workspace.js'
import { digestOf, renderReport, reportDigest, withDigest } from '../report/markdown.js'
import {
  commitMessage,
  commitSubject,
  parseTransitionMessage,
  recordOf
} from '../state/trailers.js'
import { syncAlertIssues } from './alerts.js'
import type { ActionContext } from './context.js'
import {
  commitAndPush,
  fetchBranch,
  pushHead,
  remoteDefaultBranch,
  syncWithRemote
} from './remote.js'
import {
  approversOf,
  deployedState,
  landingCommit,
  reloadRollout,
  selectRollouts,
  testsOf
} from './rollouts.js'
import { advanceBranch, rollbackBranch } from './standing-pr.js'
import { judgeStateChange } from './state-change.js'

/** What one tick did for one feature: the outputs and the job summary are made from this. */
export interface FeatureOutcome {
  policy: Policy
  /** The state after the run (the outputs). */
  state: State
  /** The state the decision was made from (the report). */
  decidedFrom: State
  decision: Decision
  readings: MetricReading[]
  actions: string[]
  /** Enabled experiments' status and verdict (ticks only). */
  experiments?: ExperimentAnalysis[]
  prNumber?: number
  rollbackSha?: string
  /** The commit this run put on the default branch, if any. */
  landed?: string
}

export interface GitHubSide {
  client: GitHubClient
  repo: RepoRef
}

/** The scheduled job: observe, decide and act for every policy (or the one feature asked for). */
export async function tickOnGitHub(ctx: ActionContext, gh: GitHubSide): Promise<FeatureOutcome[]> {
  const root = ctx.workspace
  const base = await remoteDefaultBranch(root)
  await syncWithRemote(root, base)
  // What each feature stands on comes from git and GitHub, one feature at a time (they share the
  // checkout). Then every feature's metrics are read at once, so all the run's queries go out
  // together and are combined per metrics server; then each feature is acted on in turn.
  const prepared: PreparedFeature[] = []
  for (const rollout of await selectRollouts(root, ctx.policies, ctx.feature))
    prepared.push(await prepareFeature(ctx, gh, base, rollout))
  const ledger = issueLedger(gh.client, gh.repo)
  const observed = await Promise.all(prepared.map(feature => observeFeature(ctx, feature, ledger)))
  const outcomes: FeatureOutcome[] = []
  for (const feature of observed) outcomes.push(await actOnFeature(ctx, gh, base, feature))
  return outcomes
}

/**
 * Whether the advance branch still proposes this rollout's next step from the default branch's
 * current state: its approvals count only then.
 */
async function advanceBranchFits(
  root: string,
  base: string,
  rollout: Rollout,
  state: State
): Promise<boolean> {
  const branch = advanceBranch(rollout.policy.feature)
  const tip = await fetchBranch(root, branch)
  if (!tip) return false
  const record = parseTransitionMessage(await git(root, 'log', '-1', '--format=%B', tip))
  const next = nextPhase(rollout.policy, state.phase)
  if (
    !record ||
    record.kind !== 'advance' ||
    record.from !== state.phase ||
    record.to !== next?.name
  )
    return false
  const path = rollout.policy.statePath
  const atParent = await runGit(root, ['show', `${tip}^:${path}`], { allowFailure: true })
  const onBase = await runGit(root, ['show', `refs/remotes/origin/${base}:${path}`], {
    allowFailure: true
  })
  return atParent.code === 0 && onBase.code === 0 && atParent.stdout === onBase.stdout
}

/** A feature's standing before its metrics are read: state, advance PR, approvals, checks. */
interface PreparedFeature {
  rollout: Rollout
  state: State
  pr: OpenPullRequest | undefined
  branchFits: boolean
  approvals: Approval[]
  checks: CheckObservation[]
}

async function prepareFeature(
  ctx: ActionContext,
  gh: GitHubSide,
  base: string,
  rollout: Rollout
): Promise<PreparedFeature> {
  const { client, repo } = gh
  const root = ctx.workspace
  const { policy } = rollout
  const landed = await landingCommit(root, policy.statePath)
  const state = deployedState(rollout, ctx.now, landed)
  const phase = phaseNamed(policy, state.phase)
  const pr = await findOpenPullRequest(client, repo, advanceBranch(policy.feature))
  const branchFits = pr ? await advanceBranchFits(root, base, rollout, state) : false
  const approvals =
    pr && branchFits ? await collectApprovals(client, repo, pr, approversOf(phase)) : []
  const tests = testsOf(rollout, state)
  const checks = tests.length && landed ? await observeChecks(client, repo, landed.sha, tests) : []
  return { rollout, state, pr, branchFits, approvals, checks }
}

type ObservedFeature = PreparedFeature & {
  observations: Observations
  decision: Decision
  experiments: ExperimentAnalysis[]
}

async function observeFeature(
  ctx: ActionContext,
  feature: PreparedFeature,
  ledger: FailedRunsLedger
): Promise<ObservedFeature> {
  const { rollout, state, approvals, checks } = feature
  const [observations, experiments] = await Promise.all([
    observe(rollout, state, {
      now: ctx.now,
      approvals,
      checks,
      env: ctx.metricsEnv,
      ledger,
      recordRun: !ctx.dryRun
    }),
    analyzeEnabledExperiments(rollout, { now: ctx.now, env: ctx.metricsEnv })
  ])
  const decision = decide(rollout.policy, state, observations, ctx.now)
  return { ...feature, observations, decision, experiments }
}

async function actOnFeature(
  ctx: ActionContext,
  gh: GitHubSide,
  base: string,
  feature: ObservedFeature
): Promise<FeatureOutcome> {
  const { client, repo } = gh
  const root = ctx.workspace
  const { rollout, state, pr, branchFits, observations, decision, experiments } = feature
  const { policy } = rollout
  const outcome: FeatureOutcome = {
    policy,
    state,
    decidedFrom: state,
    decision,
    readings: observations.readings,
    actions: [],
    experiments,
    ...(pr ? { prNumber: pr.number } : {})
  }
  if (rollout.lost) {
    outcome.actions.push(lostStateError(rollout).format())
    return outcome
  }
  if (!rollout.state) {
    outcome.actions.push(
      `${policy.feature} has not started: run \`phasegate init\` and push its commit; phasegate does not start rollouts on its own`
    )
    return outcome
  }
  if (ctx.dryRun) {
    outcome.actions.push('dry run: nothing committed, no pull request or issue touched')
    return outcome
  }
  const report = (actions: string[] = []) =>
    renderReport({ policy, state, decision, readings: observations.readings, actions, experiments })

  if (decision.action === 'rollback') {
    await rollBack(ctx, gh, base, rollout, decision, outcome, report)
  } else if (decision.action === 'advance') {
    if (pr && branchFits) await mergeAdvance(ctx, gh, base, rollout, pr, decision, outcome)
    else await advanceDirectly(ctx, gh, base, rollout, decision, outcome, report)
  } else if (decision.awaitingApproval) {
    await keepAdvancePullRequest(
      ctx,
      gh,
      base,
      rollout,
      state,
      pr,
      branchFits,
      decision,
      outcome,
      report
    )
  } else if (pr) {
    await reportHoldOnPullRequest(gh, rollout, pr, decision, outcome, report)
  }
  outcome.actions.push(...(await syncAlertIssues(client, repo, policy, decision, runUrl())))
  if (outcome.landed) {
    await syncWithRemote(root, base)
    const after = await reloadRollout(root, rollout)
    if (after.state) outcome.state = after.state
  }
  return outcome
}

function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: id } = process.env
  return server && repo && id ? `${server}/${repo}/actions/runs/${id}` : undefined
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
 * Commits `decision` on the default branch's tip and pushes it, retrying a lost race. The retry
 * re-reads the state: if another run or a merged PR moved the rollout meanwhile, this run stops
 * rather than apply a transition decided from a state that no longer exists.
 */
async function publishTransition(
  root: string,
  base: string,
  rollout: Rollout,
  decision: Decision,
  now: Date
) {
  const seen = stateKey(rollout.state)
  return commitAndPush(root, base, async n => {
    const current = n === 1 ? rollout : await reloadRollout(root, rollout)
    if (stateKey(current.state) !== seen)
      return {
        status: 'stale',
        reason: `another run moved ${rollout.policy.feature} to ${current.state?.phase} while this one was pushing; the next tick decides from there`
      }
    const state = current.state!
    return { status: 'committed', sha: await applyDecision(current, state, decision, now) }
  })
}

async function rollBack(
  ctx: ActionContext,
  gh: GitHubSide,
  base: string,
  rollout: Rollout,
  decision: Decision,
  outcome: FeatureOutcome,
  report: (actions?: string[]) => string
): Promise<void> {
  const { policy } = rollout
  const result = await publishTransition(ctx.workspace, base, rollout, decision, ctx.now)
  if (result.status === 'stale') {
    outcome.actions.push(result.reason)
    return
  }
  outcome.rollbackSha = result.sha
  delete outcome.prNumber
  if (result.status === 'pushed') {
    outcome.landed = result.sha
    outcome.actions.push(
      `pushed rollback ${result.sha.slice(0, 10)} to ${base} (${decision.phase} -> ${decision.target})${retried(result.attempts)}`
    )
  } else {
    const branch = rollbackBranch(policy.feature)
    await pushHead(ctx.workspace, branch, { force: true })
    const note = `Pushing the rollback to ${base} was refused (${firstLine(result.message)}): **merge this pull request to roll back.**`
    const pull = await upsertStandingPullRequest(gh.client, gh.repo, {
      head: branch,
      base,
      title: commitSubject(policy.feature, decision.transition!),
      body: `${note}\n\n${report()}`,
      reviewers: approversOf(phaseNamed(policy, decision.phase))
    })
    outcome.prNumber = pull.number
    outcome.actions.push(
      `${base} is protected: opened rollback PR #${pull.number} (${pull.htmlUrl})`
    )
    await syncWithRemote(ctx.workspace, base)
  }
  const closed = await closeStandingPullRequest(
    gh.client,
    gh.repo,
    advanceBranch(policy.feature),
    `Closed: ${policy.feature} is rolling back ${decision.phase} -> ${decision.target} (${decision.reason}).`
  )
  if (closed !== undefined) outcome.actions.push(`closed advance PR #${closed}`)
}

const retried = (attempts: number) =>
  attempts > 1 ? ` on attempt ${attempts}, after other pushes landed first` : ''

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find(l => /protected|GH006/i.test(l))
      ?.replace(/^(remote: )?error: /, '') ??
    text.split('\n')[0] ??
    ''
  )
}

/** A phase without a manual approval gate advances by itself: the commit goes straight to the default branch. */
async function advanceDirectly(
  ctx: ActionContext,
  gh: GitHubSide,
  base: string,
  rollout: Rollout,
  decision: Decision,
  outcome: FeatureOutcome,
  report: (actions?: string[]) => string
): Promise<void> {
  const result = await publishTransition(ctx.workspace, base, rollout, decision, ctx.now)
  if (result.status === 'stale') {
    outcome.actions.push(result.reason)
    return
  }
  if (result.status === 'pushed') {
    outcome.landed = result.sha
    outcome.actions.push(
      `pushed advance ${result.sha.slice(0, 10)} to ${base} (${decision.phase} -> ${decision.target})${retried(result.attempts)}`
    )
    return
  }
  await pushHead(ctx.workspace, advanceBranch(rollout.policy.feature), { force: true })
  const pull = await upsertStandingPullRequest(gh.client, gh.repo, {
    head: advanceBranch(rollout.policy.feature),
    base,
    title: commitSubject(rollout.policy.feature, decision.transition!),
    body: withDigest(
      `${base} is protected: merging this pull request is the advance.\n\n${report()}`,
      decision,
      outcome.experiments
    )
  })
  outcome.prNumber = pull.number
  outcome.actions.push(`${base} is protected: advance PR #${pull.number} (${pull.htmlUrl})`)
  await syncWithRemote(ctx.workspace, base)
}

/**
 * Every gate passes, approvals included: the action merges its own PR, squashed into one commit
 * whose message carries the transition's trailers with the approvers and fresh evidence.
 */
async function mergeAdvance(
  ctx: ActionContext,
  gh: GitHubSide,
  base: string,
  rollout: Rollout,
  pr: OpenPullRequest,
  decision: Decision,
  outcome: FeatureOutcome
): Promise<void> {
  const { policy } = rollout
  const verdict = await judgeBranch(ctx.workspace, base, rollout, pr.headSha, decision)
  await setCommitStatus(gh.client, gh.repo, pr.headSha, {
    state: verdict.ok ? 'success' : 'failure',
    description: verdict.ok ? verdict.summary : verdict.reason
  })
  if (!verdict.ok) {
    outcome.actions.push(`advance PR #${pr.number} not merged: ${verdict.reason}`)
    return
  }
  const [title, ...rest] = commitMessage(recordOf(policy.feature, decision.transition!)).split('\n')
  try {
    const { data } = await gh.client.rest.pulls.merge({
      ...gh.repo,
      pull_number: pr.number,
      sha: pr.headSha,
      merge_method: 'squash',
      commit_title: `${title} (#${pr.number})`,
      commit_message: rest.join('\n').trim()
    })
    outcome.landed = data.sha
    outcome.actions.push(
      `merged advance PR #${pr.number} as ${data.sha.slice(0, 10)} (${decision.phase} -> ${decision.target})`
    )
  } catch (error) {
    if (!isRequestError(error) || ![405, 409, 422].includes(error.status)) throw error
    outcome.actions.push(`advance PR #${pr.number} could not be merged: ${error.message}`)
  }
}

/** The phasegate/policy verdict on a branch tip that changes the state file. */
export async function judgeBranch(
  root: string,
  base: string,
  rollout: Rollout,
  tip: string,
  decision: Decision
) {
  const path = rollout.policy.statePath
  const show = async (ref: string) => {
    const r = await runGit(root, ['show', `${ref}:${path}`], { allowFailure: true })
    return r.code === 0 ? r.stdout : undefined
  }
  const baseRef = `refs/remotes/origin/${base}`
  const mergeBase = await git(root, 'merge-base', baseRef, tip)
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

async function keepAdvancePullRequest(
  ctx: ActionContext,
  gh: GitHubSide,
  base: string,
  rollout: Rollout,
  state: State,
  pr: OpenPullRequest | undefined,
  branchFits: boolean,
  decision: Decision,
  outcome: FeatureOutcome,
  report: (actions?: string[]) => string
): Promise<void> {
  const { policy } = rollout
  const target = nextPhase(policy, state.phase)!.name
  const branch = advanceBranch(policy.feature)
  const rebuild = !pr || !branchFits
  if (rebuild) {
    // Rewriting the branch makes earlier approvals stale, so it happens only when the change
    // itself must differ: no PR yet, or the default branch's state moved under it.
    const transition = proposedAdvance(state, decision, target, ctx.now)
    const fileState = rollout.state!
    await commitTransition({
      root: ctx.workspace,
      policy,
      next: {
        ...fileState,
        phase: target,
        enteredAt: ctx.now.toISOString(),
        lastTransition: transition
      },
      transition,
      now: ctx.now
    })
    await pushHead(ctx.workspace, branch, { force: true })
    await syncWithRemote(ctx.workspace, base)
    outcome.actions.push(`pushed ${branch} (${state.phase} -> ${target}, waiting for approval)`)
  }
  if (!rebuild && digestOf(pr?.body) === reportDigest(decision, outcome.experiments)) return
  const approvers = approversOf(phaseNamed(policy, state.phase))
  const body = withDigest(
    [
      `Merging this pull request advances **${policy.feature}** from ${state.phase} to ${target}.`,
      `It needs approval${approvers.length ? ` from ${approvers.join(', ')}` : ''} on its latest commit; phasegate merges it on the next tick after that.`,
      '',
      report()
    ].join('\n'),
    decision,
    outcome.experiments
  )
  const pull = await upsertStandingPullRequest(gh.client, gh.repo, {
    head: branch,
    base,
    title: commitSubject(policy.feature, { kind: 'advance', from: state.phase, to: target }),
    body,
    reviewers: rebuild ? approvers : []
  })
  outcome.prNumber = pull.number
  outcome.actions.push(
    `${pull.created ? 'opened' : 'updated'} advance PR #${pull.number} (${pull.htmlUrl})`
  )
}

async function reportHoldOnPullRequest(
  gh: GitHubSide,
  rollout: Rollout,
  pr: OpenPullRequest,
  decision: Decision,
  outcome: FeatureOutcome,
  report: (actions?: string[]) => string
): Promise<void> {
  const { policy } = rollout
  if (!nextPhase(policy, decision.phase) || decision.reason.startsWith('the kill switch')) {
    await closeStandingPullRequest(
      gh.client,
      gh.repo,
      advanceBranch(policy.feature),
      `Closed: ${decision.reason}.`
    )
    outcome.actions.push(`closed advance PR #${pr.number}: ${decision.reason}`)
    return
  }
  if (digestOf(pr.body) === reportDigest(decision, outcome.experiments)) return
  const body = withDigest(
    `⚠️ **The gates no longer pass**, so this pull request will not be merged now: ${decision.reason}. It merges once they pass again with approvals on its latest commit.\n\n${report()}`,
    decision,
    outcome.experiments
  )
  await gh.client.rest.pulls.update({ ...gh.repo, pull_number: pr.number, body })
  outcome.actions.push(`updated advance PR #${pr.number}: gates no longer pass`)
}
