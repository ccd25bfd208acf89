import type { Approval, CheckObservation, Decision, State } from '../engine/types.js'
import { evaluate } from '../rollout/evaluate.js'
import { git, headSha, repoRoot } from '../git/git.js'
import { withCheckoutLock } from '../git/lock.js'
import { currentState, loadRollouts, lostStateError, type Rollout } from '../rollout/load.js'
import { gitDirLedger, type FailedRunsLedger } from '../state/source-failures.js'
import { commitTransitionFrom } from '../rollout/write.js'

export interface TickOptions {
  cwd: string
  policies: string[]
  now: Date
  dryRun: boolean
  /** Local mode's manual approvals (on GitHub they come from PR reviews). */
  approvedBy: string[]
  checks: CheckObservation[]
  metricsFile?: string
}

export interface TickOutcome {
  rollout: Rollout
  state: State
  decision: Decision
  /** The commit made, when the decision was acted on. */
  sha?: string
}

/** The CLI's count of runs that could not read a metrics source, kept in git's directory. */
async function ledgerFor(cwd: string): Promise<FailedRunsLedger> {
  return gitDirLedger(await git(cwd, 'rev-parse', '--absolute-git-dir'))
}

/** Observes and decides every policy, acting on none: what `status` shows and `tick` then does. */
export async function evaluateAll(
  options: Omit<TickOptions, 'dryRun'> & { recordRun?: boolean }
): Promise<TickOutcome[]> {
  const rollouts = await loadRollouts(options.cwd, options.policies)
  const ledger = await ledgerFor(options.cwd)
  const approvals: Approval[] = options.approvedBy.map(user => ({ user }))
  // Every policy's reads go out at once; the providers bound the load per metrics server.
  return Promise.all(
    rollouts.map(async rollout => {
      const state = currentState(rollout, options.now)
      const { decision } = await evaluate(rollout, state, {
        now: options.now,
        approvals,
        checks: options.checks,
        ledger,
        recordRun: options.recordRun ?? false,
        ...(options.metricsFile ? { metricsFile: options.metricsFile } : {})
      })
      return { rollout, state, decision }
    })
  )
}

/**
 * Observe, decide and act for every policy: the scheduled job's whole work. Every policy is
 * observed and decided before anything is committed, so bad input anywhere commits nothing.
 */
export async function tick(options: TickOptions): Promise<TickOutcome[]> {
  if (options.dryRun) return evaluateAndCheck({ ...options, recordRun: false })
  const root = await repoRoot(options.cwd)
  // Read, decide and commit under the checkout's lock, and commit only on the HEAD that was read.
  return withCheckoutLock(root, 'tick', async () => {
    let head = await headSha(root)
    const outcomes = await evaluateAndCheck({ ...options, recordRun: true })
    for (const outcome of outcomes) {
      if (outcome.decision.transition) {
        const { sha } = await commitTransitionFrom(
          outcome.rollout,
          outcome.state,
          outcome.decision.transition,
          options.now,
          head
        )
        outcome.sha = sha
        head = sha
      }
    }
    return outcomes
  })
}

async function evaluateAndCheck(
  options: Omit<TickOptions, 'dryRun'> & { recordRun: boolean }
): Promise<TickOutcome[]> {
  const outcomes = await evaluateAll(options)
  const lost = outcomes.find(o => o.rollout.lost)
  if (lost) throw lostStateError(lost.rollout)
  return outcomes
}
