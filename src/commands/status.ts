import type { Exposure } from '../engine/exposure.js'
import { assessHeartbeat, scheduleIntervalOf, type Heartbeat } from '../engine/heartbeat.js'
import { phaseNamed } from '../engine/ladder.js'
import { thresholdsInForce, type ThresholdInForce } from '../engine/triggers.js'
import type { Decision, Phase, Policy, State } from '../engine/types.js'
import type { ExperimentAnalysis } from '../experiments/analysis.js'
import { readHistory, transitionsOf, type TransitionSource } from '../git/transitions.js'
import { inForce, staleDatafile, type DatafileDrift } from '../rollout/datafile.js'
import type { RaiseWait } from '../rollout/exposure-raise.js'
import { readHeartbeats, type HeartbeatEntries } from '../rollout/heartbeat.js'
import { lostStateError, type RolloutFailure } from '../rollout/load.js'
import { analyzeEnabledExperiments } from '../rollout/observe.js'
import { evaluateAll, type TickOptions } from './tick.js'

export interface StatusReport {
  feature: string
  policyFile: string
  started: boolean
  phase: string
  enteredAt: string
  enabled: boolean
  /**
   * What the feature exposes now (exposureInForce: a raise waiting for a freeze window or a pause
   * is not in it); userPercentage and featureFlags repeat it.
   */
  exposure: Exposure
  /** The raise of exposure by a policy edit that waits, why and until when; null when none does. */
  raiseWaits: RaiseWait | null
  /** Where the phase's settings came from: the policy, the seed's defaults or phasegate's. */
  settingOrigins: Phase['origins']
  /** Every threshold in force in this phase, with the policy path it is written at. */
  thresholds: ThresholdInForce[]
  userPercentage: number
  featureFlags: string[]
  lastTransition: State['lastTransition'] | null
  /** What tick would do now; null before `phasegate init`, when tick does nothing. */
  decision: Decision | null
  /** Each enabled experiment's status and verdict, from the policy's metrics provider. */
  experiments: ExperimentAnalysis[]
  /**
   * The action's last evaluation of the feature, from the heartbeat record in this clone (the
   * phasegate-heartbeat branch, fetched), judged now: stale past three schedule intervals, and
   * stale with evaluatedAt null when no heartbeat is recorded.
   */
  heartbeat: Heartbeat
  /**
   * Set when the state file is missing though the history has transitions: the rollout is lost,
   * exposes nothing, and tick commits no transition for it. `error` says how to restore it.
   */
  lost: { sha: string; phase: string; error: string } | null
  /**
   * How the committed datafile differs from what the feature exposes; null when it agrees or
   * differs only in the raise that waits (raiseWaits).
   */
  datafile: DatafileDrift | null
}

export interface StatusResult {
  report: StatusReport
  policy: Policy
  state: State
}

/** What `tick` would do now, without doing it; throws the first policy that cannot be evaluated. */
export async function status(options: Omit<TickOptions, 'dryRun'>): Promise<StatusResult[]> {
  const { results, failures } = await statusSettled(options)
  if (failures[0]) throw failures[0].error
  return results
}

/**
 * What `tick` would do now for every policy that can be evaluated, and the policies that cannot
 * (each with its located error): one broken snapshot or policy hides no other feature.
 */
export async function statusSettled(
  options: Omit<TickOptions, 'dryRun'>
): Promise<{ results: StatusResult[]; failures: RolloutFailure[] }> {
  const { outcomes, failures } = await evaluateAll(options)
  const heartbeats = new Map<string, Promise<HeartbeatEntries>>()
  const heartbeatsIn = (root: string) => {
    if (!heartbeats.has(root)) heartbeats.set(root, readHeartbeats(root))
    return heartbeats.get(root)!
  }
  // Every policy's experiment reads and history lookups go out at once, as the tick's reads do.
  const results = await Promise.all(
    outcomes.map(async ({ rollout, started, state, decision }) => {
      // Before init nothing is exposed; a lost rollout's stand-in state says so (state.lost).
      const { exposure, waits } = inForce(rollout, options.now)
      const phase = phaseNamed(rollout.policy, state.phase)
      const [experiments, lastTransition, recorded] = await Promise.all([
        analyzeEnabledExperiments(rollout, {
          now: options.now,
          ...(options.metricsFile ? { metricsFile: options.metricsFile } : {})
        }),
        withRecordedApprovers(rollout.root, rollout.policy, state.lastTransition),
        heartbeatsIn(rollout.root)
      ])
      return {
        policy: rollout.policy,
        state,
        report: {
          feature: rollout.policy.feature,
          policyFile: rollout.policyFile,
          started,
          phase: state.phase,
          enteredAt: state.enteredAt,
          // Before init nothing is exposed: exposureOf says off for a rollout with no state.
          enabled: started && state.enabled,
          exposure,
          raiseWaits: waits,
          settingOrigins: phase.origins,
          thresholds: thresholdsInForce(rollout.policy, phase),
          userPercentage: exposure.userPercentage,
          featureFlags: exposure.featureFlags,
          lastTransition,
          decision: started ? decision : null,
          experiments,
          heartbeat: assessHeartbeat(
            recorded.get(rollout.policy.feature),
            scheduleIntervalOf(rollout.policy),
            options.now
          ),
          lost: rollout.lost ? { ...rollout.lost, error: lostStateError(rollout).format() } : null,
          datafile: staleDatafile(rollout, options.now)
        }
      }
    })
  )
  return { results, failures }
}

/**
 * The state's last transition, with the approvers from its commit's trailers where the state file
 * has none. The action squash-merges an approved advance PR and records the approvals in that
 * commit's trailers; writing them into the state file too would change the PR's head after the
 * approvals, which would make them stale.
 */
async function withRecordedApprovers(
  root: string,
  source: TransitionSource,
  last: State['lastTransition']
): Promise<State['lastTransition'] | null> {
  if (!last || last.kind !== 'advance' || last.approvers.length > 0) return last ?? null
  const [latest] = transitionsOf(await readHistory(root, [source]))
  const same =
    latest && latest.kind === last.kind && latest.from === last.from && latest.to === last.to
  return same && latest.approvers.length > 0 ? { ...last, approvers: latest.approvers } : last
}
