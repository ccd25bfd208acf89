// The standing pull request: one open PR per head branch (phasegate/<feature>/advance), created
// once and updated in place on later ticks. GitHub refuses a second PR for the same head with
// 422 "A pull request already exists"; that answer means "update it", never "fail".

import type { GitHubClient, RepoRef } from './client.js'
import { isRequestError } from './errors.js'
import { markdownText } from '../report/escape/markdown.js'

export interface PullRequestRef {
  number: number
  htmlUrl: string
  headSha: string
  /** Login of the pull request's author (the approver that never counts). */
  author: string
}

/** An open pull request with its body (the report's digest tells whether it needs rewriting). */
export interface OpenPullRequest extends PullRequestRef {
  body: string
}

export interface StandingPullRequest extends PullRequestRef {
  created: boolean
  /** Why some reviewers could not be requested, if so: the PR stands anyway. */
  reviewRequestProblem?: string
}

export interface StandingPullRequestContent {
  head: string
  base: string
  title: string
  body: string
  /** The phase's approvers: logins, and teams as "@org/team-slug". */
  reviewers?: string[]
}

function toRef(pull: {
  number: number
  html_url: string
  head: { sha: string }
  user: { login: string } | null
}): PullRequestRef {
  return {
    number: pull.number,
    htmlUrl: pull.html_url,
    headSha: pull.head.sha,
    author: pull.user?.login ?? ''
  }
}

/**
 * The open pull request from `head` into `base`, if any, with its body, in one request: a tick
 * that changes nothing must not spend more.
 */
export async function findOpenPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  head: string,
  base?: string
): Promise<OpenPullRequest | undefined> {
  // GitHub silently ignores a head filter without the "owner:" prefix and lists every PR.
  const { data } = await client.rest.pulls.list({
    ...repo,
    state: 'open',
    head: `${repo.owner}:${head}`,
    ...(base ? { base } : {}),
    per_page: 10
  })
  const found = data.find(pull => pull.head.ref === head)
  return found ? { ...toRef(found), body: found.body ?? '' } : undefined
}

/**
 * Every open pull request of the repository whose head is a branch of the repository itself
 * (not a fork), by head branch: one paginated listing per run, matched to features by their
 * standing branch, instead of one lookup per feature.
 */
export async function listOpenPullRequests(
  client: GitHubClient,
  repo: RepoRef
): Promise<Map<string, OpenPullRequest>> {
  const pulls = await client.paginate(client.rest.pulls.list, {
    ...repo,
    state: 'open',
    per_page: 100
  })
  const own = `${repo.owner}/${repo.repo}`.toLowerCase()
  const byHead = new Map<string, OpenPullRequest>()
  for (const pull of pulls) {
    if (pull.head.repo?.full_name?.toLowerCase() !== own) continue
    byHead.set(pull.head.ref, { ...toRef(pull), body: pull.body ?? '' })
  }
  return byHead
}

function alreadyExists(error: unknown): boolean {
  return (
    isRequestError(error) &&
    error.status === 422 &&
    /pull request already exists/i.test(JSON.stringify(error.response?.data ?? error.message))
  )
}

/**
 * Creates the pull request from `head`, or updates the open one in place: never a duplicate,
 * also when a retried create had in fact succeeded or a concurrent run created it first.
 */
export async function upsertStandingPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  content: StandingPullRequestContent
): Promise<StandingPullRequest> {
  const { head, base, title, body } = content
  let existing: PullRequestRef | undefined = await findOpenPullRequest(client, repo, head, base)
  let created = false
  if (!existing) {
    try {
      const { data } = await client.rest.pulls.create({ ...repo, head, base, title, body })
      existing = toRef(data)
      created = true
    } catch (error) {
      if (!alreadyExists(error)) throw error
      existing = await findOpenPullRequest(client, repo, head, base)
      if (!existing) throw error
    }
  }
  if (!created) {
    const { data } = await client.rest.pulls.update({
      ...repo,
      pull_number: existing.number,
      title,
      body
    })
    existing = toRef(data)
  }
  const reviewRequestProblem = await requestReviewers(client, repo, existing, content.reviewers)
  return { ...existing, created, ...(reviewRequestProblem ? { reviewRequestProblem } : {}) }
}

async function requestReviewers(
  client: GitHubClient,
  repo: RepoRef,
  pull: PullRequestRef,
  approvers: string[] = []
): Promise<string | undefined> {
  // GitHub refuses to request a review from the PR's author; teams of other orgs cannot review.
  const reviewers = approvers.filter(a => !a.startsWith('@') && a !== pull.author)
  const teamReviewers = approvers
    .filter(a => a.toLowerCase().startsWith(`@${repo.owner.toLowerCase()}/`))
    .map(a => a.slice(a.indexOf('/') + 1))
  if (reviewers.length === 0 && teamReviewers.length === 0) return undefined
  try {
    await client.rest.pulls.requestReviewers({
      ...repo,
      pull_number: pull.number,
      reviewers,
      team_reviewers: teamReviewers
    })
    return undefined
  } catch (error) {
    if (!isRequestError(error) || error.status !== 422) throw error
    return `could not request reviews from ${approvers.join(', ')}: ${error.message}`
  }
}

/** Closes the open pull request from `head` with a comment saying why; returns its number. */
export async function closeStandingPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  head: string,
  comment: string
): Promise<number | undefined> {
  const open = await findOpenPullRequest(client, repo, head)
  if (!open) return undefined
  await client.rest.issues.createComment({ ...repo, issue_number: open.number, body: comment })
  await client.rest.pulls.update({ ...repo, pull_number: open.number, state: 'closed' })
  return open.number
}

export interface ChangedFile {
  path: string
  status: string
}

/** The files a pull request changes, for the policy check's "does it touch a state file". */
export async function listChangedFiles(
  client: GitHubClient,
  repo: RepoRef,
  pullNumber: number
): Promise<ChangedFile[]> {
  const files = await client.paginate(client.rest.pulls.listFiles, {
    ...repo,
    pull_number: pullNumber,
    per_page: 100
  })
  return files.map(file => ({ path: file.filename, status: file.status }))
}

/**
 * The warning as a GitHub alert block, followed by a blank line; the warning is text (it names
 * files the pull request's author chose).
 */
export function warningBanner(warning: string): string {
  return `> [!WARNING]\n> ${markdownText(warning)}\n\n`
}

/**
 * Puts `warning` at the top of the pull request's body, once: the reason phasegate refuses to
 * merge it, where reviewers look. `body` is the body as read; nothing is sent when it already
 * starts with the warning.
 */
export async function warnOnPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  pull: { number: number; body: string },
  warning: string
): Promise<void> {
  const banner = warningBanner(warning)
  if (pull.body.startsWith(banner)) return
  const rest = pull.body.replace(/^> \[!WARNING\]\n> .*\n\n/, '')
  await client.rest.pulls.update({ ...repo, pull_number: pull.number, body: banner + rest })
}
