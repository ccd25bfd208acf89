// Commit statuses: how the policy check reports on a pull request (context "phasegate/policy",
// which users make a required status check).

import type { GitHubClient, RepoRef } from './client.js'

export const POLICY_STATUS_CONTEXT = 'phasegate/policy'

/** GitHub refuses descriptions longer than this. */
const MAX_DESCRIPTION = 140

export interface CommitStatus {
  state: 'success' | 'failure' | 'pending' | 'error'
  description: string
  context?: string
  targetUrl?: string
}

export async function setCommitStatus(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  status: CommitStatus
): Promise<void> {
  const description =
    status.description.length > MAX_DESCRIPTION
      ? `${status.description.slice(0, MAX_DESCRIPTION - 1)}…`
      : status.description
  await client.rest.repos.createCommitStatus({
    ...repo,
    sha,
    state: status.state,
    context: status.context ?? POLICY_STATUS_CONTEXT,
    description,
    ...(status.targetUrl ? { target_url: status.targetUrl } : {})
  })
}
