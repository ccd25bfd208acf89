// The GitHub client: @actions/github's octokit with the retry and throttling plugins, so that
// server errors and secondary rate limits are retried a bounded number of times instead of
// failing a tick, and writes are paced the way GitHub asks integrations to pace them.

import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import Bottleneck from 'bottleneck/light.js'

export interface GitHubClientOptions {
  token: string
  /** REST API base URL; GitHub Enterprise and the test emulator differ from api.github.com. */
  baseUrl?: string
  /** Retries per request after a rate limit or a server error (5xx). */
  retries?: number
  /** The unit of `retry-after` and of the server-error backoff, in ms. GitHub's is a second. */
  retryUnitMs?: number
  /** Minimum ms between writes; GitHub asks for a second, three when the write notifies people. */
  writeIntervalMs?: number
  /** Where rate-limit waits are reported. */
  warn?: (message: string) => void
}

export type GitHubClient = ReturnType<typeof getOctokit>

/** Which repository the helpers act on. */
export interface RepoRef {
  owner: string
  repo: string
}

/** Rate limits whose reset is further away than this fail instead of stalling a run. */
const LONGEST_RATE_LIMIT_WAIT_S = 60

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const retries = options.retries ?? 3
  const unit = options.retryUnitMs ?? 1000
  const warn = options.warn ?? (() => undefined)
  const writeInterval = options.writeIntervalMs
  const paced = (minTime: number) => new Bottleneck.Group({ maxConcurrent: 1, minTime })
  const onLimit =
    (kind: string) =>
    (
      retryAfter: number,
      request: { method: string; url: string },
      _octokit: unknown,
      retryCount: number
    ) => {
      const retrying = retryCount < retries && retryAfter <= LONGEST_RATE_LIMIT_WAIT_S
      warn(
        `GitHub ${kind} rate limit on ${request.method} ${request.url}: ` +
          (retrying
            ? `retrying after ${retryAfter}s (retry ${retryCount + 1} of ${retries})`
            : 'giving up')
      )
      return retrying
    }
  return getOctokit(
    options.token,
    {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      retry: {
        retries,
        retryAfterBaseValue: unit,
        // Rate limits (403/429) are the throttling plugin's to retry, honouring retry-after.
        doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451]
      },
      throttle: {
        retryAfterBaseValue: unit,
        onSecondaryRateLimit: onLimit('secondary'),
        onRateLimit: onLimit('primary'),
        ...(writeInterval === undefined
          ? {}
          : { write: paced(writeInterval), notifications: paced(writeInterval * 3) })
      }
    },
    retry,
    throttling
  )
}
