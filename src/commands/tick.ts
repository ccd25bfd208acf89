import { vouchedApprovals } from '../engine/gates.js'
import { futureBeyondSkew } from '../engine/time.js'
import type { CheckObservation, Decision, State } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { git, headSha, repoRoot } from '../git/git.js'
import { runnerIdentities } from '../git/identity.js'
import { withCheckoutLock } from '../git/lock.js'
import { evaluate } from '../rollout/evaluate.js'
import {
  currentState,
  loadRolloutsSettled,
  lostStateError,
  type Rollout,
  type RolloutFailure
} from '../rollout/load.js'
import { refreshDatafile, type DatafileRefresh } from '../rollout/datafile.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { assertCommittable } from './committable.js'
import type { NotificationReport } from '../notify/deliver.js'
import { gitDirLedger, type FailedRunsLedger } from '../state/source-failures.js'

export interface TickOptions {
  cwd: string
  policies: string[]
  now: Date
  dryRun: boolean
  /** Local mode's manual approvals (on GitHub they come from PR reviews). */
  approvedBy: string[]
  checks: CheckObservation[]
  metricsFile?: string
  /** `now` was written on the command line: a commit before the phase's entry is refused. */
  nowGiven?: boolean
}

export interface TickOutcome {
  rollout: Rollout
  /** The rollout has a state file (`phasegate init` ran); tick never commits for one that has not. */
  started: boolean
  state: State
  decision: Decision
  /** The commit made, when the decision was acted on. */
  sha?: string
  /**
   * The datafile refresh committed for this rollout (rollout/datafile.ts): its committed datafile
   * said something other than what the feature exposes, and no transition rewrote it (`sha` null:
   * the whole change raises exposure and waits for a freeze window or a pause, `waits` says so).
   */
  refreshed?: DatafileRefresh
}

/**
 * A tick in which some policies could not be evaluated. The rollbacks of the others were
 * committed all the same (rolling back may not wait); no advance was. Formats as the first
 * failure, so a single broken file reads exactly as it would alone.
 */
export class PartialTickError extends PhasegateError {
  /** What the notifications sent after the committed rollbacks did (set by tickAndNotify). */
  notifications?: NotificationReport
  constructor(
    readonly outcomes: TickOutcome[],
    readonly failures: RolloutFailure[],
    /** A dry run's decisions for the policies that could be evaluated (nothing was committed). */
    readonly evaluated: TickOutcome[] = []
  ) {
    const first = failures[0]!.error
    super(first.message, {
      ...(first.location ? { location: first.location } : {}),
      ...(first.hint ? { hint: first.hint } : {})
    })
  }
}

/**
 * The CLI's count of runs that could not read a metrics source, kept in git's directory. Only a
 * metrics server's ledger is ever read, so git's directory is asked for on first use: a command on
 * the file provider starts no git process for it.
 */
function ledgerFor(cwd: string): FailedRunsLedger {
  let opened: Promise<FailedRunsLedger> | undefined
  const open = () => (opened ??= git(cwd, 'rev-parse', '--absolute-git-dir').then(gitDirLedger))
  return {
    read: async feature => (await open()).read(feature),
    write: async (feature, runs) => (await open()).write(feature, runs)
  }
}

/**
 * Every policy observed and decided (acting on none), and the policies that could not be: a
 * broken file, a missing secret, or a state file lost while history shows transitions.
 */
async function evaluateSettled(
  options: Omit<TickOptions, 'dryRun'> & { recordRun: boolean }
): Promise<{ outcomes: TickOutcome[]; failures: RolloutFailure[] }> {
  const { rollouts, failures } = await loadRolloutsSettled(options.cwd, options.policies)
  const ledger = ledgerFor(options.cwd)
  // Who runs phasegate matters only to vouch for --approved-by names (two git processes).
  const runner = options.approvedBy.length ? await runnerIdentities(options.cwd) : []
  const approvals = vouchedApprovals(options.approvedBy, runner)
  // Every policy's reads go out at once; the providers bound the load per metrics server.
  const settled = await Promise.all(
    rollouts.map(async rollout => {
      const state = currentState(rollout, options.now)
      try {
        const { decision } = await evaluate(rollout, state, {
          now: options.now,
          approvals,
          checks: options.checks,
          ledger,
          recordRun: options.recordRun,
          ...(options.metricsFile ? { metricsFile: options.metricsFile } : {})
        })
        // A lost rollout (state file gone, history not) was started: it is reported off.
        return {
          rollout,
          started: rollout.state !== null || rollout.lost !== undefined,
          state,
          decision
        }
      } catch (error) {
        if (!(error instanceof PhasegateError)) throw error
        failures.push({ policyFile: rollout.policyFile, feature: rollout.policy.feature, error })
        return undefined
      }
    })
  )
  return { outcomes: settled.filter(o => o !== undefined), failures }
}

/**
 * Observes and decides every policy, acting on none: what `status` shows and `tick` then does.
 * A policy that cannot be evaluated (a broken file, a malformed snapshot) is a failure of its
 * own; it hides no other policy.
 */
export async function evaluateAll(
  options: Omit<TickOptions, 'dryRun'> & { recordRun?: boolean }
): Promise<{ outcomes: TickOutcome[]; failures: RolloutFailure[] }> {
  return evaluateSettled({ ...options, recordRun: options.recordRun ?? false })
}

/**
 * Observe, decide and act for every policy: the scheduled job's whole work, under the checkout's
 * lock and committing only on the HEAD that was read. When some policy cannot be evaluated, no
 * advance is committed, but the others' rollbacks are, and PartialTickError says both. Then every
 * committed datafile that no longer says what its feature exposes (a policy change, a lost state
 * file: off) is rewritten in a refresh commit of its own, failures or not: it only ever makes the
 * file applications read agree with the state.
 */
export async function tick(options: TickOptions): Promise<TickOutcome[]> {
  if (options.dryRun) {
    const { outcomes, failures } = withoutLost(
      await evaluateSettled({ ...options, recordRun: false })
    )
    // Every other policy's decision is shown beside the ones that could not be evaluated.
    if (failures.length) throw new PartialTickError([], failures, outcomes)
    return outcomes
  }
  // Before anything is recorded: a tick also records its run (and a transition) at this time.
  const future = futureBeyondSkew(options.now)
  if (future) {
    throw new PhasegateError(
      `--now ${future}: a tick dated in the future would commit a phase entered then and hold every rollback trigger until that date`,
      {
        hint: 'give a --now at or before the current time, or leave --now out to use the clock; --dry-run and status accept any --now'
      }
    )
  }
  const root = await repoRoot(options.cwd)
  return withCheckoutLock(root, 'tick', async () => {
    let head = await headSha(root)
    const { outcomes, lostOutcomes, failures } = withoutLost(
      await evaluateSettled({ ...options, recordRun: true })
    )
    // A rollout that was never started is reported, not moved; a rollback the policy wants
    // approved is not committed by a tick (a person rolls back); every commit is checked before
    // the first one is made, so a refusal anywhere commits nothing.
    const candidates = failures.length
      ? outcomes.filter(o => o.decision.action === 'rollback')
      : outcomes
    const acting = candidates.filter(
      o => o.started && o.decision.transition && !o.decision.rollbackNeedsApproval
    )
    for (const o of acting) await assertCommittable(o.rollout, o.state, options)
    for (const outcome of acting) {
      const { sha } = await commitTransitionFrom(
        outcome.rollout,
        outcome.state,
        outcome.decision.transition!,
        options.now,
        head
      )
      outcome.sha = sha
      head = sha
    }
    // A transition just wrote its datafile; every other rollout's is checked, lost ones too.
    for (const outcome of [...outcomes, ...lostOutcomes]) {
      if (outcome.sha) continue
      const refreshed = await refreshDatafile(outcome.rollout, options.now)
      if (refreshed) outcome.refreshed = refreshed
    }
    if (failures.length) throw new PartialTickError(acting, failures)
    return outcomes
  })
}

/**
 * A tick acts on no lost rollout: each is a failure of its own (restore or re-init it first).
 * `lostOutcomes` are kept apart for the datafile refresh, which writes them off.
 */
function withoutLost(settled: { outcomes: TickOutcome[]; failures: RolloutFailure[] }): {
  outcomes: TickOutcome[]
  lostOutcomes: TickOutcome[]
  failures: RolloutFailure[]
} {
  const lost = settled.outcomes.filter(o => o.rollout.lost)
  return {
    outcomes: settled.outcomes.filter(o => !o.rollout.lost),
    lostOutcomes: lost,
    failures: [
      ...settled.failures,
      ...lost.map(o => ({
        policyFile: o.rollout.policyFile,
        feature: o.rollout.policy.feature,
        error: lostStateError(o.rollout)
      }))
    ]
  }
}
