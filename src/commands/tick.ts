import { decide } from '../engine/decide.js'
import type { Approval, CheckObservation, Decision, State } from '../engine/types.js'
import { advanceToUndo, commitTransition, readHistory } from '../git/transitions.js'
import { assertCommittable } from './committable.js'
import { currentState, loadRollouts, observe, type Rollout } from './workspace.js'

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
}

/** Observes and decides every policy, acting on none: what `status` shows and `tick` then does. */
export async function evaluateAll(options: Omit<TickOptions, 'dryRun'>): Promise<TickOutcome[]> {
  const rollouts = await loadRollouts(options.cwd, options.policies)
  const approvals: Approval[] = options.approvedBy.map(user => ({ user }))
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
      return {
        rollout,
        started: rollout.state !== null,
        state,
        decision: decide(rollout.policy, state, observations, options.now)
      }
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
  // A rollout that was never started is reported, not moved; every commit is checked before the
  // first one is made, so a refusal anywhere commits nothing.
  const moving = outcomes.filter(o => o.started && o.decision.transition)
  for (const o of moving) await assertCommittable(o.rollout, o.state, options)
  for (const o of moving) o.sha = await applyDecision(o.rollout, o.state, o.decision, options.now)
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
    const undo = advanceToUndo(await readHistory(rollout.root, rollout.policy.feature), state.phase)
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
