import * as core from '@actions/core'
import type { GitHubClient, RepoRef } from '../github/client.js'
import { setCommitStatus } from '../github/statuses.js'
import type { NotifiedLedger } from '../notify/ledger.js'
import { terminalText } from '../report/escape/terminal.js'

// The dedup record of a dispatched transition's notifications, kept where a re-run of the job can
// read it: one commit status per target told, on the transition commit itself. A re-run of the
// same dispatch (rerun.ts) finds the commit landed and sends again only to the targets that have
// no such status. Reading or writing it never stops a notification: a record that cannot be read
// counts as empty (at worst a target hears twice), one that cannot be written is a warning.
// Only a status a bot set counts (github-actions[bot] under GITHUB_TOKEN, the App under an App
// token): anyone with statuses: write could otherwise set `phasegate/notified: on-call` on a
// transition commit so that a re-run skips the on-call. A person's token sets a User's status.

const CONTEXT_PREFIX = 'phasegate/notified: '

/** The status context saying that `target` was told of the commit's transition. */
export function notifiedContext(target: string): string {
  return `${CONTEXT_PREFIX}${target}`
}

/** The ledger of notifications of the transition committed as `sha`, on its commit statuses. */
export async function commitStatusLedger(
  client: GitHubClient,
  repo: RepoRef,
  sha: string
): Promise<NotifiedLedger> {
  const told = new Set<string>()
  try {
    // The list (newest first) names each status's creator; the combined status does not.
    const { data } = await client.rest.repos.listCommitStatusesForRef({
      ...repo,
      ref: sha,
      per_page: 100
    })
    for (const status of data)
      if (
        status.state === 'success' &&
        status.context.startsWith(CONTEXT_PREFIX) &&
        status.creator?.type === 'Bot'
      )
        told.add(status.context)
  } catch (error) {
    core.warning(
      terminalText(
        `could not read which targets were told of ${sha.slice(0, 10)} (${(error as Error).message}): each is told again`
      )
    )
  }
  return {
    has: async (_key, target) => told.has(notifiedContext(target)),
    add: async (key, target) => {
      told.add(notifiedContext(target))
      try {
        await setCommitStatus(client, repo, sha, {
          state: 'success',
          context: notifiedContext(target),
          description: `told ${target} (${key.split(':')[1] ?? 'event'})`
        })
      } catch (error) {
        core.warning(
          terminalText(
            `could not record on ${sha.slice(0, 10)} that ${target} was told (${(error as Error).message}): a re-run of this job would tell it again`
          )
        )
      }
    }
  }
}
