// Team approvers and operators are written "@org/team-slug" in policies.

import type { GitHubClient } from './client.js'
import { isRequestError } from './errors.js'

/** Whether `login` is an active member of "@org/team" (a pending invitation is not). */
export async function isActiveMember(
  client: GitHubClient,
  team: string,
  login: string
): Promise<boolean> {
  const [org = '', slug = ''] = team.slice(1).split('/', 2)
  try {
    const { data } = await client.rest.teams.getMembershipForUserInOrg({
      org,
      team_slug: slug,
      username: login
    })
    return data.state === 'active'
  } catch (error) {
    if (isRequestError(error) && error.status === 404) return false
    throw error
  }
}
