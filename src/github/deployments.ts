// GitHub Deployments: one environment per feature (`phasegate/<feature>`), one deployment per
// transition, so the repository's Environments page lists every rollout and tooling that listens
// for `deployment` / `deployment_status` events can act. Deployments made with GITHUB_TOKEN do
// not start workflows (docs/delivery.md); an App token's do.

import type { FeatureDatafile } from '../export/datafile-schema.js'
import type { GitHubClient, RepoRef } from './client.js'

export interface DeploymentRecord {
  /** The transition commit on the default branch. */
  sha: string
  datafile: FeatureDatafile
  /** The run's log, linked from the deployment status. */
  logUrl?: string
}

/** The environment a feature's deployments go to. */
export function environmentOf(feature: string): string {
  return `phasegate/${feature}`
}

/**
 * Creates a deployment of `sha` to the feature's environment, its payload the feature's datafile,
 * and a `success` status describing the transition (`inactive` while the feature is off, so the
 * Environments page does not show an emergency-stopped rollout as live). Returns the deployment
 * id. Throws the API's error: callers report it and go on, since a deployment record never
 * blocks a rollout.
 */
export async function recordDeployment(
  client: GitHubClient,
  repo: RepoRef,
  record: DeploymentRecord
): Promise<number> {
  const { datafile } = record
  const t = datafile.transition
  const description = (
    t ? `${t.kind} ${t.from ?? ''}${t.from ? ' -> ' : ''}${t.to}` : `at ${datafile.phase}`
  ).slice(0, 140)
  const { data } = await client.rest.repos.createDeployment({
    ...repo,
    ref: record.sha,
    environment: environmentOf(datafile.feature),
    task: 'deploy:phasegate',
    auto_merge: false,
    required_contexts: [],
    payload: datafile as unknown as Record<string, unknown>,
    description,
    production_environment: true,
    transient_environment: false
  })
  const id = (data as { id: number }).id
  await client.rest.repos.createDeploymentStatus({
    ...repo,
    deployment_id: id,
    state: datafile.enabled ? 'success' : 'inactive',
    description:
      `${datafile.enabled ? `${datafile.user_percentage}% of users` : 'off'} at ${datafile.phase}`.slice(
        0,
        140
      ),
    ...(record.logUrl ? { log_url: record.logUrl } : {}),
    auto_inactive: true
  })
  return id
}
