import { previousPhase } from '../engine/ladder.js'
import type { Policy, State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { raiseHold, type RaiseHold } from './exposure-raise.js'
import type { Rollout } from './load.js'

// A person's transitions: the CLI's rollback and the action's dispatched rollback build them here.

/** The rollout, if it has started: a manual transition needs a state to move from. */
export function startedRollout(rollout: Rollout): Rollout & { state: State } {
  if (!rollout.state) {
    throw new PhasegateError(
      `the rollout of "${rollout.policy.feature}" has not started (no state file at ${rollout.policy.statePath})`,
      {
        hint: 'run `phasegate init` first'
      }
    )
  }
  return rollout as Rollout & { state: State }
}

/**
 * The transition of a person's rollback: one phase back (an emergency in the first phase only
 * turns the kill switch off). Throws when there is nothing to roll back.
 */
export function manualRollback(
  rollout: Rollout & { state: State },
  options: { reason: string; emergency: boolean; operator: string; now: Date }
): Transition {
  const { policy, state } = rollout
  const { emergency, operator } = options
  const reason = options.reason.trim()
  const previous = previousPhase(policy, state.phase)
  if (!emergency && !previous) {
    throw new PhasegateError(
      `${state.phase} is the first phase: there is nothing to roll back to`,
      {
        hint: 'use --emergency to turn the feature off with the kill switch'
      }
    )
  }
  if (emergency && !previous && !state.enabled) {
    throw new PhasegateError(
      `the kill switch is already off and ${state.phase} is the first phase: nothing left to roll back`
    )
  }
  const kind = emergency ? 'emergency' : 'rollback'
  return {
    kind,
    from: state.phase,
    to: previous?.name ?? state.phase,
    at: options.now.toISOString(),
    reason: `${emergency ? 'emergency' : 'manual'} rollback by ${operator}: ${reason}`,
    approvers: [],
    operator,
    evidence: [{ gate: `${kind} rollback`, metric: 'operator', value: operator, result: 'fired' }]
  }
}

/**
 * The transition of a person's pause: the rollout stays in its phase and stops advancing, while
 * its rollback triggers still act. Throws when it is already paused.
 */
export function manualPause(
  rollout: Rollout & { state: State },
  options: { reason: string; operator: string; now: Date }
): Transition {
  const { policy, state } = rollout
  const reason = options.reason.trim()
  if (!reason)
    throw new PhasegateError('a pause needs a reason', {
      hint: 'pass --reason "why it must not advance" (the workflow_dispatch input "reason")'
    })
  if (state.paused)
    throw new PhasegateError(
      `${policy.feature} is already paused since ${state.paused.at} (${state.paused.reason})`,
      { hint: 'resume it first to pause it again with another reason' }
    )
  return {
    kind: 'pause',
    from: state.phase,
    to: state.phase,
    at: options.now.toISOString(),
    reason: `paused by ${options.operator}: ${reason}`,
    approvers: [],
    operator: options.operator,
    evidence: [{ gate: 'pause', metric: 'operator', value: options.operator, result: 'pass' }]
  }
}

/**
 * Why turning the kill switch of a rollout in `state` back on waits at `now`: it raises exposure
 * from nobody to the phase's users, and inside a freeze window every raise waits (the pause is
 * the resume's own business: manualResume). Null when the kill switch is on or no window is open.
 * `clock` (the machine's, for a resume that commits): when later than `now`, a window open at it
 * holds too. The one rule for the CLI's resume, the dispatched one, and the policy check of a resume PR.
 */
export function killSwitchOnWaits(
  policy: Policy,
  state: State,
  now: Date,
  clock?: Date
): (RaiseHold & { window: string }) | null {
  if (state.enabled) return null
  // A window open on the clock holds it too, whatever an earlier `now` says (see
  // Observations.clock): a resume dated before the window never lands inside it.
  const hold =
    raiseHold(policy.freezeWindows ?? [], null, now) ??
    (clock && clock > now ? raiseHold(policy.freezeWindows ?? [], null, clock) : null)
  return (
    hold && {
      // The window's own sentence, for a status description (140 characters at most).
      window: hold.why,
      until: hold.until,
      why: `turning the kill switch of "${policy.feature}" back on raises exposure, and it waits: ${hold.why}`
    }
  )
}

/** What a resume lifts: the pause, the kill switch (back on), or both. */
export type ResumeLift = 'pause' | 'kill-switch' | 'both'

/**
 * The transition of a person's resume at `now`: it lifts the pause, turns the kill switch back on,
 * or both (`lift`; unset: whichever one is in force). Turning the kill switch on raises exposure,
 * so it is refused while anything holds a raise (exposure-raise.ts): a freeze window open (the
 * error names the window and when it ends), or a pause this resume does not lift. With both in
 * force, `lift` must say both: one resume never lifts another operator's pause by the way.
 * `spell` says how the caller's surface writes a lift (`--pause --kill-switch`, `lift: both`).
 * Throws PhasegateError on each refusal, and when nothing is in force.
 */
export function manualResume(
  rollout: Rollout & { state: State },
  options: {
    reason: string
    operator: string
    now: Date
    hint?: string
    lift?: ResumeLift
    spell?: (lift: ResumeLift) => string
  }
): Transition {
  const { policy, state } = rollout
  const spell = options.spell ?? ((lift: ResumeLift) => `lift: ${lift}`)
  const reason = options.reason.trim()
  if (!reason)
    throw new PhasegateError('a resume needs a reason', {
      hint:
        options.hint ??
        'pass --reason "why it is safe again" (the workflow_dispatch input "reason")'
    })
  if (state.enabled && !state.paused)
    throw new PhasegateError(
      `the kill switch of "${policy.feature}" is already on and it is not paused (neither paused nor turned off): there is nothing to resume`
    )
  const pause = state.paused
  const pauseText = pause ? `paused since ${pause.at} (${pause.reason})` : ''
  const lift =
    options.lift ?? (pause && !state.enabled ? undefined : pause ? 'pause' : 'kill-switch')
  if (!lift)
    throw new PhasegateError(
      `${policy.feature} is ${pauseText} and its kill switch is off: say what this resume lifts`,
      {
        hint: `${spell('both')} lifts the pause and turns the kill switch back on; a pause holds every exposure raise, so the kill switch stays off while it is in force`
      }
    )
  const liftsPause = lift !== 'kill-switch'
  const liftsKillSwitch = lift !== 'pause'
  if (liftsPause && !pause)
    throw new PhasegateError(`${policy.feature} is not paused: there is no pause to lift`, {
      hint: `${spell('kill-switch')} turns the kill switch back on`
    })
  if (liftsKillSwitch && state.enabled)
    throw new PhasegateError(
      `the kill switch of "${policy.feature}" is already on: only the pause is in force`,
      { hint: `${spell('pause')} lifts the pause` }
    )
  if (pause && !state.enabled && lift !== 'both')
    throw new PhasegateError(
      liftsPause
        ? `${policy.feature}'s kill switch is off: a resume that lifts the pause turns it back on too`
        : `${policy.feature} is ${pauseText}: turning the kill switch back on raises exposure, and a pause holds every exposure raise`,
      {
        hint: liftsPause
          ? `keep the pause until the feature may be on again, then ${spell('both')}`
          : `when the pause may be lifted too, ${spell('both')}; otherwise leave it to whoever paused it`
      }
    )
  const frozen = liftsKillSwitch ? killSwitchOnWaits(policy, state, options.now, new Date()) : null
  if (frozen)
    throw new PhasegateError(frozen.why, {
      hint: frozen.until
        ? `resume after ${frozen.until}, when the window has ended (rollbacks and pauses still land meanwhile)`
        : 'the windows chain without a gap: end the window in the policy (a reviewed change) to resume earlier'
    })
  const lifts = [
    ...(liftsPause ? ['pause lifted'] : []),
    ...(liftsKillSwitch ? ['kill switch on'] : [])
  ]
  return {
    kind: 'resume',
    from: state.phase,
    to: state.phase,
    at: options.now.toISOString(),
    reason: `resumed by ${options.operator} (${lifts.join(', ')}): ${reason}`,
    approvers: [],
    operator: options.operator,
    evidence: [{ gate: 'resume', metric: 'operator', value: options.operator, result: 'pass' }]
  }
}
