/**
 * phasegate/sdk: what an application needs at request time, from the policy and state files in
 * its repository (the seed's ABTestingExecutor routing). No Actions, GitHub or git imports, and
 * no network: everything is computed from the two files and the user id.
 */
import { basename, dirname, resolve } from 'node:path'
import type { Experiment, MonitoringLevel, Policy, State } from '../engine/types.js'
import { exposureOf, type Exposure } from '../engine/exposure.js'
import { PhasegateError } from '../errors.js'
import { createAssigner, isInRollout } from '../experiments/assignment.js'
import { datafilePathOf, readCommittedDatafile, type FeatureDatafile } from '../export/datafile.js'
import { loadPolicy } from '../policy/load.js'
import { exposureInForce, type ExposureInForce } from '../rollout/exposure-raise.js'
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
 * The current phase's settings, from exposureOf: the policy and state alone (Feature also holds
 * back a raise that waits for a freeze window or a pause). A rollout without a state file has not
 * started: its first phase, switched off.
 */
export function currentPhase(policy: Policy, state: State | null): PhaseConfig {
  return phaseConfigOf(exposureOf(policy, state))
}

function phaseConfigOf(exposure: Exposure): PhaseConfig {
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

/** How long a Feature trusts its answer before it looks at the clock's freeze windows again. */
const RECHECK_MS = 60_000

/**
 * A feature's policy and state, with the answers an application asks per request. Build it once
 * (or call `load` again when the files change); each answer is a hash, not a file read.
 *
 * With the committed datafile (`committed`, as `load` reads it), the answers are the datafile's
 * while a raise of exposure by a policy edit waits for a freeze window or a pause
 * (rollout/exposure-raise.ts exposureInForce): the same answer every surface gives. The freeze
 * windows are judged on `clock()`, again at most a minute later and when the window ends.
 */
export class Feature {
  private readonly assigners = new Map<string, (userId: string) => string>()
  private cached: { inForce: ExposureInForce; until: number } | undefined

  constructor(
    readonly policy: Policy,
    readonly state: State | null,
    readonly committed: FeatureDatafile | null = null,
    private readonly clock: () => Date = () => new Date()
  ) {}

  /**
   * Reads a policy file, its state file (default: the policy's state_path) and the datafile
   * beside the state file (a missing or unreadable one holds nothing back). Relative paths are
   * resolved against `root` (the repository checkout; default: the working directory). `now`
   * fixes the clock freeze windows are judged on (default: the time of each answer).
   * Throws a PhasegateError naming the file (and line and column) for a missing or invalid one.
   */
  static load(options: { policy: string; state?: string; root?: string; now?: Date }): Feature {
    const root = options.root ?? process.cwd()
    const policy = loadPolicy(resolve(root, options.policy))
    const statePath = resolve(root, options.state ?? policy.statePath)
    const datafile = readCommittedDatafile(
      dirname(statePath),
      datafilePathOf({ statePath: basename(statePath) })
    )
    const now = options.now
    return new Feature(
      policy,
      readState(statePath, policy),
      datafile.kind === 'parsed' ? datafile.datafile : null,
      now ? () => now : undefined
    )
  }

  /** What the feature exposes now, and the raise that waits (none: `waits` null). */
  inForce(): ExposureInForce {
    const now = this.clock()
    if (this.cached && now.getTime() < this.cached.until) return this.cached.inForce
    const inForce = exposureInForce(this.policy, this.state, this.committed, now)
    const ends = inForce.waits?.until ? Date.parse(inForce.waits.until) : Infinity
    this.cached = { inForce, until: Math.min(ends, now.getTime() + RECHECK_MS) }
    return inForce
  }

  phase(): PhaseConfig {
    return phaseConfigOf(this.inForce().exposure)
  }

  isOn(userId: string): boolean {
    const { exposure } = this.inForce()
    return exposure.enabled && isInRollout(this.policy.feature, userId, exposure.userPercentage)
  }

  /**
   * The user's group in a running experiment, or null when the user should get the default
   * behaviour: feature off for them, or the experiment not running (or waiting to start).
   */
  group(experiment: string, userId: string): string | null {
    if (!isExperimentRunning(this.policy, this.state, experiment)) return null
    if (!this.inForce().experiments.includes(experiment)) return null
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
