// A stateful GitHub REST emulator for tests: node:http on 127.0.0.1 (port 0), backed by a real
// bare git repository served over smart HTTP, so `git push` and the API see one repository.
// Every request and response is checked against GitHub's OpenAPI description; a violation is
// answered with 500 and makes close() throw, so the emulator cannot drift from the contract.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadContract } from './contract.js'
import { GitRepository, type CommitIdentity, type EmulatedRuleset } from './git-repository.js'
import { createHandlers, HttpError, type HandlerResult } from './handlers.js'
import type { Site } from './objects.js'
import {
  EmulatorState,
  type EmulatedUser,
  type Permission,
  type ReviewState,
  type RunStatus,
  type TeamRole,
  type UserType,
  type WorkflowRunRecord
} from './state.js'

export type { EmulatedUser, EmulatorState, RecordedRequest } from './state.js'
export type { EmulatedRuleset } from './git-repository.js'

export interface UserOptions {
  login: string
  type?: UserType
  /** Defaults to a token derived from the login. */
  token?: string
  permission?: Permission
}

export interface GitHubEmulatorOptions {
  owner: string
  repo: string
  defaultBranch?: string
  /** Users besides the owner; the first listed (or the owner) is the default `token`'s user. */
  users?: UserOptions[]
  /** "team-slug" -> members of that team in the owner's organisation. */
  teams?: Record<string, string[]>
  /** Files of the first commit on the default branch. */
  files?: Record<string, string>
  /** Refuse direct pushes to the default branch, as GitHub's branch protection does. */
  protectDefaultBranch?: boolean
  /** A repository ruleset on the default branch: pushes breaking it are refused with GH013. */
  ruleset?: EmulatedRuleset
}

export interface Fault {
  method?: string
  /** Matched against the request path (without the query). */
  path: RegExp
  status: 422 | 403 | 429 | 500 | 502 | 503
  /** How many matching requests fail; default 1. */
  times?: number
  /** Seconds, sent as the retry-after header (403 and 429 answer GitHub's secondary rate limit). */
  retryAfter?: number
  /**
   * A 403's message instead of the secondary rate limit's, e.g. "Resource not accessible by
   * integration": GitHub refusing the token, which no retry changes.
   */
  message?: string
  /**
   * The request takes effect but the client still sees the fault, like a gateway timing out
   * after GitHub did the work: the case that duplicates pull requests and issues on retry.
   */
  afterHandling?: boolean
}

export interface AddWorkflowRunOptions {
  name: string
  headSha: string
  headBranch?: string
  event?: string
  status?: RunStatus
  conclusion?: string | null
  path?: string
}

export interface PlantReviewOptions {
  pull: number
  user: string
  state?: ReviewState
  commitId?: string
  body?: string
}

export interface ForkPullRequestOptions {
  /** The fork's owner, who opens the pull request. */
  user: string
  /** The branch in the fork. */
  branch: string
  /** The head commit; it must already be in this repository (it is kept at refs/pull/N/head). */
  sha: string
  base?: string
  title?: string
}

export interface GitHubEmulator {
  /** REST API base URL (octokit's baseUrl). */
  apiUrl: string
  /** Clone URL of the repository, e.g. http://127.0.0.1:PORT/owner/repo.git */
  gitUrl: string
  /** The default user's token. */
  token: string
  owner: string
  repo: string
  defaultBranch: string
  state: EmulatorState
  git: GitRepository
  tokenFor(login: string): string
  /** A token of `login`'s that can only read (403 on writes), like a fork PR's GITHUB_TOKEN. */
  readOnlyTokenFor(login: string): string
  /** The header that authenticates git over HTTP as `login`, for `git -c http.extraHeader=...`. */
  gitAuthHeader(login?: string): string
  inject(fault: Fault): void
  setBranchProtection(enabled: boolean): void
  /** A repository ruleset on the default branch (undefined removes it). */
  setRuleset(ruleset: EmulatedRuleset | undefined): void
  addWorkflowRun(options: AddWorkflowRunOptions): WorkflowRunRecord
  /**
   * Stores a review GitHub's API would refuse (e.g. the author approving their own pull request),
   * for testing that consumers still defend against it.
   */
  plantReview(options: PlantReviewOptions): void
  /** Opens a pull request from `user`'s fork; returns its number. */
  openForkPullRequest(options: ForkPullRequestOptions): number
  /** Commits files on a branch directly in the repository, as a push from elsewhere would. */
  commitFiles(
    branch: string,
    files: Record<string, string | null>,
    message: string,
    author?: CommitIdentity
  ): string
  readFile(ref: string, path: string): string | undefined
  /** API requests answered so far (excluding git traffic). */
  requestCount(): number
  close(): Promise<void>
}

interface ActiveFault extends Fault {
  remaining: number
}

let contract: ReturnType<typeof loadContract> | undefined

const READ_ONLY_SUFFIX = '_readonly'

function defaultToken(login: string): string {
  return `ghs_${Buffer.from(login).toString('hex')}`
}

function sendJson(response: ServerResponse, result: HandlerResult): void {
  const headers: Record<string, string> = {
    'x-github-request-id': `EMU:${Math.random().toString(16).slice(2, 10)}`,
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    ...result.headers
  }
  if (result.body === undefined) {
    response.writeHead(result.status, headers)
    response.end()
    return
  }
  response.writeHead(result.status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8'
  })
  response.end(JSON.stringify(result.body))
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function faultResult(fault: Fault, body: unknown, owner: string): HandlerResult {
  const docs = 'https://docs.github.com/rest'
  if (fault.status === 422) {
    const head = (body as { head?: string } | undefined)?.head ?? 'branch'
    return {
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${head.includes(':') ? head : `${owner}:${head}`}.`
          }
        ],
        documentation_url: `${docs}/pulls/pulls#create-a-pull-request`,
        status: '422'
      }
    }
  }
  if (fault.status === 403 && fault.message !== undefined) {
    return {
      status: 403,
      body: { message: fault.message, documentation_url: docs, status: '403' }
    }
  }
  if (fault.status === 403 || fault.status === 429) {
    return {
      status: fault.status,
      headers: fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) },
      body: {
        message:
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
          'If you reach out to GitHub Support for help, please include the request ID EMU.',
        documentation_url: `${docs}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
        status: String(fault.status)
      }
    }
  }
  return {
    status: fault.status,
    body: {
      message: { 500: 'Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' }[
        fault.status
      ],
      status: String(fault.status)
    }
  }
}

export async function startGitHubEmulator(options: GitHubEmulatorOptions): Promise<GitHubEmulator> {
  contract ??= loadContract()
  const served = contract
  const { owner, repo } = options
  const defaultBranch = options.defaultBranch ?? 'main'
  const state = new EmulatorState()
  const git = new GitRepository(owner, repo, defaultBranch)
  let branchProtected = options.protectDefaultBranch === true
  git.setBranchProtection(branchProtected)
  let ruleset = options.ruleset
  git.setRuleset(ruleset)
  git.commitFiles(defaultBranch, options.files ?? { 'README.md': `# ${repo}\n` }, 'Initial commit')

  const addUser = (user: UserOptions) => {
    const record: EmulatedUser = {
      login: user.login,
      id: 1000 + state.users.size,
      type: user.type ?? (user.login.endsWith('[bot]') ? 'Bot' : 'User'),
      token: user.token ?? defaultToken(user.login),
      name: user.login
    }
    state.users.set(user.login, record)
    if (user.permission) state.permissions.set(user.login, user.permission)
  }
  addUser({ login: owner, permission: 'admin' })
  for (const user of options.users ?? []) addUser(user)
  for (const [slug, members] of Object.entries(options.teams ?? {})) {
    state.teams.set(
      `${owner}/${slug}`,
      new Map(members.map((login): [string, TeamRole] => [login, 'member']))
    )
  }
  const userByToken = new Map([...state.users.values()].map(user => [user.token, user]))
  const faults: ActiveFault[] = []

  let port = 0
  const site: Site = {
    get api() {
      return `http://127.0.0.1:${port}`
    },
    get web() {
      return `http://127.0.0.1:${port}`
    },
    owner,
    repo,
    defaultBranch,
    repoId: 424242,
    createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    user(login) {
      const user = state.users.get(login)
      if (!user) throw new Error(`the emulator has no user "${login}": add it to the users option`)
      return user
    }
  }
  const handlers = createHandlers({
    site,
    state,
    git,
    branchProtected: () => branchProtected,
    ruleset: () => ruleset
  })

  // Read-only tokens, like the GITHUB_TOKEN of a pull_request run from a fork.
  const readOnly = new Set<string>()
  const tokenOf = (header: string): string | undefined => {
    const [scheme, credentials = ''] = header.split(' ', 2)
    if (/^basic$/i.test(scheme ?? '')) {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8')
      return decoded.slice(decoded.indexOf(':') + 1)
    }
    if (/^(token|bearer)$/i.test(scheme ?? '')) return credentials
    return undefined
  }

  function authenticate(header: string | undefined): EmulatedUser | undefined {
    if (!header) return undefined
    const token = tokenOf(header)
    const base = token && readOnly.has(token) ? token.slice(0, -READ_ONLY_SUFFIX.length) : token
    return base === undefined ? undefined : userByToken.get(base)
  }

  async function handleApi(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL
  ): Promise<void> {
    const method = request.method ?? 'GET'
    const user = authenticate(request.headers.authorization)
    const matched = served.match(method, url.pathname)
    const record = {
      method,
      path: url.pathname + url.search,
      operationId: matched?.operation.operationId,
      status: 0,
      user: user?.login
    }
    state.requests.push(record)
    const reply = (result: HandlerResult) => {
      record.status = result.status
      sendJson(response, result)
    }
    if (!user) {
      reply({
        status: 401,
        body: {
          message: request.headers.authorization ? 'Bad credentials' : 'Requires authentication',
          documentation_url: 'https://docs.github.com/rest',
          status: '401'
        }
      })
      return
    }
    const token = tokenOf(request.headers.authorization ?? '')
    if (token && readOnly.has(token) && method !== 'GET' && method !== 'HEAD') {
      reply({
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest',
          status: '403'
        }
      })
      return
    }
    if (!matched) {
      state.violations.push(`${method} ${url.pathname}: no emulated operation serves this request`)
      reply({
        status: 404,
        body: {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest',
          status: '404'
        }
      })
      return
    }
    const { operation, params } = matched
    const raw = await readBody(request)
    let body: unknown
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined
    } catch {
      reply({
        status: 400,
        body: {
          message: 'Problems parsing JSON',
          documentation_url: 'https://docs.github.com/rest',
          status: '400'
        }
      })
      return
    }
    const query = Object.fromEntries(url.searchParams)
    const requestProblems = [
      ...operation.validateParams(params, query),
      ...operation.validateBody(body)
    ]
    if (requestProblems.length > 0) {
      const violation = `${method} ${url.pathname} (${operation.operationId}) request: ${requestProblems.join('; ')}`
      state.violations.push(violation)
      reply({ status: 500, body: { message: `emulator: ${violation}` } })
      return
    }

    let result: HandlerResult
    const fault = faults.find(
      candidate =>
        candidate.remaining > 0 &&
        (!candidate.method || candidate.method.toUpperCase() === method) &&
        candidate.path.test(url.pathname)
    )
    if (fault) fault.remaining -= 1
    if (fault && !fault.afterHandling) {
      result = faultResult(fault, body, owner)
    } else {
      try {
        result = handlers[operation.operationId]!({
          params,
          query,
          body: body as Record<string, unknown>,
          user,
          requestUrl: new URL(url.pathname + url.search, site.api)
        })
      } catch (error) {
        if (!(error instanceof HttpError)) throw error
        result = { status: error.status, body: { message: error.message, ...error.extra } }
      }
      if (fault) result = faultResult(fault, body, owner)
    }
    const responseProblems = operation.validateResponse(result.status, result.body)
    if (responseProblems.length > 0) {
      const violation = `${method} ${url.pathname} (${operation.operationId}) response: ${responseProblems.slice(0, 10).join('; ')}`
      state.violations.push(violation)
      reply({ status: 500, body: { message: `emulator: ${violation}` } })
      return
    }
    reply(result)
  }

  const gitPath = `/${owner}/${repo}.git`
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', site.api)
    if (url.pathname.startsWith(`${gitPath}/`)) {
      const user = authenticate(request.headers.authorization)
      if (!user) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' })
        response.end()
        return
      }
      git.serve(request, response, user.login)
      return
    }
    handleApi(request, response, url).catch((error: unknown) => {
      const violation = `${request.method} ${url.pathname}: emulator crashed: ${error instanceof Error ? error.stack : String(error)}`
      state.violations.push(violation)
      if (!response.headersSent) sendJson(response, { status: 500, body: { message: violation } })
      else response.end()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port

  const firstUser = options.users?.[0]?.login ?? owner
  const tokenFor = (login: string) => {
    const user = state.users.get(login)
    if (!user) throw new Error(`the emulator has no user "${login}": add it to the users option`)
    return user.token
  }
  return {
    apiUrl: site.api,
    gitUrl: `${site.web}${gitPath}`,
    token: tokenFor(firstUser),
    owner,
    repo,
    defaultBranch,
    state,
    git,
    tokenFor,
    readOnlyTokenFor(login) {
      const token = tokenFor(login) + READ_ONLY_SUFFIX
      readOnly.add(token)
      return token
    },
    gitAuthHeader(login = firstUser) {
      const basic = Buffer.from(`x-access-token:${tokenFor(login)}`).toString('base64')
      return `Authorization: Basic ${basic}`
    },
    inject(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 })
    },
    setRuleset(next) {
      ruleset = next
      git.setRuleset(next)
    },
    setBranchProtection(enabled) {
      branchProtected = enabled
      git.setBranchProtection(enabled)
    },
    addWorkflowRun(run) {
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
      const id = state.nextId('run') + 7_000_000
      const record: WorkflowRunRecord = {
        id,
        name: run.name,
        headSha: run.headSha,
        headBranch: run.headBranch ?? defaultBranch,
        event: run.event ?? 'push',
        status: run.status ?? (run.conclusion === null ? 'in_progress' : 'completed'),
        conclusion: run.conclusion === undefined ? 'success' : run.conclusion,
        runNumber: state.workflowRuns.filter(other => other.name === run.name).length + 1,
        workflowId:
          100 +
          [...new Set([...state.workflowRuns.map(other => other.name), run.name])].indexOf(
            run.name
          ),
        path:
          run.path ?? `.github/workflows/${run.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.yml`,
        createdAt: at,
        updatedAt: at
      }
      state.workflowRuns.push(record)
      return record
    },
    openForkPullRequest({ user, branch, sha, base = defaultBranch, title = branch }) {
      site.user(user)
      const baseSha = git.branchSha(base)
      if (!baseSha) throw new Error(`no branch ${base} in the emulator`)
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
      const number = state.nextNumber()
      git.updateRef(`refs/pull/${number}/head`, sha, undefined)
      state.issues.set(number, {
        number,
        id: state.nextId('issue') + 1000,
        title,
        body: null,
        state: 'open',
        stateReason: null,
        user,
        labels: [],
        assignees: [],
        createdAt: at,
        updatedAt: at,
        closedAt: null,
        pull: {
          head: branch,
          headOwner: user,
          base,
          headSha: sha,
          baseSha,
          draft: false,
          mergedAt: null,
          mergedBy: null,
          mergeCommitSha: null,
          requestedReviewers: [],
          requestedTeams: [],
          maintainerCanModify: false
        }
      })
      return number
    },
    plantReview(review) {
      const pull = state.issues.get(review.pull)?.pull
      if (!pull) throw new Error(`#${review.pull} is not a pull request in the emulator`)
      site.user(review.user)
      state.reviews.push({
        id: state.nextId('review') + 80_000,
        pull: review.pull,
        user: review.user,
        state: review.state ?? 'APPROVED',
        body: review.body ?? '',
        commitId:
          review.commitId ??
          (pull.headOwner ? pull.headSha : git.branchSha(pull.head)) ??
          pull.headSha,
        submittedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
      })
    },
    commitFiles: (branch, files, message, author) =>
      git.commitFiles(branch, files, message, author),
    readFile: (ref, path) => git.readFile(ref, path),
    requestCount: () => state.requests.length,
    async close() {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      git.remove()
      if (state.violations.length > 0) {
        throw new Error(
          `the GitHub emulator saw contract violations:\n- ${state.violations.join('\n- ')}`
        )
      }
    }
  }
}
