// Pull request reviews as the engine's Approval[]: the facts the manual approval gate needs to
// refuse an approval (author, bot, older commit, role on the repository, not a listed approver).
// The gate itself, in src/engine, decides what counts; this only observes.

import type { Approval } from '../engine/types.js'
import type { GitHubClient, RepoRef } from './client.js'
import { isRequestError } from './errors.js'
import { permissionOf, refusal } from './permissions.js'
import { isActiveMember } from './teams.js'
import type { PullRequestRef } from './pulls.js'

/** Reviews that set a reviewer's verdict; COMMENTED and PENDING leave the verdict as it was. */
const VERDICTS = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'])

/**
 * Each reviewer's latest verdict on the pull request, kept when it is an approval, with what the
 * gate needs to judge it: whether the reviewer is a bot or the author, approved an older commit,
 * belongs to the listed teams ("@org/team", so `teams` lists those they belong to), and their
 * role on the repository. A lookup GitHub refuses (403) leaves the approval `unverified`, with
 * the reason; it never counts.
 */
export async function collectApprovals(
  client: GitHubClient,
  repo: RepoRef,
  pull: PullRequestRef,
  approvers: string[]
): Promise<Approval[]> {
  const reviews = await client.paginate(client.rest.pulls.listReviews, {
    ...repo,
    pull_number: pull.number,
    per_page: 100
  })
  const latest = new Map<string, (typeof reviews)[number]>()
  for (const review of reviews) {
    if (review.user && VERDICTS.has(review.state)) latest.set(review.user.login, review)
  }
  const teams = approvers.filter(entry => entry.startsWith('@') && entry.includes('/'))
  const approvals: Approval[] = []
  for (const review of latest.values()) {
    if (review.state !== 'APPROVED' || !review.user) continue
    const user = review.user.login
    const bot = review.user.type === 'Bot' || /\[bot\]$/i.test(user)
    const author = user.toLowerCase() === pull.author.toLowerCase()
    const approval: Approval = { user, bot, author, stale: review.commit_id !== pull.headSha }
    if (!bot && !author) Object.assign(approval, await standingOf(client, repo, user, teams))
    approvals.push(approval)
  }
  return approvals
}

/** The listed teams `user` belongs to; their repository role unless a team already vouches. */
async function standingOf(
  client: GitHubClient,
  repo: RepoRef,
  user: string,
  teams: string[]
): Promise<Pick<Approval, 'teams' | 'permission' | 'unverified'>> {
  const member: string[] = []
  for (const team of teams) {
    try {
      if (await isActiveMember(client, team, user)) member.push(team)
    } catch (error) {
      if (!isRequestError(error) || error.status !== 403) throw error
      return { unverified: refusal(`membership of ${team}`, error.message) }
    }
  }
  if (member.length > 0) return { teams: member }
  return permissionOf(client, repo, user)
}
