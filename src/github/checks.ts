// The automated test gate's observations: the named check runs and workflow runs on a commit,
// from the producer each gate trusts.

import type { CheckObservation } from '../engine/types.js'
import type { GitHubClient, RepoRef } from './client.js'

/** A check an automated_test gate waits for: its name and the app slug it trusts. */
export interface WantedCheck {
  name: string
  app: string
  /** Only workflow runs of this file count (GitHub Actions); check runs are then not asked. */
  workflow?: string
}

/** GitHub Actions' app slug: its check runs, and every workflow run, are its own. */
const ACTIONS_APP = 'github-actions'

interface Run {
  id: number
  name?: string | null
  head_sha: string
  status: string | null
  conclusion: string | null
  app?: { slug?: string } | null
  /** A workflow run's file, ".github/workflows/ci.yml". */
  path?: string
}

/** The newest run named `name` on exactly `sha` from `app` (check runs carry their app). */
function latestTrusted(runs: Run[], sha: string, want: WantedCheck): Run | undefined {
  return runs
    .filter(run => run.name === want.name && run.head_sha === sha)
    .filter(run => run.app?.slug === want.app)
    .filter(run => want.workflow === undefined || run.path === want.workflow)
    .sort((a, b) => b.id - a.id)[0]
}

/**
 * The latest check run (or, for GitHub Actions, workflow run) of each wanted name on exactly the
 * commit `sha`, from the app the gate trusts: another producer's run of the same name is never
 * seen, so it can neither pass the gate nor override the trusted producer's failure. A run still
 * in progress has a null conclusion; a name with no trusted run is left out, so the gate reports
 * it as missing. Check runs win over workflow runs of the same name, and workflow runs are only
 * asked for when check runs leave a GitHub Actions name unanswered: a scheduled tick should cost
 * as few requests as it can.
 */
export async function observeChecks(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  wanted: WantedCheck[]
): Promise<CheckObservation[]> {
  if (wanted.length === 0) return []
  // filter=all: "latest" picks one run per name across apps, which may be the impostor's.
  const checkRuns: Run[] = await client.paginate(client.rest.checks.listForRef, {
    ...repo,
    ref: sha,
    filter: 'all',
    per_page: 100
  })
  // A job's check run does not say which workflow file ran it: a gate that trusts one file
  // reads workflow runs only.
  const fromCheckRuns = (want: WantedCheck) =>
    want.workflow === undefined ? latestTrusted(checkRuns, sha, want) : undefined
  const unanswered = wanted.some(want => want.app === ACTIONS_APP && !fromCheckRuns(want))
  const workflowRuns: Run[] = unanswered
    ? (
        await client.paginate(client.rest.actions.listWorkflowRunsForRepo, {
          ...repo,
          head_sha: sha,
          per_page: 100
        })
      ).map(run => ({ ...run, app: { slug: ACTIONS_APP } }))
    : []
  return wanted.flatMap(want => {
    const run =
      fromCheckRuns(want) ??
      (want.app === ACTIONS_APP ? latestTrusted(workflowRuns, sha, want) : undefined)
    if (!run) return []
    return [
      {
        name: want.name,
        app: want.app,
        conclusion: run.status === 'completed' ? run.conclusion : null
      }
    ]
  })
}
