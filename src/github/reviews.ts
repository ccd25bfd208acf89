// Pull request reviews as the engine's Approval[]: the facts the manual approval gate needs to
// refuse an approval (author, bot, older commit, not a listed approver). The gate itself, in
// src/engine, decides what counts; this only observes.

import type { Approval } from '../engine/types.js'
import type { GitHubClient, RepoRef } from './client.js'
import { isActiveMember } from './teams.js'
import type { PullRequestRef } from './pulls.js'

/** Reviews that set a reviewer's verdict; COMMENTED and PENDING leave the verdict as it was. */
const VERDICTS = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'])

/**
 * Each reviewer's latest verdict on the pull request, kept when it is an approval. Team
 * approvers ("@org/team") are resolved through team membership, so `teams` lists the approver
 * entries the user belongs to.
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
    const bot = review.user.type === 'Bot'
    const author = user.toLowerCase() === pull.author.toLowerCase()
    const listedByName = approvers.some(entry => entry.toLowerCase() === user.toLowerCase())
    const memberOf = bot || author || listedByName ? [] : await teamsOf(client, user, teams)
    approvals.push({
      user,
      ...(memberOf.length > 0 ? { teams: memberOf } : {}),
      bot,
      author,
      stale: review.commit_id !== pull.headSha
    })
  }
  return approvals
}

async function teamsOf(client: GitHubClient, user: string, teams: string[]): Promise<string[]> {
  const member: string[] = []
  for (const team of teams) if (await isActiveMember(client, team, user)) member.push(team)
  return member
}
