import * as core from '@actions/core'
import { nextPhase } from '../engine/ladder.js'
import { PhasegateError } from '../errors.js'
import { observeChecks } from '../github/checks.js'
import { listOpenAlertIssues, type OpenAlertIssue } from '../github/issues.js'
import { listOpenPullRequests, type OpenPullRequest } from '../github/pulls.js'
import { issueLedger } from '../github/failed-runs-issue.js'
import { collectApprovals } from '../github/reviews.js'
import { git, runGit } from '../git/git.js'
import { evaluate } from '../rollout/evaluate.js'
import {
  lostStateError,
  reloadRollout,
  selectRollouts,
  unknownFeatures,
  type Rollout
} from '../rollout/load.js'
import { deployedState, landingCommit, listedApproversOf, testsOf } from '../rollout/standing.js'
import { phaseNamed } from '../engine/ladder.js'
import { parseTransitionMessage } from '../state/trailers.js'
import type { Decision, Policy } from '../engine/types.js'
import { headSha, primeRepoRoot } from '../git/git.js'
import {
  deliverNotifications,
  type EventBatch,
  type NotificationReport
} from '../notify/deliver.js'
import {
  alertEvent,
  failureEvent,
  guardrailVerdictEvents,
  proposalEvent,
  transitionEvent,
  type NotificationEvent
} from '../notify/events.js'
import { memoryLedger } from '../notify/ledger.js'
import { HEARTBEAT_BRANCH } from '../rollout/heartbeat.js'
import {
  heartbeatEntriesOf,
  readLiveness,
  recordEvaluations,
  recordHeartbeat,
  scheduleDisableWarning
} from './liveness.js'
import { syncAlertIssues, type AlertIssueChange } from './alerts.js'
import { warnNotices } from './annotations.js'
import { syncObservedTriggerIssues } from './observed-triggers.js'
import type { ActionContext } from './context.js'
import { refreshDatafilesOnGitHub } from './datafile-refresh.js'
import { recordLandedDeployment } from './deployments.js'
import { takeStep } from './effects.js'
import type { EvaluatedFeature, FailedFeature, FeatureResult, PreparedFeature } from './feature.js'
import type { ActionRun, GitHubSide } from './landing.js'
import { nextStep, type Step } from './next-step.js'
import { outcomeOf, type FeatureOutcome } from './outcome.js'
import { fetchBranch, syncDefaultBranch, syncWithRemote } from './remote.js'
import { holdResumePullRequest } from './resume-hold.js'
import { advanceBranch, resumeBranch } from './standing-pr.js'
import { logInfo } from './log.js'

/**
 * What a tick did: every feature's outcome, the features that could not be evaluated, and the
 * notifications sent once every feature had acted.
 */
export interface TickResult {
  outcomes: FeatureOutcome[]
  failures: FailedFeature[]
  notifications: NotificationReport
  /** One line per datafile refreshed (or whose refresh was refused) after the features acted. */
  refreshed: string[]
}

/**
 * The scheduled job: prepare, evaluate and act for every policy (or the features asked for).
 * Prepare reads where each feature stands from git and GitHub, sharing one listing of open pull
 * requests and alert issues; then every feature's metrics are read at once (combined per metrics
 * server); then each feature is acted on in turn. A feature that cannot be loaded, prepared or
 * evaluated is a failure of its own: the others still act, and the run fails at the end.
 */
export async function tickOnGitHub(
  ctx: ActionContext,
  gh: GitHubSide,
  features: string[] = ctx.feature ? [ctx.feature] : []
): Promise<TickResult> {
  const root = ctx.workspace
  // The work tree's root does not change with the checkout: git finds it during the sync.
  primeRepoRoot(root)
  const base = await syncDefaultBranch(root)
  const run: ActionRun = { ctx, gh, base }
  const selection = await selectRollouts(root, ctx.policies, features)
  const failures: FailedFeature[] = selection.failures.map(f => ({ ...f }))
  if (selection.unknown.length)
    failures.push({
      policyFile: root,
      error: unknownFeatures(selection.unknown, selection.rollouts)
    })
  const { rollouts } = selection
  warnNotices(
    rollouts.map(r => r.policy),
    root
  )
  const [openPulls, openIssues] = await Promise.all([
    rollouts.length ? listOpenPullRequests(gh.client, gh.repo) : new Map<string, OpenPullRequest>(),
    rollouts.some(
      r =>
        r.policy.alerts.length ||
        r.policy.triggers.some(t => t.kind === 'metric' && t.onFire === 'observe') ||
        r.policy.guardrails?.some(g => g.onFire === 'observe')
    ) && !ctx.dryRun
      ? listOpenAlertIssues(gh.client, gh.repo)
      : Promise.resolve([])
  ])

  const prepared: PreparedFeature[] = []
  for (const rollout of rollouts) {
    const done = await isolated(rollout, failures, () =>
      prepareFeature(run, rollout, openPulls.get(advanceBranch(rollout.policy.feature)))
    )
    if (done) prepared.push(done)
  }
  const ledger = issueLedger(run.gh.client, run.gh.repo)
  const evaluated = await Promise.all(
    prepared.map(feature =>
      isolated(feature.rollout, failures, async (): Promise<EvaluatedFeature> => ({
        ...feature,
        evaluation: await evaluate(feature.rollout, feature.deployed, {
          now: ctx.now,
          approvals: feature.approvals,
          checks: feature.checks,
          env: ctx.metricsEnv,
          experiments: true,
          ledger,
          recordRun: !ctx.dryRun
        })
      }))
    )
  )
  const outcomes: FeatureOutcome[] = []
  const batches: EventBatch[] = []
  for (const feature of evaluated) {
    if (!feature) continue
    const acted = await isolated(feature.rollout, failures, () =>
      actOnFeature(
        run,
        feature,
        openIssues,
        openPulls.get(resumeBranch(feature.rollout.policy.feature))
      )
    )
    if (!acted) continue
    outcomes.push(acted.outcome)
    batches.push({ config: feature.rollout.policy.notifications, events: acted.events })
  }
  // Every rollout that loaded, lost ones too: a stale datafile is rewritten to what it exposes.
  const refreshed = await group('datafiles', () => refreshDatafilesOnGitHub(run, rollouts))
  // The record's tip and when the default branch last changed: one read of the checkout for the
  // two steps below. A checkout that cannot say gives no 60-day warning rather than lose the
  // report of what the run did; the record then reads its tip itself.
  const recording = !ctx.dryRun && outcomes.length > 0
  const liveness =
    recording || ctx.eventName === 'schedule'
      ? await readLiveness(root, base).catch(() => undefined)
      : undefined
  // The heartbeat record: one git push (no API request), off the default branch. A refusal (a
  // ruleset on every branch, a token without contents: write) is a warning: the features acted.
  if (recording) {
    const recorded = await recordEvaluations(
      root,
      heartbeatEntriesOf(
        outcomes.map(o => ({ feature: o.policy.feature, outcome: o.decision.action })),
        ctx.now,
        runUrl()
      ),
      ctx.now,
      liveness?.record
    ).catch((error: Error) => ({ status: 'refused' as const, message: error.message }))
    if (recorded.status === 'refused')
      core.warning(`heartbeat record not pushed to ${HEARTBEAT_BRANCH}: ${recorded.message}`)
  }
  if (!ctx.dryRun && ctx.heartbeat) {
    // A heartbeat GitHub refuses (no statuses: write) is a warning: the features have acted.
    await recordHeartbeat(
      run,
      { evaluated: outcomes.length, failed: failures.length },
      runUrl()
    ).catch((error: Error) => core.warning(`heartbeat status not set: ${error.message}`))
  }
  // The 60-day warning reads the checkout only: no request.
  if (ctx.eventName === 'schedule' && liveness?.lastActivity) {
    const warning = scheduleDisableWarning(liveness.lastActivity, ctx.now)
    if (warning) core.warning(warning)
  }
  // Only now, with every feature's rollback landed, may a slow receiver hold the run up.
  // The commit a failure is reported at; with no failure there is nothing to ask git for.
  if (failures.length) batches.push(...failureBatches(run, rollouts, failures, await headSha(root)))
  const send = () =>
    deliverNotifications(batches, {
      secrets: ctx.notificationEnv ?? process.env,
      whyUnset: ctx.notificationWhyUnset,
      ledger: memoryLedger(),
      now: () => new Date()
    })
  const notifications = batches.some(b => b.config && b.events.length)
    ? await group('notifications', send)
    : await send()
  return { outcomes, failures, notifications, refreshed }
}

/** The features that could not be evaluated, told to their own targets (or every target). */
function failureBatches(
  run: ActionRun,
  rollouts: Rollout[],
  failures: FailedFeature[],
  commit: string | undefined
): EventBatch[] {
  const every = rollouts.flatMap(r => r.policy.notifications?.targets ?? [])
  return failures.map(failure => {
    const own = rollouts.find(r => r.policyFile === failure.policyFile)
    const config = own?.policy.notifications ?? {
      targets: every.filter((t, i) => every.findIndex(o => o.urlSecret === t.urlSecret) === i),
      timeoutMs: 5_000,
      retries: 2
    }
    const url = runUrl()
    return {
      config,
      events: [
        failureEvent(own?.policy, failure.feature ?? failure.policyFile, failure.error.message, {
          commit: commit ?? 'no-commit',
          at: run.ctx.now.toISOString(),
          ...(url ? { url } : {})
        })
      ]
    }
  })
}

/**
 * Runs one feature's step in its own job log group; a PhasegateError (bad input: a policy, a
 * state file, a metrics source's configuration) becomes that feature's failure. Anything else is
 * a defect or an outage and stops the run.
 */
async function isolated<T>(
  rollout: Rollout,
  failures: FailedFeature[],
  step: () => Promise<T>
): Promise<T | undefined> {
  try {
    return await step()
  } catch (error) {
    if (!(error instanceof PhasegateError)) throw error
    failures.push({ policyFile: rollout.policyFile, feature: rollout.policy.feature, error })
    return undefined
  }
}

/** Where a feature stands before its metrics are read: state, advance PR, approvals, checks. */
async function prepareFeature(
  run: ActionRun,
  rollout: Rollout,
  pr: OpenPullRequest | undefined
): Promise<PreparedFeature> {
  // A lost rollout is that feature's error: it is off, and nothing is committed for it.
  if (rollout.lost) throw lostStateError(rollout)
  const { client, repo } = run.gh
  const root = run.ctx.workspace
  const { policy } = rollout
  // A lost rollout is that feature's error: it is off, and nothing is committed for it.
  if (rollout.lost) throw lostStateError(rollout)
  return group(`${policy.feature}: prepare`, async () => {
    const landed = await landingCommit(root, policy.statePath)
    const deployed = deployedState(rollout, run.ctx.now, landed)
    const phase = phaseNamed(policy, deployed.phase)
    const branchFits = pr ? await advanceBranchFits(run, rollout, deployed) : false
    const approvals =
      pr && branchFits ? await collectApprovals(client, repo, pr, listedApproversOf(phase)) : []
    const tests = testsOf(rollout, deployed)
    const checks =
      tests.length && landed ? await observeChecks(client, repo, landed.sha, tests) : []
    logInfo(
      `${rollout.state ? `at ${deployed.phase}` : 'not started'}; advance PR ${pr ? `#${pr.number}${branchFits ? '' : ' (out of date)'}` : 'none'}; ${approvals.length} approvals; ${checks.length} checks`
    )
    return { rollout, written: rollout.state, deployed, pr, branchFits, approvals, checks }
  })
}

/**
 * Whether the advance branch still proposes this rollout's next step from the default branch's
 * current state: its approvals count only then.
 */
async function advanceBranchFits(
  run: ActionRun,
  rollout: Rollout,
  deployed: PreparedFeature['deployed']
): Promise<boolean> {
  const root = run.ctx.workspace
  const tip = await fetchBranch(root, advanceBranch(rollout.policy.feature))
  if (!tip) return false
  const record = parseTransitionMessage(await git(root, 'log', '-1', '--format=%B', tip))
  const next = nextPhase(rollout.policy, deployed.phase)
  if (
    !record ||
    record.kind !== 'advance' ||
    record.from !== deployed.phase ||
    record.to !== next?.name
  )
    return false
  const path = rollout.policy.statePath
  const atParent = await runGit(root, ['show', `${tip}^:${path}`], { allowFailure: true })
  const onBase = await runGit(root, ['show', `refs/remotes/origin/${run.base}:${path}`], {
    allowFailure: true
  })
  return atParent.code === 0 && onBase.code === 0 && atParent.stdout === onBase.stdout
}

/**
 * The step nextStep picks, its effect, the alert issues, and the outcome with the state after the
 * run; with the events to notify of, built from what the run did.
 */
async function actOnFeature(
  run: ActionRun,
  feature: EvaluatedFeature,
  openIssues: OpenAlertIssue[],
  /** The standing resume PR, if one is open. */
  resumePr: OpenPullRequest | undefined
): Promise<{ outcome: FeatureOutcome; events: NotificationEvent[] }> {
  const { rollout, evaluation } = feature
  const { policy } = rollout
  return group(`${policy.feature}: act`, async () => {
    const step = nextStep({
      written: feature.written,
      decision: evaluation.decision,
      prOpen: feature.pr !== undefined,
      branchFits: feature.branchFits,
      dryRun: run.ctx.dryRun
    })
    logInfo(`${evaluation.decision.action} (${evaluation.decision.reason}) -> ${step.kind}`)
    const result: FeatureResult = await takeStep(run, feature, step)
    // The alert issues follow the decision when the step acts or holds.
    const alertChanges =
      step.kind !== 'none' || step.cause === 'holding'
        ? await syncFeatureAlertIssues(run, policy, evaluation.decision, openIssues)
        : []
    result.actions.push(...alertChanges.map(c => c.line))
    const resumeHeld = await holdResumePullRequest(run, feature, resumePr)
    if (resumeHeld) result.actions.push(resumeHeld)
    let after = feature.deployed
    if (result.landed) {
      await syncWithRemote(run.ctx.workspace, run.base)
      after = (await reloadRollout(rollout)).state ?? after
      if (run.ctx.deployments)
        result.actions.push(
          ...(await recordLandedDeployment(run.gh, rollout, result.landed, runUrl()))
        )
    }
    const outcome = outcomeOf({
      policy,
      decidedFrom: feature.deployed,
      after,
      decision: evaluation.decision,
      readings: evaluation.observations.readings,
      experiments: evaluation.experiments,
      ...(feature.pr ? { standingPr: feature.pr.number } : {}),
      result
    })
    return {
      outcome,
      events: eventsOf(run, policy, evaluation.decision, step, result, alertChanges, after.phase)
    }
  })
}

/**
 * Every alert issue of one feature brought in line with its decision: the alert rules' first, then
 * the observe-only and pausing triggers' (a fired one is alerted, so its issue's changes are told
 * like a rule's). Both read the run's one listing of open alert issues.
 */
async function syncFeatureAlertIssues(
  run: ActionRun,
  policy: Policy,
  decision: Decision,
  openIssues: OpenAlertIssue[]
): Promise<AlertIssueChange[]> {
  const args = [run.gh.client, run.gh.repo, policy, decision, runUrl(), openIssues] as const
  return [...(await syncAlertIssues(...args)), ...(await syncObservedTriggerIssues(...args))]
}

/**
 * What to tell people of one feature's step: the transition it landed (or the rollback PR it
 * opened), the advance it proposed with the guardrail verdicts behind either, the alert issues it
 * changed. Each keyed by its effect.
 */
function eventsOf(
  run: ActionRun,
  policy: Policy,
  decision: Decision,
  step: Step,
  result: FeatureResult,
  alerts: AlertIssueChange[],
  phase: string
): NotificationEvent[] {
  const url = runUrl()
  const events: Array<NotificationEvent | undefined> = []
  if (result.transition && result.landed)
    events.push(transitionEvent(policy, result.transition, result.landed, url))
  else if (result.transition?.kind === 'rollback' && result.rollbackSha)
    events.push(
      transitionEvent(policy, result.transition, result.rollbackSha, url, result.prNumber)
    )
  else if (step.kind === 'propose' && result.transition && result.prNumber !== undefined)
    events.push(
      proposalEvent(policy, result.transition, {
        number: result.prNumber,
        revision: result.transition.at,
        ...(url ? { url } : {})
      })
    )
  // A guardrail's verdict is told with the effect it led to (or that went ahead despite it),
  // so a re-run that finds the work done does not tell it again.
  const effect =
    result.landed ??
    result.rollbackSha ??
    (step.kind === 'propose' && result.transition && result.prNumber !== undefined
      ? `pr-${result.prNumber}@${result.transition.at}`
      : undefined)
  if (result.transition && effect)
    events.push(
      ...guardrailVerdictEvents(policy, decision, {
        record: effect,
        at: run.ctx.now.toISOString(),
        ...(url ? { url } : {})
      })
    )
  for (const change of alerts) {
    // Nothing to tell of this issue (AlertIssueChange.change says when).
    if (!change.change) continue
    events.push(
      alertEvent(
        policy,
        change.change,
        {
          metric: change.metric,
          message: change.message,
          ...(change.severity ? { severity: change.severity } : {})
        },
        {
          record: `issue-${change.issue}`,
          phase,
          at: run.ctx.now.toISOString(),
          ...(url ? { url } : {})
        }
      )
    )
  }
  return events.filter(e => e !== undefined)
}

/** One group of the job log per feature and stage, as the code is cut. */
async function group<T>(name: string, body: () => Promise<T>): Promise<T> {
  core.startGroup(name)
  try {
    return await body()
  } finally {
    core.endGroup()
  }
}

/** This workflow run's page, when the runner says where it is. */
export function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: id } = process.env
  return server && repo && id ? `${server}/${repo}/actions/runs/${id}` : undefined
}
