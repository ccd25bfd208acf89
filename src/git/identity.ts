import { runGit } from './git.js'

/**
 * Who is running phasegate here, as the logins they may go by: GITHUB_ACTOR (in a workflow), the
 * git user's name, and the login in their email address (a GitHub noreply address
 * "123+login@users.noreply.github.com", or the local part of any other). Compared
 * case-insensitively by the caller; empty when none is configured.
 */
export async function runnerIdentities(root: string): Promise<string[]> {
  const config = async (key: string) =>
    (await runGit(root, ['config', '--get', key], { allowFailure: true })).stdout.trim()
  const [name, email] = await Promise.all([config('user.name'), config('user.email')])
  const local = email.split('@')[0] ?? ''
  const ids = [process.env.GITHUB_ACTOR ?? '', name, local, local.replace(/^\d+\+/, '')]
  return [...new Set(ids.filter(Boolean))]
}
