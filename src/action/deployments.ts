import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as core from '@actions/core'
import { datafilePathOf, parseDatafile } from '../export/datafile.js'
import { recordDeployment, environmentOf } from '../github/deployments.js'
import type { Rollout } from '../rollout/load.js'
import type { GitHubSide } from './landing.js'

/**
 * With the `deployments` input on, records a transition that landed on the default branch as a
 * GitHub deployment of the feature's datafile (checked out at `sha`). Best effort: a refusal is
 * a line in the report and a warning, never a failed rollout. Returns the report's lines.
 */
export async function recordLandedDeployment(
  gh: GitHubSide,
  rollout: Rollout,
  sha: string,
  logUrl: string | undefined
): Promise<string[]> {
  const { policy } = rollout
  try {
    const text = readFileSync(join(rollout.root, datafilePathOf(policy)), 'utf8')
    const datafile = parseDatafile(text).features[policy.feature]!
    const id = await recordDeployment(gh.client, gh.repo, {
      sha,
      datafile,
      ...(logUrl ? { logUrl } : {})
    })
    return [`deployment ${id} to ${environmentOf(policy.feature)}`]
  } catch (error) {
    const line = `deployment to ${environmentOf(policy.feature)} not recorded: ${(error as Error).message}`
    core.warning(line)
    return [line]
  }
}
