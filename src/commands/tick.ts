import { decide } from '../engine/decide.js'
import { vouchedApprovals } from '../engine/gates.js'
import type { CheckObservation, Decision, State } from '../engine/types.js'
import { runnerIdentities } from '../git/identity.js'
import { advanceToUndo, commitTransition, readHistory } from '../git/transitions.js'
import { currentState, loadRollouts, observe, type Rollout } from './workspace.js'

export interface TickOptions {
  cwd: string
  policies: string[]
  now: Date
  dryRun: boolean
  /**
   * Local mode's manual approvals (on GitHub they come from PR reviews); bots and the person
   * running phasegate never count.
   */
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
  const approvals = vouchedApprovals(options.approvedBy, await runnerIdentities(options.cwd))
  // Every policy's reads go out at once; the providers bound the load per metrics server.
  return Promise.all(
    rollouts.map(async rollout => {
      const state = currentState(rollout, options.now)
      const observations = await observe(rollout, state, {
        now: options.now,
        approvals,
        checks: options.checks,
        metricsFile: options.metricsFile
      })
      return { rollout, state, decision: decide(rollout.policy, state, observations, options.now) }
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
    if (outcome.decision.transition) {
      outcome.sha = await applyDecision(
        outcome.rollout,
        outcome.state,
        outcome.decision,
        options.now
      )
    }
  }
  return outcomes
}

/** Commits an advance, or reverts the advance being undone for a rollback. */
export async function applyDecision(
  rollout: Rollout,
  state: State,
  decision: Decision,
  now: Date
): Promise<string> {
  const transition = { ...decision.transition! }
  if (transition.kind === 'rollback' || transition.kind === 'emergency') {
    const undo = advanceToUndo(await readHistory(rollout.root, [rollout.policy]), state.phase)
    if (undo) transition.reverts = undo.sha
  }
  const next: State = {
    ...state,
    phase: transition.to,
    enteredAt: now.toISOString(),
    lastTransition: transition
  }
  return commitTransition({ root: rollout.root, policy: rollout.policy, next, transition, now })
}
