/** An HTTP error answer from GitHub, as octokit throws it (its RequestError). */
export interface GitHubRequestError extends Error {
  status: number
  response?: { data?: unknown }
}

/** Whether GitHub answered with an error status, as opposed to a network or programming error. */
export function isRequestError(error: unknown): error is GitHubRequestError {
  return (
    error instanceof Error &&
    error.name === 'HttpError' &&
    typeof (error as { status?: unknown }).status === 'number'
  )
}
