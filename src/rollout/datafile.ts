import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { State } from '../engine/types.js'
import {
  datafilePathOf,
  featureDatafile,
  readCommittedDatafile,
  renderDatafile,
  type FeatureDatafile
} from '../export/datafile.js'
import { PhasegateError } from '../errors.js'
import { git, runGit } from '../git/git.js'
import { commitEnv, readHistory, transitionsOf } from '../git/transitions.js'
import { refreshMessage } from '../state/trailers.js'
import { currentState, lostStateError, type Rollout } from './load.js'
import {
  exposureInForce,
  heldDatafile,
  type ExposureInForce,
  type RaiseWait
} from './exposure-raise.js'

// The committed datafile against the policy and state it must reflect. Transitions write it; a
// policy change (a phase turned off, a new percentage), a lost state file or a hand edit leave it
// saying something else, while applications keep polling it. validate, status and the policy
// check report that; tick rewrites it (a refresh, not a transition).

/** A committed datafile that does not say what its rollout exposes. */
export interface DatafileDrift {
  /** The datafile, relative to the repository root. */
  path: string
  /** What is wrong, in one line. */
  reason: string
  /** The command that rewrites it. */
  fix: string
}

export const DATAFILE_FIX = 'phasegate tick'

/** The state a rollout's datafile reflects: its file's, a lost rollout's stand-in (off), or none. */
function exposedState(rollout: Rollout): State | null {
  if (rollout.state) return rollout.state
  // A lost rollout's stand-in names no transition, so its entry time is never read.
  return rollout.lost ? currentState(rollout, new Date(0)) : null
}

/** Whether two transitions are one, whatever commit each says it was made on. */
function sameTransition(a: FeatureDatafile['transition'], b: FeatureDatafile['transition']) {
  if (a === null || b === null) return a === b
  return a.kind === b.kind && a.from === b.from && a.to === b.to && a.at === b.at
}

/**
 * The datafile a rollout's checkout should hold: `featureDatafile` of its policy and state, with
 * the commit its transition was made on read from the committed datafile when that names the
 * same transition (a file cannot name its own commit, and neither a revert that restores a state
 * file nor a squash merge moves the transition), else from the transition's own commit in the
 * history (its first parent). Every route (export, a refresh) takes `made_on` from here.
 */
export async function expectedDatafile(rollout: Rollout): Promise<FeatureDatafile> {
  const state = exposedState(rollout)
  const draft = featureDatafile(rollout.policy, state)
  if (draft.transition === null) return draft
  const committed = readCommittedDatafile(rollout.root, datafilePathOf(rollout.policy))
  if (
    committed.kind === 'parsed' &&
    sameTransition(committed.datafile.transition, draft.transition)
  )
    return featureDatafile(rollout.policy, state, committed.datafile.transition!.made_on)
  const [latest] = transitionsOf(await readHistory(rollout.root, [rollout.policy])).filter(
    h => h.feature === rollout.policy.feature
  )
  if (!latest) return draft
  const parent = await runGit(rollout.root, ['rev-parse', '--verify', '-q', `${latest.sha}^`], {
    allowFailure: true
  })
  return featureDatafile(rollout.policy, state, parent.code === 0 ? parent.stdout.trim() : null)
}

const SCALARS = ['feature', 'phase', 'enabled', 'user_percentage', 'monitoring_level'] as const

/** What differs between the committed datafile and the expected one, in a clause. */
function differences(committed: FeatureDatafile, expected: FeatureDatafile): string | null {
  const says: string[] = []
  const should: string[] = []
  for (const key of SCALARS) {
    if (committed[key] === expected[key]) continue
    says.push(`${key}: ${JSON.stringify(committed[key])}`)
    should.push(`${key}: ${JSON.stringify(expected[key])}`)
  }
  const other: string[] = (['feature_flags', 'rollout', 'experiments'] as const).filter(
    key => JSON.stringify(committed[key]) !== JSON.stringify(expected[key])
  )
  if (!sameTransition(committed.transition, expected.transition)) other.push('transition')
  if (says.length === 0 && other.length === 0) return null
  const scalars = says.length
    ? `says ${says.join(', ')} where the policy and state say ${should.join(', ')}`
    : ''
  const rest = other.length
    ? `differs in ${other.join(', ')} from what the policy and state say`
    : ''
  return [scalars, rest].filter(Boolean).join('; ')
}

/**
 * How the rollout's committed datafile (in its checkout) differs from what its policy and state
 * expose (`transition.made_on` aside: a file cannot know its own commit), or null when it agrees.
 * An absent datafile is no drift: nothing serves a stale answer from it, and the next transition
 * (or init) writes it; repositories from before datafiles have none. A lost rollout's datafile
 * must say off, and any off one will do: it may still name the last transition the file saw.
 */
export function datafileDrift(rollout: Rollout): DatafileDrift | null {
  const path = datafilePathOf(rollout.policy)
  const expected = featureDatafile(rollout.policy, exposedState(rollout))
  const committed = readCommittedDatafile(rollout.root, path)
  const drift = (reason: string) => ({ path, reason, fix: DATAFILE_FIX })
  if (committed.kind === 'absent') return null
  if (committed.kind === 'unreadable') return drift(committed.why)
  if (rollout.lost && !committed.datafile.enabled) return null
  const differs = differences(committed.datafile, expected)
  return differs === null ? null : drift(differs)
}

/** A refresh: the commit made (null: nothing may land yet), the drift, and what waits. */
export interface DatafileRefresh {
  /** The refresh commit, or null when all of the change raises exposure and waits. */
  sha: string | null
  drift: DatafileDrift
  /** The exposure increase left out, why and until when (rollout/exposure-raise.ts); absent when all landed. */
  waits?: string
}

/**
 * Rewrites a drifted datafile and commits it alone (a refresh: phasegate trailers saying why, no
 * state file changed, so never a transition). An increase of exposure (a higher percentage, a new
 * flag, a phase back on) waits while a freeze window is open or the rollout is paused; every
 * decrease lands at once. Returns the refresh, or null when nothing drifted.
 */
export async function refreshDatafile(
  rollout: Rollout,
  now: Date
): Promise<DatafileRefresh | null> {
  const drift = datafileDrift(rollout)
  if (!drift) return null
  const committed = readCommittedDatafile(rollout.root, drift.path)
  const holdAt = async (at: Date) =>
    heldDatafile(
      rollout.policy,
      exposedState(rollout),
      committed.kind === 'parsed' ? committed.datafile : null,
      await expectedDatafile(rollout),
      at
    )
  // This commits: a window open on the clock holds a raise too, whatever an earlier `now` says
  // (Observations.clock), so no past --now lands a raise, dated in the past, inside it.
  const clock = new Date()
  let held = await holdAt(now)
  if (!held.waits && clock > now) held = await holdAt(clock)
  const expected = held.datafile
  const waits = held.waits?.text
  if (committed.kind === 'parsed' && waits && differences(committed.datafile, expected) === null)
    return { sha: null, drift, waits }
  writeFileSync(join(rollout.root, drift.path), renderDatafile(expected))
  await git(rollout.root, 'add', '--', drift.path)
  const reason = waits ? `${drift.reason}; ${waits}` : drift.reason
  await runGit(rollout.root, ['commit', '-q', '-F', '-', '--', drift.path], {
    input: refreshMessage(rollout.policy.feature, drift.path, reason),
    env: commitEnv(now)
  })
  return { sha: await git(rollout.root, 'rev-parse', 'HEAD'), drift, ...(waits ? { waits } : {}) }
}

/** A drift as the one line a person reads: `path: reason (hint: the command that fixes it)`. */
export function driftError(drift: DatafileDrift): PhasegateError {
  return new PhasegateError(`the committed datafile ${drift.reason}`, {
    location: { file: drift.path },
    hint: `run \`${drift.fix}\`: it rewrites the datafile in a commit of its own, not a transition`
  })
}

/**
 * What a rollout exposes at `now` (rollout/exposure-raise.ts exposureInForce): its policy and
 * state, less a raise over the committed datafile that waits for a freeze window or a pause.
 */
export function inForce(rollout: Rollout, now: Date): ExposureInForce {
  const committed = readCommittedDatafile(rollout.root, datafilePathOf(rollout.policy))
  return exposureInForce(
    rollout.policy,
    exposedState(rollout),
    committed.kind === 'parsed' ? committed.datafile : null,
    now
  )
}

/**
 * The raise the committed datafile holds back at `now`, when that is all it differs in from the
 * policy and state: the difference is expected until the window ends or the rollout resumes.
 * Null when the datafile agrees, or differs in any other way too (then it is stale).
 */
export function heldRaise(rollout: Rollout, now: Date): RaiseWait | null {
  if (!datafileDrift(rollout)) return null
  const committed = readCommittedDatafile(rollout.root, datafilePathOf(rollout.policy))
  if (committed.kind !== 'parsed') return null
  const held = heldDatafile(
    rollout.policy,
    exposedState(rollout),
    committed.datafile,
    featureDatafile(rollout.policy, exposedState(rollout)),
    now
  )
  return held.waits && differences(committed.datafile, held.datafile) === null ? held.waits : null
}

/**
 * The committed datafile's drift when it is stale: it differs from what the rollout exposes at
 * `now` in more than a raise that waits for a freeze window or a pause (heldRaise). Null when it
 * agrees or only holds such a raise back. `status` says DATAFILE STALE for it, `validate` refuses it.
 */
export function staleDatafile(rollout: Rollout, now: Date): DatafileDrift | null {
  const drift = datafileDrift(rollout)
  return drift && !heldRaise(rollout, now) ? drift : null
}

/** What `validate` says about a rollout's delivery: refusals (`problems`) and `notices`. */
export interface DeliveryReport {
  problems: PhasegateError[]
  notices: string[]
}

/**
 * What `validate` refuses about a rollout besides its files' syntax: a lost state file, and a
 * committed datafile that does not say what the feature exposes at `now`. A datafile that holds
 * back only a raise waiting for a freeze window or a pause is a notice, not a problem.
 */
export function deliveryProblems(rollout: Rollout, now: Date): DeliveryReport {
  const stale = staleDatafile(rollout, now)
  const waiting = heldRaise(rollout, now)
  return {
    problems: [
      ...(rollout.lost ? [lostStateError(rollout)] : []),
      ...(stale ? [driftError(stale)] : [])
    ],
    notices: waiting
      ? [
          `${datafilePathOf(rollout.policy)} holds back a raise waiting: ${waiting.text}; tick lands it after that`
        ]
      : []
  }
}
