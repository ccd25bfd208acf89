import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PhasegateError } from '../errors.js'
import { git, runGit } from '../git/git.js'
import { datafileDrift, type DatafileDrift } from '../rollout/datafile.js'
import { featureDatafile } from '../export/datafile.js'
import { exposureRaises, raiseWaitsFor } from '../rollout/exposure-raise.js'
import { relativeTo, selectRollouts, type Rollout, type RolloutFailure } from '../rollout/load.js'

// The policy check judges a pull request by what its head would make of the rollouts, not only by
// the state files it touches: a policy it breaks, deletes or repoints (`state:`) at another file,
// or a new policy whose state starts past its first phase, moves a rollout without a transition.

/** A policy at the PR's head, or its failure, as a one-line reason; the file relative to the root. */
function locatedAtHead(error: PhasegateError, dir: string): string {
  const location = error.location
    ? { ...error.location, file: relativeTo(dir, error.location.file) }
    : undefined
  return new PhasegateError(error.message, {
    ...(location ? { location } : {}),
    ...(error.hint ? { hint: error.hint } : {})
  }).format()
}

/** What the pull request's head makes of the rollouts. */
export interface HeadPolicies {
  /** One per way the head moves a rollout of the base, or the file that holds it. */
  reasons: string[]
  /**
   * Each feature whose committed datafile at the head does not say what the head's policy and
   * state expose (rollout/datafile.ts datafileDrift).
   */
  drifts: Map<string, DatafileDrift>
  /**
   * Lines said, not failed: a policy broken on the base that the pull request leaves alone (its
   * rollout is not judged), or one it repairs.
   */
  notes: string[]
}

/**
 * Loads the policies (`patterns`, as the action's input gives them) at commit `tip` in a
 * temporary worktree of `root`, and returns one reason per way the head changes where a rollout
 * of `base` stands or which file holds it (none when the head's policies agree with the base's),
 * and the datafiles at the head that disagree with their rollouts there.
 */
export async function headPolicyChanges(
  root: string,
  tip: string,
  patterns: string[],
  base: Rollout[],
  /** Policy files (relative to `root`) that do not load on the base, and the files the PR changes. */
  brokenOnBase: string[] = [],
  changed: string[] = [],
  /** The run's time: an exposure raise fails while a freeze window is open or the rollout paused. */
  now: Date = new Date()
): Promise<HeadPolicies> {
  const dir = mkdtempSync(join(tmpdir(), 'phasegate-head-'))
  try {
    await git(root, 'worktree', 'add', '-q', '--detach', dir, tip)
    const reasons: string[] = []
    let head: { rollouts: Rollout[]; failures: RolloutFailure[] }
    try {
      head = await selectRollouts(dir, patterns)
    } catch (error) {
      // No policy file left at all: every rollout of the base is gone, said below.
      if (!(error instanceof PhasegateError)) throw error
      head = { rollouts: [], failures: [] }
    }
    // A policy already broken on the base fails only the pull requests that touch it and leave it
    // broken: one broken policy must not block every other pull request (a rollback among them).
    const notes: string[] = []
    for (const f of head.failures) {
      const file = relativeTo(dir, f.policyFile)
      const line = locatedAtHead(f.error, dir)
      if (brokenOnBase.includes(file) && !changed.includes(file))
        notes.push(
          `${file} does not load on the base branch either and this pull request leaves it alone: its rollout is not judged (${line})`
        )
      else reasons.push(`the policy at the pull request's head does not load: ${line}`)
    }
    for (const file of brokenOnBase) {
      if (!head.failures.some(f => relativeTo(dir, f.policyFile) === file))
        notes.push(
          `${file} does not load on the base branch; at the pull request's head it loads (or is gone): repaired`
        )
    }
    const drifts = new Map<string, DatafileDrift>()
    for (const rollout of head.rollouts) {
      const drift = datafileDrift(rollout)
      if (drift) drifts.set(rollout.policy.feature, drift)
      const { feature, statePath } = rollout.policy
      const policyFile = relativeTo(dir, rollout.policyFile)
      const before = base.find(r => r.policy.feature === feature)
      if (before && before.policy.statePath !== statePath)
        reasons.push(
          `${policyFile}: state: now points at ${statePath} instead of ${before.policy.statePath}; a rollout's state file does not move in a pull request`
        )
      // A policy edit raising the current phase's exposure is no transition, so no gate judges it:
      // it waits out a freeze window (the base's windows count: removing one in the same edit
      // does not end it) and a pause. Lowering exposure never waits.
      if (before && !changed.includes(statePath)) {
        const raises = exposureRaises(
          featureDatafile(before.policy, before.state),
          featureDatafile(rollout.policy, rollout.state)
        )
        const windows = [
          ...(before.policy.freezeWindows ?? []),
          ...(rollout.policy.freezeWindows ?? [])
        ]
        const waits = raises.length ? raiseWaitsFor(windows, before.state, now) : null
        if (waits)
          reasons.push(
            `${policyFile}: raises the exposure of ${feature} at ${before.state?.phase ?? rollout.policy.phases[0]!.name} (${raises.join(', ')}) while ${waits}; merge it after that (lowering exposure may land at any time)`
          )
      }
      const first = rollout.policy.phases[0]!.name
      if (!before && rollout.state && rollout.state.phase !== first)
        reasons.push(
          `${policyFile}: a new rollout starts at ${rollout.state.phase}, past its first phase ${first}; start it with \`phasegate init\``
        )
    }
    for (const rollout of base) {
      if (!head.rollouts.some(r => r.policy.feature === rollout.policy.feature))
        reasons.push(
          `${relativeTo(root, rollout.policyFile)}: the policy of ${rollout.policy.feature} is gone at the pull request's head (deleted, renamed or no longer a policy); retire a rollout on purpose, not in passing`
        )
    }
    return { reasons, drifts, notes }
  } finally {
    await runGit(root, ['worktree', 'remove', '--force', dir], { allowFailure: true })
    rmSync(dir, { recursive: true, force: true })
  }
}
