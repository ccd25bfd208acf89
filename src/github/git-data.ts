import { git, runGit } from '../git/git.js'
import type { GitHubClient, RepoRef } from './client.js'
import { isRequestError } from './errors.js'
import { protectionRefusalOf, type ProtectionRefusal } from './protection.js'

// Landing a local commit through GitHub's Git Data API (blobs, a tree, a commit, the ref) instead
// of `git push`: GitHub signs commits it makes for a GitHub App or GITHUB_TOKEN, so a ruleset
// that requires signed commits accepts them, where a pushed commit phasegate cannot sign is
// refused.

export type ApiLanding =
  | { status: 'pushed'; sha: string }
  /** The branch moved meanwhile: the ref update was not a fast forward. */
  | { status: 'rejected'; message: string }
  | { status: 'protected'; message: string; refusal: ProtectionRefusal }

/**
 * Re-creates `local` (a commit with one parent, already on the remote) through the API, with the
 * same files and message but GitHub as its committer, and moves `branch` to it if it still points
 * at that parent. Only files the commit changes are uploaded. Throws on any other API error.
 */
export async function landThroughApi(
  client: GitHubClient,
  repo: RepoRef,
  root: string,
  local: string,
  branch: string
): Promise<ApiLanding> {
  const parent = await git(root, 'rev-parse', `${local}^`)
  const baseTree = await git(root, 'rev-parse', `${parent}^{tree}`)
  const message = (await runGit(root, ['log', '-1', '--format=%B', local])).stdout.trimEnd()
  const tree = []
  // Raw lines ":<old mode> <new mode> <old sha> <new sha> <status>\t<path>".
  const raw = await git(root, 'diff-tree', '-r', '--no-renames', '-z', parent, local)
  const fields = raw.split('\0').filter(Boolean)
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, mode, , blob, status] = fields[i]!.slice(1).split(' ') as string[]
    const path = fields[i + 1]!
    if (status === 'D') {
      tree.push({ path, mode: '100644' as const, type: 'blob' as const, sha: null })
      continue
    }
    const content = (await runGit(root, ['cat-file', 'blob', blob!])).stdout
    const { data } = await client.rest.git.createBlob({ ...repo, content, encoding: 'utf-8' })
    tree.push({ path, mode: mode as '100644', type: 'blob' as const, sha: data.sha })
  }
  const { data: madeTree } = await client.rest.git.createTree({
    ...repo,
    base_tree: baseTree,
    tree
  })
  const { data: commit } = await client.rest.git.createCommit({
    ...repo,
    message,
    tree: madeTree.sha,
    parents: [parent]
  })
  try {
    await client.rest.git.updateRef({
      ...repo,
      ref: `heads/${branch}`,
      sha: commit.sha,
      force: false
    })
  } catch (error) {
    if (!isRequestError(error) || error.status !== 422) throw error
    const refusal = protectionRefusalOf(error.message)
    if (refusal) return { status: 'protected', message: error.message, refusal }
    return { status: 'rejected', message: error.message }
  }
  return { status: 'pushed', sha: commit.sha }
}
