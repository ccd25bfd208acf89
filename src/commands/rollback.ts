import type { State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { git, repoRoot } from '../git/git.js'
import { withCheckoutLock } from '../git/lock.js'
import { refreshDatafile, type DatafileDrift } from '../rollout/datafile.js'
import {
  loadRolloutsSettled,
  lostStateError,
  relativeTo,
  type Rollout,
  type RolloutFailure
} from '../rollout/load.js'
import { manualRollback, startedRollout } from '../rollout/manual.js'
import { commitTransitionFrom } from '../rollout/write.js'
import { assertCommittable } from './committable.js'

export interface RollbackOptions {
  cwd: string
  policies: string[]
  reason: string
  /** Emergency: the kill switch goes off in the same commit as the step back. */
  emergency: boolean
  operator?: string
  /** The caller already checked the operator's standing (teams included). */
  operatorVerified?: boolean
  now: Date
  /** `now` was written on the command line: a commit before the phase's entry is refused. */
  nowGiven?: boolean
}

export interface RollbackOutcome {
  rollout: Rollout
  transition: Transition
  sha: string
  /**
   * Policy files that did not load beside the one acted on (no --policy given): reported after the
   * commit, which they did not stop.
   */
  skipped?: RolloutFailure[]
}

/**
 * An emergency on a lost rollout (its state file deleted after transitions) or one whose state
 * file does not read (`cause`): no transition can be committed, so the datafile applications read
 * is rewritten off in a refresh commit (`refreshed`, null when it already said off or is absent);
 * `error` says what is wrong with the state file (located) and how to mend it.
 */
export interface LostEmergencyOutcome {
  rollout: Rollout
  refreshed: { sha: string; drift: DatafileDrift } | null
  error: PhasegateError
  cause: 'lost' | 'unreadable'
  skipped?: RolloutFailure[]
}

/**
 * Picks the one rollout a manual command is about, with the policy files that did not load
 * (`skipped`). Without --policy, a broken policy file stops the command only when `pastBroken` is
 * false: a rollback or a pause (which only lower or hold exposure) goes on with the one rollout
 * that loaded, so one team's broken policy never blocks another's lever; a resume raises exposure
 * and refuses, naming --policy, since the broken file may be the one meant. `allowLost` returns a
 * lost rollout (state null, `lost` set) instead of throwing its error.
 */
export async function singleRollout(
  cwd: string,
  policies: string[],
  command: string,
  options: { pastBroken?: boolean; allowLost?: boolean } = {}
): Promise<{
  rollout: Rollout & { state: State }
  skipped: RolloutFailure[]
  /** With `allowLost`: the rollout's state file is present but does not read; why (located). */
  unreadable?: PhasegateError
}> {
  const settled = await loadRolloutsSettled(cwd, policies)
  // With allowLost (an emergency), a rollout whose state file does not read is one to act on,
  // as a lost one: its policy loaded, so its datafile can still be written off.
  const unreadable = options.allowLost ? settled.failures.filter(f => f.unreadableState) : []
  const rollouts = [...settled.rollouts, ...unreadable.map(f => f.unreadableState!)]
  const failures = settled.failures.filter(f => !unreadable.includes(f))
  if (
    failures.length > 0 &&
    (policies.length > 0 || !options.pastBroken || rollouts.length !== 1)
  ) {
    // Named files are the ones meant; otherwise the broken file may be the one meant.
    if (policies.length > 0 || rollouts.length === 0) throw failures[0]!.error
    throw new PhasegateError(
      `${command} acts on one rollout, and ${failures.length} policy file(s) did not load (${failures.map(f => f.error.format()).join('; ')}); the one that did: ${rollouts.map(r => relativeTo(cwd, r.policyFile)).join(', ')}`,
      { hint: 'name the rollout with --policy FILE' }
    )
  }
  if (rollouts.length > 1) {
    throw new PhasegateError(
      `${command} acts on one rollout but ${rollouts.length} policies were found (${rollouts.map(r => r.policy.feature).join(', ')})`,
      {
        hint: 'name one with --policy FILE'
      }
    )
  }
  const [only] = rollouts
  const broken = unreadable.find(f => f.unreadableState === only)
  if (broken)
    return {
      rollout: only as Rollout & { state: State },
      skipped: failures,
      unreadable: broken.error
    }
  if (only!.lost && options.allowLost)
    return { rollout: only as Rollout & { state: State }, skipped: failures }
  if (only!.lost) throw lostStateError(only!)
  return { rollout: startedRollout(only!), skipped: failures }
}

/**
 * Who is rolling back, checked against the policy's operators by name. `verified` says the caller
 * has already checked the operator's standing with more than names (the action resolves
 * "@org/team" entries through GitHub), which a local repository cannot do.
 */
export async function resolveOperator(
  rollout: Rollout,
  operator: string | undefined,
  verified = false
): Promise<string> {
  const who =
    operator ??
    ((await git(rollout.root, 'config', '--default', '', 'user.name')) ||
      process.env.USER ||
      'unknown')
  const operators = rollout.policy.rollback.operators
  if (
    !verified &&
    operators.length > 0 &&
    !operators.some(o => o.toLowerCase() === who.toLowerCase())
  ) {
    // Locally only names can be matched: whether someone belongs to a team only GitHub knows.
    const teams = operators.filter(o => o.startsWith('@'))
    throw new PhasegateError(
      `${who} is not one of this policy's rollback operators (${operators.join(', ')})`,
      {
        hint: teams.length
          ? `membership of ${teams.join(', ')} can only be checked by GitHub: dispatch the rollback workflow there, or ask a listed operator`
          : 'ask an operator, or add the user to rollback.operators in the policy'
      }
    )
  }
  return who
}

/** How long an emergency waits for a live run holding the checkout to finish. */
const EMERGENCY_LOCK_WAIT_MS = 60_000

/**
 * Steps one rollout back (an emergency also turns it off) in one commit, under the checkout's lock.
 * An emergency on a lost rollout rewrites its datafile off instead (LostEmergencyOutcome).
 */
export async function rollback(
  options: RollbackOptions
): Promise<RollbackOutcome | LostEmergencyOutcome> {
  return withCheckoutLock(await repoRoot(options.cwd), 'rollback', () => rollbackLocked(options), {
    waitMs: options.emergency ? EMERGENCY_LOCK_WAIT_MS : 0
  })
}

async function rollbackLocked(
  options: RollbackOptions
): Promise<RollbackOutcome | LostEmergencyOutcome> {
  const reason = options.reason.trim()
  if (!reason)
    throw new PhasegateError('a rollback needs a reason', {
      hint: 'pass --reason "what went wrong"'
    })
  const { rollout, skipped, unreadable } = await singleRollout(
    options.cwd,
    options.policies,
    'rollback',
    { pastBroken: true, allowLost: options.emergency }
  )
  if (rollout.lost) {
    // The lever must reach applications even when the state is gone or does not read: the
    // datafile they poll is rewritten off as tick's refresh does (no state file changed, so no
    // transition), and the state's problem is still reported with how to mend it.
    await resolveOperator(rollout, options.operator, options.operatorVerified)
    // Off only ever lowers exposure, so nothing of it waits: a refresh here always commits.
    const made = await refreshDatafile(rollout, options.now)
    const refreshed = made?.sha ? { sha: made.sha, drift: made.drift } : null
    return {
      rollout,
      refreshed,
      error: unreadable ?? lostStateError(rollout),
      cause: unreadable ? 'unreadable' : 'lost',
      skipped
    }
  }
  await assertCommittable(rollout, rollout.state, options)
  const operator = await resolveOperator(rollout, options.operator, options.operatorVerified)
  const transition = manualRollback(rollout, { ...options, reason, operator })
  const made = await commitTransitionFrom(rollout, rollout.state, transition, options.now)
  return { rollout, ...made, skipped }
}
