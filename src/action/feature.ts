import type { Approval, CheckObservation, State, Transition } from '../engine/types.js'
import type { PhasegateError } from '../errors.js'
import type { OpenPullRequest } from '../github/pulls.js'
import type { Evaluation } from '../rollout/evaluate.js'
import type { Rollout } from '../rollout/load.js'

// One feature in one run of the action. Each field says which version of the feature's state it
// is: as written in the state file, as deployed (the decision is made from this one), and after
// the run (the outputs read this one).

/** What prepare gathered for a feature: where it stands before its metrics are read. */
export interface PreparedFeature {
  rollout: Rollout
  /** The state as written in the state file on the default branch; null before `phasegate init`. */
  written: State | null
  /**
   * The state as deployed: `written` with `enteredAt` moved to the commit that landed it on the
   * default branch (the phase's clock starts at the merge, not when its PR was built); the first
   * phase entered now when nothing is written. Decisions are made from this state.
   */
  deployed: State
  /** The standing advance pull request; undefined when none is open. */
  pr: OpenPullRequest | undefined
  /** The advance PR's branch still proposes the next step from `written`: its approvals count only then. */
  branchFits: boolean
  /** Approvals on the advance PR's latest commit; empty without a fitting PR. */
  approvals: Approval[]
  /** The automated_test gates' checks on the commit that landed `written`. */
  checks: CheckObservation[]
}

/** A feature once evaluated: prepare's findings, the observations and the decision made from `deployed`. */
export interface EvaluatedFeature extends PreparedFeature {
  evaluation: Evaluation
}

/** A feature whose prepare or evaluate failed: reported, and the run's other features go on. */
export interface FailedFeature {
  /** The policy file (the repository root for a feature no policy rolls out), and the feature when its policy loaded. */
  policyFile: string
  feature?: string
  error: PhasegateError
}

/** What the run did for a feature, as the effects report it: the outcome is built from this. */
export interface FeatureResult {
  /** Lines for the report: the commit, pull request or issue this run touched. */
  actions: string[]
  /** The transition this run landed or proposed (a dispatched rollback's is not the decision's). */
  transition?: Transition
  /** The pull request that now carries the feature's next step (advance or rollback). */
  prNumber?: number
  /** The commit that rolled the feature back, on the default branch or on the rollback PR. */
  rollbackSha?: string
  /** The commit this run put on the default branch, if any (the state after the run is read from it). */
  landed?: string
}
