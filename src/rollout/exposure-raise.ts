import { describeWindow, openFreeze } from '../engine/freeze.js'
import type { FreezeWindow, State } from '../engine/types.js'
import type { FeatureDatafile } from '../export/datafile.js'

// A policy edit of the current phase (a higher user_percentage, a new feature flag, the phase
// turned back on) is no transition, yet it changes who gets the feature once the datafile says
// so. Raising exposure may wait, lowering it may not: while a freeze window is open or the rollout
// is paused, the increase waits and every decrease lands at once.

/** The ways `expected` exposes more than `committed`, one clause each ("user_percentage 1 -> 100"). */
export function exposureRaises(committed: FeatureDatafile, expected: FeatureDatafile): string[] {
  const raises: string[] = []
  if (!committed.enabled && expected.enabled) raises.push('enabled false -> true')
  if (expected.user_percentage > committed.user_percentage)
    raises.push(`user_percentage ${committed.user_percentage} -> ${expected.user_percentage}`)
  const added = expected.feature_flags.filter(f => !committed.feature_flags.includes(f))
  if (added.length) raises.push(`feature_flags + ${added.join(', ')}`)
  return raises
}

/**
 * `expected` with none of its raises over `committed`: on only when both are, the lower
 * percentage, only the flags both carry. Every decrease in `expected` is kept.
 */
export function withoutRaises(
  committed: FeatureDatafile,
  expected: FeatureDatafile
): FeatureDatafile {
  return {
    ...expected,
    enabled: expected.enabled && committed.enabled,
    user_percentage: Math.min(expected.user_percentage, committed.user_percentage),
    feature_flags: expected.feature_flags.filter(f => committed.feature_flags.includes(f))
  }
}

/**
 * Why an exposure increase waits at `now`: a freeze window open (any of `windows`; the report
 * says until when) or the rollout paused (until `phasegate resume`); null when it may land.
 */
export function raiseWaitsFor(
  windows: FreezeWindow[],
  state: State | null,
  now: Date
): string | null {
  const freeze = openFreeze(windows, now)
  if (freeze)
    return `freeze window ${describeWindow(freeze.window)} is open ${freeze.endless ? 'at least ' : ''}until ${freeze.endsAt.toISOString()}`
  if (state?.paused)
    return `the rollout is paused since ${state.paused.at} (${state.paused.reason}) until \`phasegate resume\``
  return null
}
