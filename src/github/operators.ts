// Who may dispatch a rollback: the policy's operators (users, or members of teams), or, when
// the policy names none, anyone GitHub lets push to the repository.

import type { GitHubClient, RepoRef } from './client.js'
import { isRequestError } from './errors.js'
import { isActiveMember } from './teams.js'

export interface OperatorStanding {
  allowed: boolean
  /** Why, in a sentence a person reads in the job summary or the refusal. */
  reason: string
}

const PUSH_PERMISSIONS = new Set(['admin', 'maintain', 'write'])

export async function operatorStanding(
  client: GitHubClient,
  repo: RepoRef,
  login: string,
  operators: string[]
): Promise<OperatorStanding> {
  if (operators.length === 0) {
    const permission = await permissionOf(client, repo, login)
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

async function permissionOf(client: GitHubClient, repo: RepoRef, login: string): Promise<string> {
  try {
    const { data } = await client.rest.repos.getCollaboratorPermissionLevel({
      ...repo,
      username: login
    })
    return data.role_name || data.permission
  } catch (error) {
    if (isRequestError(error) && error.status === 404) return 'none'
    throw error
  }
}
