import type { GitHubClient, RepoRef } from '../github/client.js'
import type { PullRequestRef } from '../github/pulls.js'

// Phasegate's branches: one standing advance PR and one rollback PR per feature at most.

export const advanceBranch = (feature: string) => `phasegate/${feature}/advance`
export const rollbackBranch = (feature: string) => `phasegate/${feature}/rollback`

export interface OpenPullRequest extends PullRequestRef {
  body: string
}

/**
 * The open PR from `head`, with its body, in one request: a tick that changes nothing must not
 * spend more (the body's digest tells whether it needs rewriting).
 */
export async function findOpenPullRequestWithBody(
  client: GitHubClient,
  repo: RepoRef,
  head: string
): Promise<OpenPullRequest | undefined> {
  const { data } = await client.rest.pulls.list({
    ...repo,
    state: 'open',
    head: `${repo.owner}:${head}`,
    per_page: 10
  })
  const pull = data.find(p => p.head.ref === head)
  if (!pull) return undefined
  return {
    number: pull.number,
    htmlUrl: pull.html_url,
    headSha: pull.head.sha,
    author: pull.user?.login ?? '',
    body: pull.body ?? ''
  }
}
