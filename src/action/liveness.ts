import { git, readObjectsWithIds, runGit } from '../git/git.js'
import { protectionRefusalOf, ruleText } from '../github/protection.js'
import { setCommitStatus } from '../github/statuses.js'
import {
  HEARTBEAT_BRANCH,
  HEARTBEAT_FILE,
  parseHeartbeatRecord,
  renderHeartbeatRecord,
  type HeartbeatEntries
} from '../rollout/heartbeat.js'
import type { ActionRun } from './landing.js'
import { fetchBranch } from './remote.js'

// Liveness: GitHub delays and drops scheduled runs, and in public repositories disables a
// schedule after 60 days without repository activity; then rollbacks silently stop. Each run
// leaves a heartbeat people and tools can see without a commit per tick (which would churn the
// history and make approvals stale): the heartbeat record (each feature's last evaluation, on
// its own one-commit branch: one git push per run, no API request) and, opted into, a commit
// status "phasegate/heartbeat" on the default branch's head (one request per run, whatever the
// number of features). A scheduled run whose default branch has seen no commit for
// SCHEDULE_WARN_DAYS warns before GitHub's limit.

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

/** The heartbeat record as this clone last fetched it: its tip (none when unseen) and file. */
export interface KnownRecord {
  tip?: string
  text?: string
}

/**
 * What a run's liveness steps read of the checkout, in one git process: the heartbeat record as
 * this clone last fetched it, and when the default branch (as fetched) last changed, its head's
 * committer date (undefined when there is no such commit).
 */
export async function readLiveness(
  root: string,
  base: string
): Promise<{ record: KnownRecord; lastActivity?: Date }> {
  const ref = `refs/remotes/origin/${HEARTBEAT_BRANCH}`
  const [tip, file, head] = await readObjectsWithIds(root, [
    ref,
    `${ref}:${HEARTBEAT_FILE}`,
    `refs/remotes/origin/${base}`
  ])
  // A commit's header line: "committer Name <email> <seconds since the epoch> <zone>".
  const seconds = /^committer .* (\d+) [+-]\d{4}$/m.exec(head?.text.split('\n\n')[0] ?? '')
  return {
    record: { ...(tip ? { tip: tip.sha } : {}), ...(file ? { text: file.text } : {}) },
    ...(seconds ? { lastActivity: new Date(Number(seconds[1]) * 1000) } : {})
  }
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

/** How often a record push that lost a race to another job's push is tried again from its tip. */
const RECORD_ATTEMPTS = 3

export type RecordResult =
  { status: 'pushed'; sha: string; attempts: number } | { status: 'refused'; message: string }

/**
 * Writes this run's evaluations into the heartbeat record: the record on HEARTBEAT_BRANCH with
 * `entries` replacing their features' entries (other features, ticked by other jobs of a matrix,
 * keep theirs), as a new parentless commit pushed with a lease on the tip it was built from. A
 * lost race is retried from the new tip; any other refusal is returned, never thrown: the
 * features have already acted. Touches neither the work tree nor the default branch.
 */
export async function recordEvaluations(
  root: string,
  entries: HeartbeatEntries,
  now: Date,
  known?: KnownRecord
): Promise<RecordResult> {
  let message = ''
  for (let attempt = 1; attempt <= RECORD_ATTEMPTS; attempt++) {
    // First from the tip this clone last saw (actions/checkout fetches every branch; the last run
    // in this workspace left it; `known` when the caller read it): one push, no fetch. A stale
    // view fails the lease; then fetch.
    const { tip, text } =
      attempt === 1 ? (known ?? (await knownRecord(root))) : await fetchedRecord(root)
    const previous = tip ? parseHeartbeatRecord(text ?? '') : undefined
    const merged: HeartbeatEntries = new Map([...(previous ?? []), ...entries])
    const sha = await heartbeatCommit(root, renderHeartbeatRecord(merged), entries.size, now)
    const pushed = await runGit(
      root,
      [
        'push',
        '-q',
        `--force-with-lease=refs/heads/${HEARTBEAT_BRANCH}:${tip ?? ''}`,
        'origin',
        `${sha}:refs/heads/${HEARTBEAT_BRANCH}`
      ],
      { allowFailure: true }
    )
    if (pushed.code === 0) {
      await git(root, 'update-ref', `refs/remotes/origin/${HEARTBEAT_BRANCH}`, sha)
      return { status: 'pushed', sha, attempts: attempt }
    }
    message = (pushed.stderr || pushed.stdout).trim()
    if (!/stale info|\[rejected\]|fetch first|non-fast-forward/i.test(message)) break
  }
  const refusal = protectionRefusalOf(message)
  if (!refusal) return { status: 'refused', message: message.split('\n').slice(-2).join(' / ') }
  const rules = refusal.rules.map(ruleText).join('; ')
  return {
    status: 'refused',
    message: `the ${refusal.by} on ${HEARTBEAT_BRANCH} refused the push${rules ? ` (${rules})` : ''}: exempt ${HEARTBEAT_BRANCH} from it, or let phasegate's token bypass it`
  }
}

/** The record as this clone last fetched it, its tip and file read by one git process. */
async function knownRecord(root: string): Promise<KnownRecord> {
  const ref = `refs/remotes/origin/${HEARTBEAT_BRANCH}`
  const [tip, file] = await readObjectsWithIds(root, [ref, `${ref}:${HEARTBEAT_FILE}`])
  return { ...(tip ? { tip: tip.sha } : {}), ...(file ? { text: file.text } : {}) }
}

/** The record as the remote has it now (fetched): its tip, undefined when there is none. */
async function fetchedRecord(root: string): Promise<KnownRecord> {
  const tip = await fetchBranch(root, HEARTBEAT_BRANCH)
  if (!tip) return {}
  const shown = await runGit(root, ['show', `${tip}:${HEARTBEAT_FILE}`], { allowFailure: true })
  return { tip, text: shown.stdout }
}

/** A parentless commit holding only the record; object writes only, no checkout. */
async function heartbeatCommit(
  root: string,
  text: string,
  features: number,
  now: Date
): Promise<string> {
  const blob = (await runGit(root, ['hash-object', '-w', '--stdin'], { input: text })).stdout.trim()
  const tree = (
    await runGit(root, ['mktree'], { input: `100644 blob ${blob}\t${HEARTBEAT_FILE}\n` })
  ).stdout.trim()
  const date = now.toISOString()
  const who = { name: 'phasegate', email: 'phasegate@users.noreply.github.com' }
  const result = await runGit(
    root,
    ['commit-tree', tree, '-m', `phasegate heartbeat: ${features} evaluated at ${date}`],
    {
      env: {
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
        GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? who.name,
        GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? who.email,
        GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? who.name,
        GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? who.email
      }
    }
  )
  return result.stdout.trim()
}

/**
 * This run's record entries: each evaluated feature's decision. A feature that could not be
 * evaluated gets none: its last evaluation stays as it was and goes stale, as it should.
 */
export function heartbeatEntriesOf(
  evaluated: Array<{ feature: string; outcome: string }>,
  now: Date,
  runUrl: string | undefined
): HeartbeatEntries {
  return new Map(
    evaluated.map(e => [
      e.feature,
      { evaluatedAt: now.toISOString(), outcome: e.outcome, ...(runUrl ? { runUrl } : {}) }
    ])
  )
}
