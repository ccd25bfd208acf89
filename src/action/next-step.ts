import type { Decision, State } from '../engine/types.js'

// Which effect a tick has on one feature: chosen here, from values only, so the whole choice is
// one table (test/unit/action/next-step.test.ts).

/**
 * - roll_back: land the rollback (or a trigger's pause) on the default branch (a rollback PR when
 *   it is protected);
 * - merge: merge the fitting advance PR, whose approvals let every gate pass;
 * - advance: land the advance on the default branch (an advance PR when it is protected);
 * - propose: (re)build the advance branch and its PR: only approval is missing;
 * - refresh: rewrite the open advance PR's report if what it shows changed;
 * - close: close the advance PR: the rollout cannot advance (final phase, kill switch off);
 * - none: nothing to do (see NoStepCause).
 */
export type StepKind = 'roll_back' | 'merge' | 'advance' | 'propose' | 'refresh' | 'close' | 'none'

/** Why a feature gets no effect: not started, a dry run, or a hold with no PR to keep up. */
export type NoStepCause = 'not_started' | 'dry_run' | 'holding'

export type Step = { kind: Exclude<StepKind, 'none'> } | { kind: 'none'; cause: NoStepCause }

/** The facts nextStep reads: a PreparedFeature with its decision, plus the run's dry-run flag. */
export interface StepInput {
  written: State | null
  decision: Pick<Decision, 'action' | 'holdCause' | 'awaitingApproval'>
  /** An advance PR is open. */
  prOpen: boolean
  /** The open advance PR proposes the next step from the written state. */
  branchFits: boolean
  dryRun: boolean
}

/** Picks the one effect a tick has on a feature. Pure. */
export function nextStep(input: StepInput): Step {
  const { written, decision, prOpen, branchFits } = input
  // phasegate never starts a rollout on its own: `phasegate init` does, through a reviewed commit.
  if (!written) return { kind: 'none', cause: 'not_started' }
  if (input.dryRun) return { kind: 'none', cause: 'dry_run' }
  // An on_fire: pause lands as a rollback does: at once, whatever waits for approval.
  if (decision.action === 'rollback' || decision.action === 'pause') return { kind: 'roll_back' }
  if (decision.action === 'advance') return { kind: prOpen && branchFits ? 'merge' : 'advance' }
  if (decision.awaitingApproval) return { kind: prOpen && branchFits ? 'refresh' : 'propose' }
  if (!prOpen) return { kind: 'none', cause: 'holding' }
  return decision.holdCause === 'final_phase' || decision.holdCause === 'kill_switch'
    ? { kind: 'close' }
    : { kind: 'refresh' }
}
