import { git, isShallowRepository, runGit } from '../git/git.js'
import { PhasegateError } from '../errors.js'
import { protectionRefusalOf, type ProtectionRefusal } from '../github/protection.js'

// The default branch is the source of truth: every flow starts from the remote's tip, and a
// push that lost a race is retried from the new tip, never forced over someone else's work.

export const PUSH_ATTEMPTS = 5

/** The remote's default branch (its HEAD), read over git rather than the API. */
export async function remoteDefaultBranch(root: string): Promise<string> {
  const out = await git(root, 'ls-remote', '--symref', 'origin', 'HEAD')
  const match = /^ref: refs\/heads\/(\S+)\s+HEAD/m.exec(out)
  if (!match)
    throw new PhasegateError('cannot tell the default branch of the origin remote', {
      hint: 'check out the repository with actions/checkout before running phasegate'
    })
  return match[1]!
}

/** Work trees this process has fetched with full history: no later fetch makes them shallow. */
const complete = new Set<string>()

async function isShallow(root: string): Promise<boolean> {
  if (complete.has(root)) return false
  return isShallowRepository(root)
}

/** Fetches `branch` and checks out its tip, with full history (reverts need it). */
export async function syncWithRemote(root: string, branch: string): Promise<void> {
  await fetchAndCheckout(root, branch, await isShallow(root))
}

/**
 * The remote's default branch (remoteDefaultBranch), fetched and checked out (syncWithRemote):
 * whether the clone is shallow is asked while ls-remote waits on the network.
 */
export async function syncDefaultBranch(root: string): Promise<string> {
  const [branch, shallow] = await Promise.all([remoteDefaultBranch(root), isShallow(root)])
  await fetchAndCheckout(root, branch, shallow)
  return branch
}

async function fetchAndCheckout(root: string, branch: string, shallow: boolean): Promise<void> {
  await git(
    root,
    'fetch',
    '-q',
    ...(shallow ? ['--unshallow'] : []),
    'origin',
    `+refs/heads/${branch}:refs/remotes/origin/${branch}`
  )
  complete.add(root)
  // Without -f: edits a workflow step left in tracked files (a metrics snapshot) carry over.
  await git(root, 'checkout', '-q', '-B', branch, `refs/remotes/origin/${branch}`)
}

/** Fetches a branch if the remote has it; returns its tip or undefined. */
export async function fetchBranch(root: string, branch: string): Promise<string | undefined> {
  const result = await runGit(
    root,
    ['fetch', '-q', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`],
    { allowFailure: true }
  )
  if (result.code !== 0) return undefined
  return git(root, 'rev-parse', `refs/remotes/origin/${branch}`)
}

export type PushResult =
  | { status: 'pushed' }
  | { status: 'rejected'; message: string }
  | { status: 'protected'; message: string; refusal: ProtectionRefusal }

/**
 * Pushes HEAD to `branch`. A lost race (non-fast-forward) and protection (branch protection or
 * a ruleset, whichever rule refused) are answers, not errors: the first means "start over from
 * the new tip", the second "go through a PR".
 */
export async function pushHead(
  root: string,
  branch: string,
  options: { force?: boolean } = {}
): Promise<PushResult> {
  const result = await runGit(
    root,
    ['push', '-q', ...(options.force ? ['--force'] : []), 'origin', `HEAD:refs/heads/${branch}`],
    { allowFailure: true }
  )
  if (result.code === 0) return { status: 'pushed' }
  const message = (result.stderr || result.stdout).trim()
  const refusal = protectionRefusalOf(message)
  if (refusal) return { status: 'protected', message, refusal }
  if (
    /non-fast-forward|fetch first|\[rejected\]|failed to update ref|cannot lock ref/i.test(message)
  )
    return { status: 'rejected', message }
  throw new PhasegateError(
    `git push to ${branch} failed: ${message.split('\n').slice(-2).join(' / ')}`,
    {
      hint: 'the token needs contents: write permission, and actions/checkout must keep its credentials'
    }
  )
}

export type CommitAttempt =
  | { status: 'committed'; sha: string }
  /** The rollout moved (or nothing is left to do) since the decision: stop and say why. */
  | { status: 'stale'; reason: string }

export type PublishResult =
  | { status: 'pushed'; sha: string; attempts: number }
  | { status: 'protected'; sha: string; message: string; refusal: ProtectionRefusal }
  | { status: 'stale'; reason: string; attempts: number }

/** How a commit reaches the branch: `git push` by default; `sha` when the branch got another commit for it. */
export type Publish = (
  sha: string
) => Promise<{ status: 'pushed'; sha?: string } | Exclude<PushResult, { status: 'pushed' }>>

/**
 * Makes a commit on the default branch's tip and publishes it (`publish`, git push by default);
 * when another push won the race, fetches, resets and lets `attempt` re-read the state and
 * commit again, up to PUSH_ATTEMPTS.
 */
export async function commitAndPush(
  root: string,
  branch: string,
  attempt: (n: number) => Promise<CommitAttempt>,
  publish: Publish = () => pushHead(root, branch)
): Promise<PublishResult> {
  let lastRejection = ''
  for (let n = 1; n <= PUSH_ATTEMPTS; n++) {
    if (n > 1) await syncWithRemote(root, branch)
    const made = await attempt(n)
    if (made.status === 'stale') return { ...made, attempts: n }
    const pushed = await publish(made.sha)
    if (pushed.status === 'pushed')
      return { status: 'pushed', sha: pushed.sha ?? made.sha, attempts: n }
    if (pushed.status === 'protected')
      return {
        status: 'protected',
        sha: made.sha,
        message: pushed.message,
        refusal: pushed.refusal
      }
    lastRejection = pushed.message
  }
  throw new PhasegateError(
    `the push to ${branch} was rejected ${PUSH_ATTEMPTS} times: other pushes keep landing first (${lastRejection.split('\n')[0]})`,
    {
      hint: 'use a concurrency: group for phasegate workflows; the next run picks up where this one stopped'
    }
  )
}
