import type { OpenPullRequest } from '../github/pulls.js'
import { setCommitStatus } from '../github/statuses.js'
import { killSwitchOnWaits } from '../rollout/manual.js'
import type { EvaluatedFeature } from './feature.js'
import type { ActionRun } from './landing.js'

/**
 * A standing resume PR (phasegate/<feature>/resume) turns the kill switch back on when merged.
 * Inside a freeze window that raise waits, yet a green phasegate/policy the check gave it before
 * the window would leave it mergeable by hand: the tick takes it back (failure, naming the window
 * and its end). Returns the report line; undefined when there is no such PR or nothing holds it.
 * One status request per held resume PR per tick, only while a window is open.
 */
export async function holdResumePullRequest(
  run: ActionRun,
  feature: EvaluatedFeature,
  pr: OpenPullRequest | undefined
): Promise<string | undefined> {
  if (!pr || run.ctx.dryRun || !feature.written) return undefined
  const held = killSwitchOnWaits(feature.rollout.policy, feature.written, run.ctx.now, new Date())
  if (!held) return undefined
  await setCommitStatus(run.gh.client, run.gh.repo, pr.headSha, {
    state: 'failure',
    description: `not mergeable now: ${held.window}`
  })
  return `resume PR #${pr.number} not mergeable now: ${held.why}`
}
