// The automated test gate's observations: the named check runs and workflow runs on a commit.

import type { CheckObservation } from '../engine/types.js'
import type { GitHubClient, RepoRef } from './client.js'

/**
 * The latest check run or workflow run of each name on `sha`. A run still in progress has a
 * null conclusion; a name with neither is left out, so the gate reports it as missing.
 * Check runs win over workflow runs of the same name: they are the finer-grained record.
 */
export async function observeChecks(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  names: string[]
): Promise<CheckObservation[]> {
  if (names.length === 0) return []
  const [checkRuns, workflowRuns] = await Promise.all([
    client.paginate(client.rest.checks.listForRef, {
      ...repo,
      ref: sha,
      filter: 'latest',
      per_page: 100
    }),
    client.paginate(client.rest.actions.listWorkflowRunsForRepo, {
      ...repo,
      head_sha: sha,
      per_page: 100
    })
  ])
  const observations: CheckObservation[] = []
  for (const name of names) {
    const check = checkRuns.filter(run => run.name === name).sort((a, b) => b.id - a.id)[0]
    const workflow = workflowRuns.filter(run => run.name === name).sort((a, b) => b.id - a.id)[0]
    const run = check ?? workflow
    if (!run) continue
    observations.push({
      name,
      conclusion: run.status === 'completed' ? (run.conclusion ?? null) : null
    })
  }
  return observations
}
