import { phaseNamed } from '../engine/ladder.js'
import { PhasegateError } from '../errors.js'
import { observeChecks } from '../github/checks.js'
import { isRequestError } from '../github/errors.js'
import { operatorStanding } from '../github/operators.js'
import { collectApprovals } from '../github/reviews.js'
import { setCommitStatus } from '../github/statuses.js'
import { git, runGit } from '../git/git.js'
import type { Approval } from '../engine/types.js'
import { evaluate } from '../rollout/evaluate.js'
import { relativeTo, selectRollouts, type Rollout } from '../rollout/load.js'
import { killSwitchOnWaits } from '../rollout/manual.js'
import { deployedState, landingCommit, listedApproversOf, testsOf } from '../rollout/standing.js'
import { datafilePathOf } from '../export/datafile.js'
import { driftError } from '../rollout/datafile.js'
import { ownFilesOf } from '../rollout/write.js'
import type { ActionContext } from './context.js'
import { judgeBranch } from './effects.js'
import type { GitHubSide } from './landing.js'
import { syncWithRemote } from './remote.js'
import { headPolicyChanges } from './head-policies.js'
import { stateHistoryDisagreements } from './state-history.js'
import type { Verdict } from './state-change.js'

export interface CheckResult {
  state: 'success' | 'failure'
  description: string
  /** One line per state file the pull request changes. */
  details: string[]
  sha: string
  prNumber: number
  /** Why the phasegate/policy status could not be set, when it could not (a fork's read-only token). */
  statusNotSet?: string
}

const PR_HEAD = 'refs/remotes/phasegate/pr-head'

/**
 * The policy check on pull_request and pull_request_review: commit status phasegate/policy on the
 * PR's head. A PR that changes a state file passes only as phasegate's own legal one-step
 * transition whose gates, approvals on this PR included, pass now.
 */
export async function checkPullRequest(ctx: ActionContext, gh: GitHubSide): Promise<CheckResult> {
  const pull = ctx.payload.pull_request
  if (!pull)
    throw new PhasegateError(
      `command check needs a pull_request or pull_request_review event, not ${ctx.eventName || 'none'}`,
      {
        hint: 'run it with on: pull_request and pull_request_review'
      }
    )
  const root = ctx.workspace
  const base = pull.base.ref
  await syncWithRemote(root, base)
  const fromFork =
    pull.head.repo?.full_name && pull.head.repo.full_name !== `${ctx.repo.owner}/${ctx.repo.repo}`
  const source = fromFork ? `refs/pull/${pull.number}/head` : `refs/heads/${pull.head.ref}`
  await git(root, 'fetch', '-q', 'origin', `+${source}:${PR_HEAD}`)
  const tip = await git(root, 'rev-parse', PR_HEAD)
  // Renames off: a moved state file is its old path deleted (which fails) and a new one added.
  const changed = (
    await git(root, 'diff', '--name-only', '--no-renames', `refs/remotes/origin/${base}...${tip}`)
  )
    .split('\n')
    .filter(Boolean)
  // A policy broken on the base is judged at the head (headPolicyChanges): it fails the pull
  // requests that touch it and leave it broken, and is only said on the others.
  const { rollouts, failures: broken } = await selectRollouts(root, ctx.policies)
  const brokenOnBase = broken.map(f => relativeTo(root, f.policyFile))
  // A rollout is touched when any of phasegate's own files of it changes (state, datafile): the
  // state change is then judged, and a datafile changed without a transition fails there.
  const touched = rollouts.filter(r => ownFilesOf(r).some(path => changed.includes(path)))
  const details: string[] = []
  const failures: string[] = []
  const head = await headPolicyChanges(
    root,
    tip,
    ctx.policies,
    rollouts,
    brokenOnBase,
    changed,
    ctx.now
  )
  const baseRef = `refs/remotes/origin/${base}`
  const mergeBase = await git(root, 'merge-base', baseRef, tip)
  const history = await stateHistoryDisagreements(root, baseRef, mergeBase, tip, rollouts)
  for (const rollout of touched) {
    const datafile = datafilePathOf(rollout.policy)
    if (!changed.includes(rollout.policy.statePath)) {
      // The datafile alone changed: a refresh passes only as exactly what the head's policy and
      // state expose; anything else (a hand edit turning a feature back on) fails at its path.
      const drift = head.drifts.get(rollout.policy.feature)
      const line = drift
        ? `${driftError(drift).format()}`
        : `${datafile}: a datafile refresh: it says what the policy and state expose`
      details.push(line)
      if (drift) failures.push(line)
      continue
    }
    const restoredFrom = history.restored.get(rollout.policy.feature)
    if (restoredFrom) {
      // The lost-state hint's repair: the file put back to exactly what the latest transition
      // wrote (no transition, so no gates); a datafile left off meanwhile is refreshed by a tick.
      details.push(
        `${rollout.policy.statePath}: restored exactly as its latest transition ${restoredFrom.slice(0, 10)} wrote it`
      )
      continue
    }
    if (rollout.lost) {
      const line = `${rollout.policy.statePath}: the state file is lost (its latest transition ${rollout.lost.sha.slice(0, 10)} moved it to ${rollout.lost.phase}); a pull request may only restore exactly what that transition wrote: git checkout ${rollout.lost.sha.slice(0, 12)} -- ${rollout.policy.statePath}`
      details.push(line)
      failures.push(line)
      continue
    }
    // An advance (any state change) is exactly phasegate's change: the datafile at the head is
    // what the transition writes for the new state, not a hand edit riding along.
    const forged = head.drifts.get(rollout.policy.feature)
    if (forged) {
      const line = `${driftError(forged).format()}; a transition's pull request carries exactly the datafile phasegate writes for its state`
      details.push(line)
      failures.push(line)
    }
    const landed = await landingCommit(root, rollout.policy.statePath)
    const state = deployedState(rollout, ctx.now, landed)
    const phase = phaseNamed(rollout.policy, state.phase)
    const approvals = await collectApprovals(
      gh.client,
      gh.repo,
      {
        number: pull.number,
        htmlUrl: pull.html_url ?? '',
        headSha: tip,
        author: pull.user?.login ?? ''
      },
      listedApproversOf(phase)
    )
    const tests = testsOf(rollout, state)
    const checks =
      tests.length && landed ? await observeChecks(gh.client, gh.repo, landed.sha, tests) : []
    const { decision } = await evaluate(rollout, state, {
      now: ctx.now,
      approvals,
      checks,
      env: ctx.metricsEnv
    })
    const judged = await judgeBranch({ ctx, base }, rollout, tip, decision)
    // A resume turning the kill switch back on inside a freeze window waits, as every raise does.
    const held =
      judged.ok && judged.resume
        ? killSwitchOnWaits(rollout.policy, state, ctx.now, new Date())
        : null
    const verdict: Verdict = held
      ? { ok: false, reason: held.why }
      : judged.ok && judged.resume
        ? await vouchForResume(gh, rollout, pull.user?.login ?? '', approvals, judged.summary)
        : judged
    const line = `${rollout.policy.statePath}: ${verdict.ok ? verdict.summary : verdict.reason}`
    details.push(line)
    if (!verdict.ok) failures.push(line)
  }
  const stray = changed.filter(
    path => /^\.phasegate\/state\//.test(path) && !rollouts.some(r => ownFilesOf(r).includes(path))
  )
  for (const path of stray) {
    details.push(`${path}: a state file no policy owns`)
    failures.push(details[details.length - 1]!)
  }
  for (const reason of [...history.reasons, ...head.reasons]) {
    details.push(reason)
    failures.push(reason)
  }
  details.push(...head.notes)
  // A datafile left stale by the head (a policy change of a feature's exposure) is said, not
  // failed: the first tick after the merge rewrites it (a refresh commit), and status says so.
  for (const [feature, drift] of head.drifts) {
    // Said above: a datafile changed alone, or one riding along a transition.
    if (
      touched.some(
        r =>
          r.policy.feature === feature &&
          (!changed.includes(r.policy.statePath) || !history.restored.has(feature))
      )
    )
      continue
    details.push(`${driftError(drift).format()}; after merging, the next tick rewrites it`)
  }
  const description = failures[0] ?? (details.length ? details.join('; ') : 'no state file changes')
  const result: CheckResult = {
    state: failures.length ? 'failure' : 'success',
    description,
    details,
    sha: tip,
    prNumber: pull.number
  }
  if (!ctx.dryRun) {
    try {
      await setCommitStatus(gh.client, gh.repo, tip, { state: result.state, description })
    } catch (error) {
      // A pull_request run from a fork gets a read-only token. The verdict still stands: the
      // job fails when the check fails, so make the job the required check.
      if (!fromFork || !isRequestError(error) || error.status !== 403) throw error
      result.statusNotSet = `the phasegate/policy status could not be set (${error.message}): a pull request from a fork runs with a read-only token, so this job's result is the check`
    }
  }
  await runGit(root, ['update-ref', '-d', PR_HEAD], { allowFailure: true })
  return result
}

const isBot = (login: string) => /\[bot\]$/i.test(login)

/**
 * A resume turns a feature back on, so a well-formed one still needs an operator behind it: the
 * pull request's author, or someone who approved its latest commit, with operator standing (the
 * policy's rollback.operators, or write access when it names none). A bot's pull request (the
 * action's, from a dispatched resume) therefore passes once an operator approves it.
 */
async function vouchForResume(
  gh: GitHubSide,
  rollout: Rollout,
  author: string,
  approvals: Approval[],
  summary: string
): Promise<Verdict> {
  const people = [
    ...(author && !isBot(author) ? [author] : []),
    ...approvals.filter(a => !a.bot && !a.author && !a.stale).map(a => a.user)
  ]
  const reasons: string[] = []
  for (const login of people) {
    const standing = await operatorStanding(
      gh.client,
      gh.repo,
      login,
      rollout.policy.rollback.operators
    )
    if (standing.allowed) return { ok: true, summary: `${summary}, vouched for by ${login}` }
    reasons.push(standing.reason)
  }
  return {
    ok: false,
    reason: `a resume needs an operator who opened it or approved its latest commit${reasons.length ? ` (${reasons.join('; ')})` : ''}`
  }
}
