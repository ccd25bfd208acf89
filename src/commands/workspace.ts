import { existsSync, readdirSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import type {
  Approval,
  CheckObservation,
  MetricReading,
  MetricsConfig,
  Observations,
  Policy,
  State
} from '../engine/types.js'
import { requiredReadings } from '../engine/requests.js'
import { PhasegateError } from '../errors.js'
import { repoRoot } from '../git/git.js'
import { readHistory } from '../git/transitions.js'
import { createProvider, sourceFailuresOf } from '../metrics/index.js'
import { durationMs } from '../metrics/derived.js'
import { loadPolicy } from '../policy/load.js'
import { DEFAULT_WINDOW } from '../policy/normalize.js'
import { initialState, readState } from '../state/file.js'
import { countFailedRuns, nextFailedRuns, type FailedRunsLedger } from '../state/source-failures.js'

/** One rollout: its policy, where it lives, and its state (null before `phasegate init`). */
export interface Rollout {
  root: string
  policyFile: string
  policy: Policy
  state: State | null
  /**
   * Set when the state file is missing but the history has transitions of this feature (the
   * newest of them): the rollout is lost, not unstarted. It counts as off until a person restores
   * the file or runs `phasegate init` on purpose.
   */
  lost?: { sha: string; phase: string }
}

export const DEFAULT_POLICY_DIR = 'policies'

/** The policy files named, or every *.yaml / *.yml in policies/ at the repository root. */
export function findPolicyFiles(root: string, cwd: string, named: string[]): string[] {
  if (named.length > 0) return named.map(p => (isAbsolute(p) ? p : resolve(cwd, p)))
  const dir = join(root, DEFAULT_POLICY_DIR)
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter(f => /\.ya?ml$/.test(f))
        .sort()
    : []
  if (files.length === 0) {
    throw new PhasegateError(`no policy files in ${DEFAULT_POLICY_DIR}/`, {
      hint: 'pass --policy FILE, or add a policy under policies/'
    })
  }
  return files.map(f => join(dir, f))
}

export async function loadRollouts(cwd: string, named: string[]): Promise<Rollout[]> {
  const root = await repoRoot(cwd)
  const rollouts = findPolicyFiles(root, cwd, named).map(policyFile => {
    const policy = loadPolicy(policyFile, relativeTo(cwd, policyFile))
    const stateFile = join(root, policy.statePath)
    const state = readState(stateFile, policy, relativeTo(cwd, stateFile))
    return { root, policyFile, policy, state }
  })
  const byFeature = new Map<string, string>()
  for (const r of rollouts) {
    const other = byFeature.get(r.policy.feature)
    if (other) {
      throw new PhasegateError(
        `two policies roll out feature "${r.policy.feature}": ${other} and ${relativeTo(cwd, r.policyFile)}`,
        {
          location: { file: relativeTo(cwd, r.policyFile) },
          hint: 'give each policy its own feature name'
        }
      )
    }
    byFeature.set(r.policy.feature, relativeTo(cwd, r.policyFile))
  }
  if (rollouts.some(r => !r.state)) {
    const history = await readHistory(root)
    for (const rollout of rollouts) {
      const last = rollout.state
        ? undefined
        : history.find(h => h.feature === rollout.policy.feature)
      if (last) (rollout as Rollout).lost = { sha: last.sha, phase: last.to }
    }
  }
  return rollouts
}

/**
 * The error for a lost rollout (see Rollout.lost): where its state file was last seen and the two
 * deliberate ways out.
 */
export function lostStateError(rollout: Rollout): PhasegateError {
  const { statePath, feature } = rollout.policy
  const sha = rollout.lost!.sha
  return new PhasegateError(
    `the state file of "${feature}" (${statePath}) is missing, but its history has transitions (the last: ${sha.slice(0, 12)}, to ${rollout.lost!.phase}); phasegate treats the feature as off and commits nothing for it`,
    {
      location: { file: statePath },
      hint: `restore it: \`git checkout ${sha} -- ${statePath}\` and commit; or start over on purpose with \`phasegate init\``
    }
  )
}

/** Paths in messages are shown relative to where the user stands. */
export function relativeTo(cwd: string, file: string): string {
  const rel = relative(cwd, file)
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel
}

/**
 * The state to decide from: the file's, or the first phase entered now when there is none. A lost
 * rollout (its state file deleted after transitions) is off: the kill switch never turns back on
 * because a file went missing.
 */
export function currentState(rollout: Rollout, now: Date): State {
  if (rollout.state) return rollout.state
  const fresh = initialState(rollout.policy, now)
  if (!rollout.lost) return fresh
  const known = rollout.policy.phases.some(p => p.name === rollout.lost!.phase)
  return { ...fresh, phase: known ? rollout.lost.phase : fresh.phase, enabled: false }
}

/** The policy's metrics source, or the file provider reading `metricsFile` when one is given. */
export function metricsConfigFor(policy: Policy, metricsFile?: string): MetricsConfig {
  return metricsFile
    ? { ...policy.metrics, provider: 'file', options: { path: metricsFile } }
    : policy.metrics
}

export interface ObserveOptions {
  now: Date
  approvals: Approval[]
  checks: CheckObservation[]
  /** Overrides the policy's metrics file (file provider only). */
  metricsFile?: string
  env?: Record<string, string | undefined>
  /**
   * Where runs that could not read the metrics source are counted between runs; without one,
   * only this run counts.
   */
  ledger?: FailedRunsLedger
  /** This run counts in the ledger (a tick that acts; not status or a dry run). */
  recordRun?: boolean
}

/**
 * Readings without a window start cover the policy's window ending `now` (what an instant query
 * at `now` of `rate(x[{{window}}])` reads), so triggers can tell them from evidence older than
 * the last transition.
 */
function stampWindows(readings: MetricReading[], now: Date, window: string): MetricReading[] {
  const start = (now.getTime() - durationMs(window)) / 1000
  return readings.map(r => (r.windowStart === undefined ? { ...r, windowStart: start } : r))
}

export async function observe(
  rollout: Rollout,
  state: State,
  options: ObserveOptions
): Promise<Observations> {
  const { policy } = rollout
  const provider = createProvider(
    metricsConfigFor(policy, options.metricsFile && resolve(options.metricsFile))
  )
  const window = policy.metrics.window ?? DEFAULT_WINDOW
  const readings = await provider.read(requiredReadings(policy, state), {
    feature: policy.feature,
    phase: state.phase,
    now: options.now,
    baseDir: rollout.root,
    window,
    env: options.env ?? process.env
  })
  // The provider counts attempts; a run could not read the source when its last one failed.
  const failure = sourceFailuresOf(provider)
  // Only a metrics server can be unreachable: other sources never touch the ledger.
  const ledger = 'sourceFailures' in provider ? options.ledger : undefined
  const previous = await ledger?.read(policy.feature)
  const failed = nextFailedRuns(previous, failure, options.now)
  if (ledger && options.recordRun && (failed || previous))
    await ledger.write(policy.feature, failed)
  const failures = countFailedRuns(failed, new Date(state.enteredAt))
  return {
    readings: stampWindows(readings, options.now, window),
    approvals: options.approvals,
    checks: options.checks,
    ...(failures ? { sourceFailures: failures } : {})
  }
}
