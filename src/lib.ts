/**
 * `import ... from 'phasegate'`: the library. Importing it has no side effects; the GitHub Action is
 * dist/index.js (action.yml) and the CLI bin/phasegate.js.
 *
 * - loadPolicy / parsePolicyText: a policy file or text → Policy; throws PhasegateError at file:line:col.
 * - readState / parseStateText / initialState: the state file (null when it does not exist yet).
 * - decide(policy, state, observations, now): the pure decision (engine/); nextPhase and friends
 *   walk the phase ladder.
 * - sdk: what an application needs at request time (also importable as 'phasegate/sdk').
 */
export { loadPolicy, parsePolicyText } from './policy/load.js'
export { initialState, parseStateText, readState } from './state/file.js'
export {
  decide,
  evaluateAlerts,
  evaluateGate,
  evaluateTriggers,
  nextPhase,
  phaseIndex,
  phaseNamed,
  previousPhase,
  requiredReadings,
  severityOf
} from './engine/index.js'
export type * from './engine/types.js'
export { PhasegateError } from './errors.js'
export * as sdk from './sdk/index.js'
