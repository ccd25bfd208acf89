import type { Approval, CheckObservation, Decision, State } from '../engine/types.js'
import { evaluate } from '../rollout/evaluate.js'
import { currentState, loadRollouts, type Rollout } from '../rollout/load.js'
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

/** Observes and decides every policy, acting on none: what `status` shows and `tick` then does. */
export async function evaluateAll(options: Omit<TickOptions, 'dryRun'>): Promise<TickOutcome[]> {
  const rollouts = await loadRollouts(options.cwd, options.policies)
  const approvals: Approval[] = options.approvedBy.map(user => ({ user }))
  // Every policy's reads go out at once; the providers bound the load per metrics server.
  return Promise.all(
    rollouts.map(async rollout => {
      const state = currentState(rollout, options.now)
      const { decision } = await evaluate(rollout, state, {
        now: options.now,
        approvals,
        checks: options.checks,
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
  const outcomes = await evaluateAll(options)
  if (options.dryRun) return outcomes
  for (const outcome of outcomes) {
    // A rollback the policy wants approved is not committed by a tick: a person rolls back.
    if (outcome.decision.transition && !outcome.decision.rollbackNeedsApproval) {
      const { sha } = await commitTransitionFrom(
        outcome.rollout,
        outcome.state,
        outcome.decision.transition,
        options.now
      )
      outcome.sha = sha
    }
  }
  return outcomes
}
