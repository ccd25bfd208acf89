import { exposureOf, type Exposure } from '../engine/exposure.js'
import { describeWindow, openFreeze } from '../engine/freeze.js'
import type { FreezeWindow, Policy, State } from '../engine/types.js'
import { featureDatafile, type FeatureDatafile } from '../export/datafile.js'

// A policy edit of the current phase (a higher user_percentage, a new feature flag, the phase
// turned back on, an experiment turned on) is no transition, yet it changes who gets the feature
// once the datafile says so. Raising exposure may wait, lowering it may not: while a freeze window
// is open or the rollout is paused, the increase waits and every decrease lands at once. What
// waits is the same on every surface: exposureInForce is the one answer status, validate, the
// action's outputs and the SDK give while a raise waits, and the datafile refresh writes it.

type DatafileExperiment = FeatureDatafile['experiments'][number]

/** An experiment entry assigns users: enabled in the policy and running in the state. */
const assigns = (e: DatafileExperiment | undefined) => !!e && e.enabled && e.status === 'running'

/** The experiments that assign users in `expected` and not in `committed` (they expose a new path). */
function experimentsRaised(committed: FeatureDatafile, expected: FeatureDatafile): string[] {
  return expected.experiments
    .filter(e => assigns(e) && !assigns(committed.experiments.find(c => c.name === e.name)))
    .map(e => e.name)
}

/**
 * Whether an experiment that assigns users in both moves some of them onto another path in
 * `expected`: its groups, seed or hashing changed, unless the only change is weight moved into the
 * group named `control` (configurations as they were), which moves users back and may not wait.
 */
function reassigns(committed: DatafileExperiment, expected: DatafileExperiment): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  if (same(committed, expected)) return false
  if (committed.seed !== expected.seed || committed.hash_version !== expected.hash_version)
    return true
  const names = (e: DatafileExperiment) => e.groups.map(g => g.name)
  if (!same(names(committed), names(expected))) return true
  return expected.groups.some((g, i) => {
    const was = committed.groups[i]!
    if (!same(g.configuration, was.configuration)) return true
    return g.name === 'control' ? false : g.weight > was.weight
  })
}

/** Running experiments whose groups change so that users move onto another path (reassigns). */
function experimentsReassigned(committed: FeatureDatafile, expected: FeatureDatafile): string[] {
  return expected.experiments
    .filter(e => {
      const was = committed.experiments.find(c => c.name === e.name)
      return assigns(e) && assigns(was) && reassigns(was!, e)
    })
    .map(e => e.name)
}

/** The ways `expected` exposes more than `committed`, one clause each ("user_percentage 1 -> 100"). */
export function exposureRaises(committed: FeatureDatafile, expected: FeatureDatafile): string[] {
  const raises: string[] = []
  if (!committed.enabled && expected.enabled) raises.push('enabled false -> true')
  if (expected.user_percentage > committed.user_percentage)
    raises.push(`user_percentage ${committed.user_percentage} -> ${expected.user_percentage}`)
  const added = expected.feature_flags.filter(f => !committed.feature_flags.includes(f))
  if (added.length) raises.push(`feature_flags + ${added.join(', ')}`)
  const started = experimentsRaised(committed, expected)
  if (started.length) raises.push(`experiments + ${started.join(', ')}`)
  const moved = experimentsReassigned(committed, expected)
  if (moved.length) raises.push(`experiment groups changed: ${moved.join(', ')}`)
  return raises
}

/**
 * `expected` with none of its raises over `committed`: on only when both are, the lower
 * percentage, only the flags both carry, and an experiment that would start assigning users kept
 * as `committed` has it (left out when `committed` has none), and so is a running experiment whose
 * groups would move users onto another path. Every decrease in `expected` is kept.
 */
export function withoutRaises(
  committed: FeatureDatafile,
  expected: FeatureDatafile
): FeatureDatafile {
  const started = [
    ...experimentsRaised(committed, expected),
    ...experimentsReassigned(committed, expected)
  ]
  return {
    ...expected,
    enabled: expected.enabled && committed.enabled,
    user_percentage: Math.min(expected.user_percentage, committed.user_percentage),
    feature_flags: expected.feature_flags.filter(f => committed.feature_flags.includes(f)),
    experiments: expected.experiments.flatMap(e =>
      started.includes(e.name) ? committed.experiments.filter(c => c.name === e.name) : [e]
    )
  }
}

/** Why an exposure increase waits, and until when (ISO 8601; null: until resume, or no end in sight). */
export interface RaiseHold {
  why: string
  until: string | null
}

/**
 * Why an exposure increase waits at `now`: a freeze window open (any of `windows`) or the rollout
 * paused (until `phasegate resume`); null when it may land.
 */
export function raiseHold(
  windows: FreezeWindow[],
  state: State | null,
  now: Date
): RaiseHold | null {
  const freeze = openFreeze(windows, now)
  if (freeze)
    return {
      why: `freeze window ${describeWindow(freeze.window)} is open ${freeze.endless ? 'at least ' : ''}until ${freeze.endsAt.toISOString()}`,
      until: freeze.endless ? null : freeze.endsAt.toISOString()
    }
  if (state?.paused)
    return {
      why: `the rollout is paused since ${state.paused.at} (${state.paused.reason}) until \`phasegate resume\``,
      until: null
    }
  return null
}

/** raiseHold's reason alone (the report says until when); null when a raise may land. */
export function raiseWaitsFor(
  windows: FreezeWindow[],
  state: State | null,
  now: Date
): string | null {
  return raiseHold(windows, state, now)?.why ?? null
}

/** An exposure raise that waits: each raise (exposureRaises), why and until when (raiseHold). */
export interface RaiseWait extends RaiseHold {
  raises: string[]
  /** The whole sentence: "user_percentage 1 -> 100 waits: freeze window ... until ...". */
  text: string
}

/**
 * The datafile a rollout may serve at `now`: `expected` (what its policy and state say), or, while
 * a freeze window is open or the rollout is paused, `expected` without its raises over `committed`
 * (the datafile in the checkout; null when there is none or it does not read: nothing to hold to).
 */
export function heldDatafile(
  policy: Policy,
  state: State | null,
  committed: FeatureDatafile | null,
  expected: FeatureDatafile,
  now: Date
): { datafile: FeatureDatafile; waits: RaiseWait | null } {
  const raises = committed ? exposureRaises(committed, expected) : []
  const hold = raises.length ? raiseHold(policy.freezeWindows ?? [], state, now) : null
  if (!committed || !hold) return { datafile: expected, waits: null }
  return {
    datafile: withoutRaises(committed, expected),
    waits: { ...hold, raises, text: `${raises.join(', ')} waits: ${hold.why}` }
  }
}

/** What a feature exposes at `now`, with the raise that waits (none: `waits` null). */
export interface ExposureInForce {
  /** exposureOf, less the raise that waits: what the datafile serves. */
  exposure: Exposure
  /** The experiments that assign users now (enabled, running, and not waiting to start). */
  experiments: string[]
  waits: RaiseWait | null
}

/**
 * The one answer to "what does this feature expose now": exposureOf(policy, state), except that a
 * raise by a policy edit over the committed datafile (`committed`; null: none) waits while a freeze
 * window is open or the rollout is paused, exactly as the datafile refresh holds it back.
 */
export function exposureInForce(
  policy: Policy,
  state: State | null,
  committed: FeatureDatafile | null,
  now: Date
): ExposureInForce {
  const exposure = exposureOf(policy, state)
  const { datafile, waits } = heldDatafile(
    policy,
    state,
    committed,
    featureDatafile(policy, state),
    now
  )
  const experiments = datafile.experiments.filter(assigns).map(e => e.name)
  if (!waits) return { exposure, experiments, waits }
  const enabled = exposure.enabled && datafile.enabled
  return {
    exposure: {
      ...exposure,
      enabled,
      // Only a phase turned back on can be held off here: the kill switch and the rest are state.
      ...(enabled ? {} : { off: exposure.off ?? 'phase disabled' }),
      userPercentage: enabled ? datafile.user_percentage : 0,
      featureFlags: enabled ? datafile.feature_flags : []
    },
    experiments,
    waits
  }
}
