/**
 * phasegate/sdk: what an application needs at request time, from the policy and state files in
 * its repository (the seed's ABTestingExecutor routing). No Actions, GitHub or git imports, and
 * no network: everything is computed from the two files and the user id.
 */
import { resolve } from 'node:path'
import type { Experiment, MonitoringLevel, Policy, State } from '../engine/types.js'
import { exposureOf } from '../engine/exposure.js'
import { PhasegateError } from '../errors.js'
import { createAssigner, isInRollout } from '../experiments/assignment.js'
import { loadPolicy } from '../policy/load.js'
import { readState } from '../state/file.js'

export { assignGroup, bucketOf, createAssigner, isInRollout } from '../experiments/assignment.js'
export type { Experiment, Policy, State } from '../engine/types.js'

/** The current phase's settings (the seed's PhaseConfig), as exposed now. */
export interface PhaseConfig {
  name: string
  /** False when the phase is disabled, the kill switch is off, or the rollout has not started. */
  enabled: boolean
  /** Share of users who get the feature: 0 when not enabled. */
  userPercentage: number
  /** The phase's flags: none when not enabled. */
  featureFlags: string[]
  monitoringLevel: MonitoringLevel
  rollbackThreshold: Record<string, number>
}

/**
 * The current phase's settings, from exposureOf (the one answer every surface gives). A rollout
 * without a state file has not started: its first phase, switched off.
 */
export function currentPhase(policy: Policy, state: State | null): PhaseConfig {
  const exposure = exposureOf(policy, state)
  return {
    name: exposure.phase,
    enabled: exposure.enabled,
    userPercentage: exposure.userPercentage,
    featureFlags: exposure.featureFlags,
    monitoringLevel: exposure.monitoringLevel,
    rollbackThreshold: exposure.rollbackThreshold
  }
}

/** Is the feature on for this user: kill switch on, phase enabled, and inside its user_percentage. */
export function isFeatureOn(policy: Policy, state: State | null, userId: string): boolean {
  const exposure = exposureOf(policy, state)
  return exposure.enabled && isInRollout(policy.feature, userId, exposure.userPercentage)
}

function experimentNamed(policy: Policy, name: string): Experiment {
  const experiment = policy.experiments.find(e => e.name === name)
  if (!experiment) {
    throw new PhasegateError(`feature ${policy.feature} has no experiment named '${name}'`, {
      hint: `its experiments: ${policy.experiments.map(e => e.name).join(', ') || 'none'}`
    })
  }
  return experiment
}

/** Whether an experiment is assigning users now: enabled in the policy, running in the state. */
export function isExperimentRunning(policy: Policy, state: State | null, name: string): boolean {
  const experiment = experimentNamed(policy, name)
  const status = state?.experiments[name]?.status ?? 'running'
  return experiment.enabled && status === 'running'
}

/**
 * A feature's policy and state, with the answers an application asks per request. Build it once
 * (or call `load` again when the files change); each answer is a hash, not a file read.
 */
export class Feature {
  private readonly assigners = new Map<string, (userId: string) => string>()

  constructor(
    readonly policy: Policy,
    readonly state: State | null
  ) {}

  /**
   * Reads a policy file and its state file (default: the policy's state_path). Relative paths
   * are resolved against `root` (the repository checkout; default: the working directory).
   * Throws a PhasegateError naming the file (and line and column) for a missing or invalid one.
   */
  static load(options: { policy: string; state?: string; root?: string }): Feature {
    const root = options.root ?? process.cwd()
    const policy = loadPolicy(resolve(root, options.policy))
    const statePath = resolve(root, options.state ?? policy.statePath)
    return new Feature(policy, readState(statePath, policy))
  }

  phase(): PhaseConfig {
    return currentPhase(this.policy, this.state)
  }

  isOn(userId: string): boolean {
    return isFeatureOn(this.policy, this.state, userId)
  }

  /**
   * The user's group in a running experiment, or null when the user should get the default
   * behaviour: feature off for them, or the experiment not running.
   */
  group(experiment: string, userId: string): string | null {
    if (!isExperimentRunning(this.policy, this.state, experiment)) return null
    if (!this.isOn(userId)) return null
    let assign = this.assigners.get(experiment)
    if (!assign) {
      assign = createAssigner(experimentNamed(this.policy, experiment))
      this.assigners.set(experiment, assign)
    }
    return assign(userId)
  }

  /** The configuration of the user's group (e.g. `{ dspy_enabled: true }`), or null as for group(). */
  config(experiment: string, userId: string): Record<string, unknown> | null {
    const group = this.group(experiment, userId)
    if (group === null) return null
    return experimentNamed(this.policy, experiment).groups.find(g => g.name === group)!
      .configuration
  }
}
