// Who may dispatch a rollback: the policy's operators (users, or members of teams), or, when
// the policy names none, anyone GitHub lets push to the repository.

import type { GitHubClient, RepoRef } from './client.js'
import { permissionOf, PUSH_PERMISSIONS } from './permissions.js'
import { isActiveMember } from './teams.js'

export interface OperatorStanding {
  allowed: boolean
  /** Why, in a sentence a person reads in the job summary or the refusal. */
  reason: string
}

export async function operatorStanding(
  client: GitHubClient,
  repo: RepoRef,
  login: string,
  operators: string[]
): Promise<OperatorStanding> {
  if (operators.length === 0) {
    const lookup = await permissionOf(client, repo, login)
    if ('unverified' in lookup)
      return { allowed: false, reason: `${login} could not be verified: ${lookup.unverified}` }
    const { permission } = lookup
    return PUSH_PERMISSIONS.has(permission)
      ? {
          allowed: true,
          reason: `${login} has ${permission} permission and the policy lists no operators`
        }
      : {
          allowed: false,
          reason: `${login} has ${permission} permission; without operators in the policy, rollbacks need write permission`
        }
  }
  if (operators.some(entry => entry.toLowerCase() === login.toLowerCase())) {
    return { allowed: true, reason: `${login} is listed as an operator` }
  }
  for (const team of operators.filter(entry => entry.startsWith('@') && entry.includes('/'))) {
    if (await isActiveMember(client, team, login)) {
      return { allowed: true, reason: `${login} is a member of ${team}` }
    }
  }
  return {
    allowed: false,
    reason: `${login} is not among the policy's operators (${operators.join(', ')})`
  }
}
