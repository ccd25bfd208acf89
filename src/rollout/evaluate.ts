import { decide } from '../engine/decide.js'
import type { Decision, Observations, State } from '../engine/types.js'
import type { ExperimentAnalysis } from '../experiments/analysis.js'
import type { Rollout } from './load.js'
import { analyzeEnabledExperiments, observe, type ObserveOptions } from './observe.js'

/** A rollout evaluated from one state: what was observed, and what decide() made of it. */
export interface Evaluation {
  observations: Observations
  decision: Decision
  /** Enabled experiments' status and verdict; empty unless asked for. */
  experiments: ExperimentAnalysis[]
}

/**
 * Observes `rollout` in `state` (metrics, and its experiments when `experiments` is set) and
 * decides: the one path from "where this feature stands" to a decision, for the CLI's tick and
 * status, the action's tick, its policy check and its dispatched rollback. Errors of the metrics
 * source's configuration (a missing secret) are thrown as PhasegateError.
 */
export async function evaluate(
  rollout: Rollout,
  state: State,
  options: ObserveOptions & { experiments?: boolean }
): Promise<Evaluation> {
  const [observations, experiments] = await Promise.all([
    observe(rollout, state, options),
    options.experiments
      ? analyzeEnabledExperiments(rollout, {
          now: options.now,
          ...(options.env ? { env: options.env } : {})
        })
      : Promise.resolve([])
  ])
  return {
    observations,
    decision: decide(rollout.policy, state, observations, options.now),
    experiments
  }
}
