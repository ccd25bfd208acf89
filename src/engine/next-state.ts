import type { State, Transition } from './types.js'

/**
 * The state a transition leaves behind: the one rule every writer of a state file follows (the
 * CLI's tick, rollback and resume, the action's advance pull request and rollbacks) and the one
 * the policy check expects a pull request to carry. Pure.
 *
 * - the phase is the transition's target;
 * - the phase's clock restarts at the transition (`enteredAt` = `transition.at`), also when the
 *   phase does not change (an emergency in the first phase, a resume);
 * - an emergency turns the kill switch off, a resume turns it on, anything else leaves it;
 * - experiments are untouched;
 * - the transition is recorded as `lastTransition`.
 */
export function nextState(state: State, transition: Transition): State {
  return {
    ...state,
    phase: transition.to,
    enteredAt: transition.at,
    enabled:
      transition.kind === 'emergency' ? false : transition.kind === 'resume' ? true : state.enabled,
    lastTransition: transition
  }
}
