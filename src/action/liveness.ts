import { git } from '../git/git.js'
import { setCommitStatus } from '../github/statuses.js'
import type { ActionRun } from './landing.js'

// Liveness: GitHub delays and drops scheduled runs, and in public repositories disables a
// schedule after 60 days without repository activity; then rollbacks silently stop. Each run
// leaves a heartbeat people and tools can see without a commit per tick (which would churn the
// history and make approvals stale): a commit status "phasegate/heartbeat" on the default
// branch's head, one request per run whatever the number of features. A scheduled run whose
// default branch has seen no commit for SCHEDULE_WARN_DAYS warns before GitHub's limit.

export const HEARTBEAT_CONTEXT = 'phasegate/heartbeat'

/** GitHub disables a public repository's schedules after this many days without activity. */
export const SCHEDULE_DISABLE_DAYS = 60
/** Warn this many days into the quiet spell: ten days to push something or re-enable. */
export const SCHEDULE_WARN_DAYS = 50

const DAY_MS = 24 * 3600_000

/**
 * The warning for a scheduled run whose default branch last changed at `lastActivity`, or
 * undefined while it is under SCHEDULE_WARN_DAYS old. Pure.
 */
export function scheduleDisableWarning(lastActivity: Date, now: Date): string | undefined {
  const days = Math.floor((now.getTime() - lastActivity.getTime()) / DAY_MS)
  if (days < SCHEDULE_WARN_DAYS) return undefined
  const left = SCHEDULE_DISABLE_DAYS - days
  return `the default branch has had no commit for ${days} days: GitHub disables scheduled workflows in public repositories after ${SCHEDULE_DISABLE_DAYS} days without activity (${left > 0 ? `${left} days left` : 'possibly already disabled'}), and then phasegate stops rolling back. Push a commit, or re-enable the workflow in the Actions tab (docs/github.md, "Liveness")`
}

/** When the default branch (as fetched) last changed: its head's committer date. */
export async function lastActivity(root: string, base: string): Promise<Date> {
  const text = await git(root, 'log', '-1', '--format=%cI', `refs/remotes/origin/${base}`)
  const date = new Date(text)
  if (Number.isNaN(date.getTime())) throw new Error(`no commit date for ${base}: "${text}"`)
  return date
}

/**
 * Sets the run's heartbeat on the default branch's head: success when every feature was
 * evaluated, failure when some could not be; the description says when and how many.
 */
export async function recordHeartbeat(
  run: ActionRun,
  counts: { evaluated: number; failed: number },
  runUrl: string | undefined
): Promise<void> {
  const root = run.ctx.workspace
  const head = await git(root, 'rev-parse', `refs/remotes/origin/${run.base}`)
  await setCommitStatus(run.gh.client, run.gh.repo, head, {
    context: HEARTBEAT_CONTEXT,
    state: counts.failed ? 'failure' : 'success',
    description: `${run.ctx.now.toISOString()}: ${counts.evaluated} evaluated${counts.failed ? `, ${counts.failed} could not be` : ''}`,
    ...(runUrl ? { targetUrl: runUrl } : {})
  })
}
