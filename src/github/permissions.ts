// A user's role on the repository, from GitHub's collaborator permission endpoint: what decides
// who may approve an advance and, without listed operators, who may dispatch a rollback.

import type { RepositoryPermission } from '../engine/types.js'
import type { GitHubClient, RepoRef } from './client.js'
import { isRequestError } from './errors.js'

const ROLES = new Set<string>(['admin', 'maintain', 'write', 'triage', 'read', 'none'])

/** Roles that can push to the repository. */
export const PUSH_PERMISSIONS: ReadonlySet<RepositoryPermission> = new Set([
  'admin',
  'maintain',
  'write'
])

/** The role GitHub asked about `login` gave, or why it could not be asked. */
export type PermissionLookup = { permission: RepositoryPermission } | { unverified: string }

/**
 * `login`'s role on `repo`: GitHub's role_name (which knows maintain and triage, unlike the
 * legacy `permission` field), "none" for a login GitHub does not know (404). A refused lookup
 * (403: the token may not read collaborators) is returned as `unverified` with GitHub's
 * message; other errors are thrown.
 */
export async function permissionOf(
  client: GitHubClient,
  repo: RepoRef,
  login: string
): Promise<PermissionLookup> {
  try {
    const { data } = await client.rest.repos.getCollaboratorPermissionLevel({
      ...repo,
      username: login
    })
    const role = data.role_name && ROLES.has(data.role_name) ? data.role_name : data.permission
    return { permission: (ROLES.has(role) ? role : 'none') as RepositoryPermission }
  } catch (error) {
    if (isRequestError(error) && error.status === 404) return { permission: 'none' }
    if (isRequestError(error) && error.status === 403)
      return { unverified: refusal('its permission on the repository', error.message) }
    throw error
  }
}

/** A sentence for a lookup GitHub refused: what could not be read, and GitHub's words. */
export function refusal(what: string, message: string): string {
  return `GitHub refused to show ${what} (403: ${message.split(' - ')[0]}); give the token permission to read it`
}
