// The automated test gate's observations: the named check runs and workflow runs on a commit.

import type { CheckObservation } from '../engine/types.js'
import type { GitHubClient, RepoRef } from './client.js'

interface Run {
  id: number
  name?: string | null
  status: string | null
  conclusion: string | null
}

function latestNamed(runs: Run[], name: string): Run | undefined {
  return runs.filter(run => run.name === name).sort((a, b) => b.id - a.id)[0]
}

/**
 * The latest check run or workflow run of each name on `sha`. A run still in progress has a
 * null conclusion; a name with neither is left out, so the gate reports it as missing.
 * Check runs win over workflow runs of the same name: they are the finer-grained record. Every
 * workflow job is also a check run, so workflow runs are only asked for when check runs leave
 * a name unanswered: a scheduled tick should cost as few requests as it can.
 */
export async function observeChecks(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  names: string[]
): Promise<CheckObservation[]> {
  if (names.length === 0) return []
  const checkRuns: Run[] = await client.paginate(client.rest.checks.listForRef, {
    ...repo,
    ref: sha,
    filter: 'latest',
    per_page: 100
  })
  const unanswered = names.some(name => !latestNamed(checkRuns, name))
  const workflowRuns: Run[] = unanswered
    ? await client.paginate(client.rest.actions.listWorkflowRunsForRepo, {
        ...repo,
        head_sha: sha,
        per_page: 100
      })
    : []
  return names.flatMap(name => {
    const run = latestNamed(checkRuns, name) ?? latestNamed(workflowRuns, name)
    if (!run) return []
    return [{ name, conclusion: run.status === 'completed' ? run.conclusion : null }]
  })
}
