import { vouchedApprovals } from '../engine/gates.js'
import type { CheckObservation, Decision, State } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { runnerIdentities } from '../git/identity.js'
import { evaluate } from '../rollout/evaluate.js'
import {
  currentState,
  loadRolloutsSettled,
  type Rollout,
  type RolloutFailure
} from '../rollout/load.js'
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

/**
 * A tick in which some policies could not be evaluated. The rollbacks of the others were
 * committed all the same (rolling back may not wait); no advance was. Formats as the first
 * failure, so a single broken file reads exactly as it would alone.
 */
export class PartialTickError extends PhasegateError {
  constructor(
    readonly outcomes: TickOutcome[],
    readonly failures: RolloutFailure[]
  ) {
    const first = failures[0]!.error
    super(first.message, {
      ...(first.location ? { location: first.location } : {}),
      ...(first.hint ? { hint: first.hint } : {})
    })
  }
}

/** Every policy observed and decided (acting on none), and the policies that could not be. */
async function evaluateSettled(
  options: Omit<TickOptions, 'dryRun'>
): Promise<{ outcomes: TickOutcome[]; failures: RolloutFailure[] }> {
  const { rollouts, failures } = await loadRolloutsSettled(options.cwd, options.policies)
  const approvals = vouchedApprovals(options.approvedBy, await runnerIdentities(options.cwd))
  // Every policy's reads go out at once; the providers bound the load per metrics server.
  const settled = await Promise.all(
    rollouts.map(async rollout => {
      const state = currentState(rollout, options.now)
      try {
        const { decision } = await evaluate(rollout, state, {
          now: options.now,
          approvals,
          checks: options.checks,
          ...(options.metricsFile ? { metricsFile: options.metricsFile } : {})
        })
        return { rollout, state, decision }
      } catch (error) {
        if (!(error instanceof PhasegateError)) throw error
        failures.push({ policyFile: rollout.policyFile, error })
        return undefined
      }
    })
  )
  return { outcomes: settled.filter(o => o !== undefined), failures }
}

/** Observes and decides every policy, acting on none: what `status` shows and `tick` then does. */
export async function evaluateAll(options: Omit<TickOptions, 'dryRun'>): Promise<TickOutcome[]> {
  const { outcomes, failures } = await evaluateSettled(options)
  if (failures[0]) throw failures[0].error
  return outcomes
}

/**
 * Observe, decide and act for every policy: the scheduled job's whole work. Every policy is
 * observed and decided before anything is committed. When some policy cannot be evaluated (bad
 * input), no advance is committed, but the others' rollbacks are, and PartialTickError says both.
 */
export async function tick(options: TickOptions): Promise<TickOutcome[]> {
  const { outcomes, failures } = await evaluateSettled(options)
  if (options.dryRun) {
    if (failures[0]) throw failures[0].error
    return outcomes
  }
  const acting = failures.length ? outcomes.filter(o => o.decision.action === 'rollback') : outcomes
  for (const outcome of acting) {
    if (outcome.decision.transition) {
      const { sha } = await commitTransitionFrom(
        outcome.rollout,
        outcome.state,
        outcome.decision.transition,
        options.now
      )
      outcome.sha = sha
    }
  }
  if (failures.length) throw new PartialTickError(acting, failures)
  return outcomes
}
