import * as core from '@actions/core'
import { PhasegateError } from '../errors.js'
import { datafilePathOf } from '../export/datafile.js'
import { datafileDrift, refreshDatafile } from '../rollout/datafile.js'
import { reloadRollout, type Rollout } from '../rollout/load.js'
import type { ActionRun } from './landing.js'
import { logInfo } from './log.js'
import { commitAndPush, syncWithRemote } from './remote.js'

/**
 * The action's datafile refresh, after every feature has acted: each rollout whose committed
 * datafile no longer says what it exposes (a policy change without a transition, a lost state
 * file: off) gets a refresh commit pushed to the default branch (rollout/datafile.ts; never a
 * transition), retried over lost races like a transition. Lost rollouts are included: writing
 * their datafile off is what makes applications fail safe. A branch that refuses the push
 * (protection) keeps the stale file, said as a warning; validate, status and the policy check
 * keep naming it. An exposure increase waits while a freeze window is open or the rollout is
 * paused (rollout/exposure-raise.ts). Returns one line per refresh made, refused or waiting.
 */
export async function refreshDatafilesOnGitHub(
  run: ActionRun,
  rollouts: Rollout[]
): Promise<string[]> {
  const root = run.ctx.workspace
  const lines: string[] = []
  if (run.ctx.dryRun || rollouts.length === 0) return lines
  // Each feature's step leaves the checkout on the branch's tip: its files say which datafiles
  // drift without a fetch, so a run with nothing to refresh costs no git round trip.
  const drifted: Rollout[] = []
  for (const rollout of rollouts) {
    // A policy that no longer loads is that feature's failure already; it has nothing to refresh.
    const fresh = await reloadRollout(rollout).catch((error: unknown) => {
      if (error instanceof PhasegateError) return undefined
      throw error
    })
    if (fresh && datafileDrift(fresh)) drifted.push(rollout)
  }
  if (drifted.length === 0) return lines
  await syncWithRemote(root, run.base)
  for (const rollout of drifted) {
    let reason = ''
    let waits: string | undefined
    const path = datafilePathOf(rollout.policy)
    let result: Awaited<ReturnType<typeof commitAndPush>>
    try {
      result = await commitAndPush(root, run.base, async () => {
        const made = await refreshDatafile(await reloadRollout(rollout), run.ctx.now)
        if (!made) return { status: 'stale', reason: 'the datafile agrees' }
        reason = made.drift.reason
        waits = made.waits
        // The whole change raises exposure inside a freeze window or a pause: nothing to push.
        if (!made.sha) return { status: 'stale', reason: made.waits! }
        return { status: 'committed', sha: made.sha }
      })
    } catch (error) {
      // One feature's refresh failing (a push that keeps losing) is said, never another's stop.
      if (!(error instanceof PhasegateError)) throw error
      const line = `${rollout.policy.feature}: ${path} could not be refreshed: ${error.format()}`
      core.warning(line)
      lines.push(line)
      await syncWithRemote(root, run.base)
      continue
    }
    if (waits) {
      const line = `${rollout.policy.feature}: ${path}: ${waits}`
      logInfo(line)
      lines.push(line)
    }
    if (result.status === 'pushed') {
      const line = `${rollout.policy.feature}: refreshed ${path} in ${result.sha.slice(0, 10)} (not a transition): it ${reason}`
      logInfo(line)
      lines.push(line)
    } else if (result.status === 'protected') {
      await syncWithRemote(root, run.base)
      const line = `${rollout.policy.feature}: ${path} is stale (it ${reason}) and its refresh could not be pushed: ${result.message.split('\n')[0]}`
      core.warning(line)
      lines.push(line)
    }
  }
  return lines
}
