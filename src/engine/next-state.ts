import type { State, Transition } from './types.js'

/**
 * The state a transition leaves behind: the one rule every writer of a state file follows (the
 * CLI's tick, rollback, pause and resume, the action's advance pull request and rollbacks) and
 * the one the policy check expects a pull request to carry. Pure.
 *
 * - the phase is the transition's target;
 * - the phase's clock restarts at the transition (`enteredAt` = `transition.at`), also when the
 *   phase does not change (an emergency in the first phase, a resume of the kill switch); but a
 *   pause, and a resume that only lifts a pause, keep it: the phase was not left, and a trigger
 *   must not wait for evidence newer than a pause;
 * - an emergency turns the kill switch off, a resume turns it on, anything else leaves it;
 * - a pause sets `paused`, a resume clears it, anything else leaves it (a rollback of a paused
 *   rollout stays paused);
 * - experiments are untouched;
 * - the transition is recorded as `lastTransition`.
 */
export function nextState(state: State, transition: Transition): State {
  const { paused, ...rest } = state
  const keepsClock = transition.kind === 'pause' || (transition.kind === 'resume' && state.enabled)
  const nowPaused =
    transition.kind === 'pause'
      ? {
          at: transition.at,
          reason: transition.reason,
          ...(transition.operator ? { operator: transition.operator } : {})
        }
      : transition.kind === 'resume'
        ? undefined
        : paused
  return {
    ...rest,
    phase: transition.to,
    enteredAt: keepsClock ? state.enteredAt : transition.at,
    enabled:
      transition.kind === 'emergency' ? false : transition.kind === 'resume' ? true : state.enabled,
    lastTransition: transition,
    ...(nowPaused ? { paused: nowPaused } : {})
  }
}
