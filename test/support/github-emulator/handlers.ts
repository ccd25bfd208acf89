// The emulator's behaviour per GitHub operation. Handlers read and change EmulatorState and the
// bare repository; the server around them authenticates, injects faults and checks the contract.

import { rulesetViolations, type EmulatedRuleset, type GitRepository } from './git-repository.js'
import {
  renderCheckRun,
  renderComment,
  renderCombinedStatus,
  renderDeployment,
  renderDeploymentStatus,
  renderGitRef,
  renderIssue,
  renderLabel,
  renderPublicUser,
  renderPull,
  renderRepository,
  renderReview,
  renderStatus,
  renderUser,
  renderWorkflowRun,
  type Site
} from './objects.js'
import type {
  CommitState,
  EmulatedUser,
  EmulatorState,
  IssueRecord,
  LabelRecord,
  ReviewState
} from './state.js'

export interface HandlerContext {
  params: Record<string, string>
  query: Record<string, string>
  body: Record<string, unknown> | unknown[] | undefined
  user: EmulatedUser
  /** Base of this request's URL, for pagination links. */
  requestUrl: URL
}

export interface HandlerResult {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {}
  ) {
    super(message)
  }
}

const DOCS = 'https://docs.github.com/rest'

function notFound(): HttpError {
  return new HttpError(404, 'Not Found', { documentation_url: DOCS, status: '404' })
}

function validationFailed(errors: unknown[], message = 'Validation Failed'): HttpError {
  return new HttpError(422, message, { errors, documentation_url: DOCS, status: '422' })
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

interface World {
  site: Site
  state: EmulatorState
  git: GitRepository
  branchProtected(): boolean
  ruleset(): EmulatedRuleset | undefined
}

type Handler = (context: HandlerContext) => HandlerResult

function stringField(body: HandlerContext['body'], key: string): string | undefined {
  if (!body || Array.isArray(body)) return undefined
  const value = body[key]
  return typeof value === 'string' ? value : undefined
}

function paginate(context: HandlerContext, items: unknown[]): HandlerResult {
  const perPage = Math.min(Number(context.query.per_page ?? 30) || 30, 100)
  const page = Math.max(Number(context.query.page ?? 1) || 1, 1)
  const last = Math.max(Math.ceil(items.length / perPage), 1)
  const links: string[] = []
  const link = (target: number, rel: string) => {
    const url = new URL(context.requestUrl)
    url.searchParams.set('per_page', String(perPage))
    url.searchParams.set('page', String(target))
    links.push(`<${url.toString()}>; rel="${rel}"`)
  }
  if (page < last) {
    link(page + 1, 'next')
    link(last, 'last')
  }
  if (page > 1) {
    link(1, 'first')
    link(page - 1, 'prev')
  }
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {}
  }
}

export function createHandlers(world: World): Record<string, Handler> {
  const { site, state, git } = world

  function issue(number: string | undefined): IssueRecord {
    const found = state.issues.get(Number(number))
    if (!found) throw notFound()
    return found
  }

  function pull(number: string | undefined): IssueRecord {
    const found = issue(number)
    if (!found.pull) throw notFound()
    refreshPull(found)
    return found
  }

  /**
   * GitHub tracks the branches of an open pull request: its SHAs follow the real refs, and
   * deleting its head branch closes it.
   */
  function refreshPull(record: IssueRecord): void {
    const pr = record.pull
    if (!pr || record.state !== 'open') return
    const refs = git.refs()
    const pullRef = `refs/pull/${record.number}/head`
    // A fork's pushes reach this repository only as refs/pull/N/head.
    const head = pr.headOwner ? refs.get(pullRef) : refs.get(`refs/heads/${pr.head}`)
    pr.baseSha = refs.get(`refs/heads/${pr.base}`) ?? pr.baseSha
    if (head) {
      pr.headSha = head
      if (refs.get(pullRef) !== head) git.updateRef(pullRef, head, refs.get(pullRef))
      return
    }
    record.state = 'closed'
    record.closedAt = now()
    record.updatedAt = record.closedAt
  }

  function labelsOf(record: IssueRecord): LabelRecord[] {
    return record.labels.flatMap(name => {
      const label = state.labels.get(name)
      return label ? [label] : []
    })
  }

  function ensureLabel(name: string): void {
    if (state.labels.has(name)) return
    state.labels.set(name, { id: state.nextId('label'), name, color: 'ededed', description: null })
  }

  function commentCount(number: number): number {
    return state.comments.filter(comment => comment.issue === number).length
  }

  function renderFullPull(record: IssueRecord): Record<string, unknown> {
    const pr = record.pull!
    const files = git.objectExists(pr.headSha) ? git.changedFiles(pr.baseSha, pr.headSha) : []
    return renderPull(site, record, {
      labels: labelsOf(record),
      comments: commentCount(record.number),
      commits: git.objectExists(pr.headSha) ? git.commitCount(pr.baseSha, pr.headSha) : 0,
      additions: files.reduce((sum, file) => sum + file.additions, 0),
      deletions: files.reduce((sum, file) => sum + file.deletions, 0),
      changedFiles: files.length,
      mergeable: record.state === 'open' ? git.mergeable(pr.baseSha, pr.headSha) : null
    })
  }

  function renderListedPull(record: IssueRecord): Record<string, unknown> {
    return renderPull(site, record, undefined)
  }

  function renderIssueRecord(record: IssueRecord): Record<string, unknown> {
    return renderIssue(site, record, labelsOf(record), commentCount(record.number))
  }

  function branchOf(head: string): string {
    const colon = head.indexOf(':')
    if (colon === -1) return head
    if (head.slice(0, colon) !== site.owner)
      throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }])
    return head.slice(colon + 1)
  }

  function labelNames(value: unknown): string[] {
    if (!Array.isArray(value)) return []
    return value.flatMap(item =>
      typeof item === 'string'
        ? [item]
        : item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string'
          ? [(item as { name: string }).name]
          : []
    )
  }

  function userExists(login: string): boolean {
    return state.users.has(login)
  }

  function shaOf(ref: string): string {
    const sha =
      (/^[0-9a-f]{40}$/.test(ref) && git.objectExists(ref) ? ref : undefined) ??
      git.resolve(`refs/heads/${ref}`) ??
      git.resolve(`refs/tags/${ref}`) ??
      git.resolve(ref)
    if (!sha)
      throw new HttpError(404, `No commit found for SHA: ${ref}`, {
        documentation_url: DOCS,
        status: '404'
      })
    return sha
  }

  function fullRef(ref: string): string {
    return ref.startsWith('refs/') ? ref : `refs/${ref}`
  }

  function repoApi(): string {
    return `${site.api}/repos/${site.owner}/${site.repo}`
  }

  function defaultBranchRef(): string {
    return `refs/heads/${site.defaultBranch}`
  }

  return {
    'repos/get': () => ({ status: 200, body: renderRepository(site) }),

    'pulls/list': context => {
      const stateFilter = context.query.state ?? 'open'
      const head = context.query.head
      // GitHub ignores a head filter without the "owner:" prefix instead of applying it.
      const headBranch = head?.includes(':') ? head.slice(head.indexOf(':') + 1) : undefined
      const headOwner = head?.includes(':') ? head.slice(0, head.indexOf(':')) : undefined
      const pulls = state
        .pulls()
        .filter(record => stateFilter === 'all' || record.state === stateFilter)
        .filter(
          record =>
            headBranch === undefined ||
            (headOwner === site.owner && record.pull!.head === headBranch)
        )
        .filter(record => !context.query.base || record.pull!.base === context.query.base)
        .sort((a, b) =>
          context.query.direction === 'asc' ? a.number - b.number : b.number - a.number
        )
      pulls.forEach(refreshPull)
      return paginate(context, pulls.map(renderListedPull))
    },

    'pulls/create': context => {
      const head = branchOf(stringField(context.body, 'head') ?? '')
      const base = stringField(context.body, 'base') ?? ''
      const headSha = git.branchSha(head)
      const baseSha = git.branchSha(base)
      if (!headSha)
        throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }])
      if (!baseSha)
        throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }])
      const existing = state
        .pulls()
        .find(
          record =>
            record.state === 'open' && record.pull!.head === head && record.pull!.base === base
        )
      if (existing) {
        throw validationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${site.owner}:${head}.`
          }
        ])
      }
      if (git.commitCount(baseSha, headSha) === 0) {
        throw validationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `No commits between ${base} and ${head}`
          }
        ])
      }
      const title = stringField(context.body, 'title')
      if (!title)
        throw validationFailed([{ resource: 'PullRequest', field: 'title', code: 'missing_field' }])
      const at = now()
      const record: IssueRecord = {
        number: state.nextNumber(),
        id: state.nextId('issue') + 1000,
        title,
        body: stringField(context.body, 'body') ?? null,
        state: 'open',
        stateReason: null,
        user: context.user.login,
        labels: [],
        assignees: [],
        createdAt: at,
        updatedAt: at,
        closedAt: null,
        pull: {
          head,
          base,
          headSha,
          baseSha,
          draft: (context.body as { draft?: boolean }).draft === true,
          mergedAt: null,
          mergedBy: null,
          mergeCommitSha: null,
          requestedReviewers: [],
          requestedTeams: [],
          maintainerCanModify:
            (context.body as { maintainer_can_modify?: boolean }).maintainer_can_modify !== false
        }
      }
      state.issues.set(record.number, record)
      git.updateRef(`refs/pull/${record.number}/head`, headSha, undefined)
      return { status: 201, body: renderFullPull(record) }
    },

    'pulls/get': context => ({
      status: 200,
      body: renderFullPull(pull(context.params.pull_number))
    }),

    'pulls/update': context => {
      const record = pull(context.params.pull_number)
      const body = (context.body ?? {}) as Record<string, unknown>
      if (typeof body.title === 'string') record.title = body.title
      if (typeof body.body === 'string') record.body = body.body
      if (typeof body.base === 'string') {
        if (!git.branchSha(body.base))
          throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }])
        record.pull!.base = body.base
      }
      if (body.state === 'closed' && record.state === 'open') {
        record.state = 'closed'
        record.closedAt = now()
      } else if (body.state === 'open' && record.state === 'closed') {
        if (record.pull!.mergedAt)
          throw validationFailed([
            {
              resource: 'PullRequest',
              code: 'custom',
              message: 'Cannot reopen a merged pull request'
            }
          ])
        const clash = state
          .pulls()
          .find(
            other =>
              other.state === 'open' &&
              other.pull!.head === record.pull!.head &&
              other.pull!.base === record.pull!.base
          )
        if (clash)
          throw validationFailed([
            {
              resource: 'PullRequest',
              code: 'custom',
              message: `A pull request already exists for ${site.owner}:${record.pull!.head}.`
            }
          ])
        record.state = 'open'
        record.closedAt = null
      }
      record.updatedAt = now()
      refreshPull(record)
      return { status: 200, body: renderFullPull(record) }
    },

    'pulls/merge': context => {
      const record = pull(context.params.pull_number)
      const pr = record.pull!
      const body = (context.body ?? {}) as Record<string, unknown>
      if (record.state !== 'open') {
        throw new HttpError(405, 'Pull Request is not mergeable', {
          documentation_url: DOCS,
          status: '405'
        })
      }
      if (typeof body.sha === 'string' && body.sha !== pr.headSha) {
        throw new HttpError(409, 'Head branch was modified. Review and try the merge again.', {
          documentation_url: DOCS,
          status: '409'
        })
      }
      const method = (body.merge_method as string | undefined) ?? 'merge'
      if (method !== 'merge' && method !== 'squash') {
        throw new HttpError(405, 'Rebase merges are not allowed on this repository.', {
          documentation_url: DOCS,
          status: '405'
        })
      }
      const title =
        (body.commit_title as string | undefined) ??
        (method === 'squash'
          ? `${record.title} (#${record.number})`
          : `Merge pull request #${record.number} from ${site.owner}/${pr.head}`)
      const detail =
        (body.commit_message as string | undefined) ??
        (method === 'squash' ? (record.body ?? '') : record.title)
      const message = detail ? `${title}\n\n${detail}` : title
      const author = context.user
      const merged = git.merge(pr.base, pr.headSha, method, message, {
        name: author.name ?? author.login,
        email: `${author.id}+${author.login}@users.noreply.github.com`
      })
      if ('refused' in merged) {
        const refusal =
          merged.refused === 'conflict'
            ? 'Pull Request is not mergeable'
            : 'Base branch was modified. Review and try the merge again.'
        throw new HttpError(405, refusal, { documentation_url: DOCS, status: '405' })
      }
      const { sha } = merged
      const at = now()
      pr.baseSha = git.resolve(`${sha}^1`) ?? pr.baseSha
      pr.mergedAt = at
      pr.mergedBy = author.login
      pr.mergeCommitSha = sha
      record.state = 'closed'
      record.closedAt = at
      record.updatedAt = at
      return {
        status: 200,
        body: { sha, merged: true, message: 'Pull Request successfully merged' }
      }
    },

    'pulls/list-files': context => {
      const record = pull(context.params.pull_number)
      const pr = record.pull!
      const blob = (sha: string, path: string) =>
        `${site.web}/${site.owner}/${site.repo}/blob/${sha}/${path}`
      const files = git.changedFiles(pr.baseSha, pr.headSha).map(file => ({
        sha: file.blobSha,
        filename: file.filename,
        status: file.status,
        additions: file.additions,
        deletions: file.deletions,
        changes: file.additions + file.deletions,
        blob_url: blob(pr.headSha, file.filename),
        raw_url: `${site.web}/${site.owner}/${site.repo}/raw/${pr.headSha}/${file.filename}`,
        contents_url: `${site.api}/repos/${site.owner}/${site.repo}/contents/${file.filename}?ref=${pr.headSha}`,
        patch: file.patch
      }))
      return paginate(context, files)
    },

    'pulls/request-reviewers': context => {
      const record = pull(context.params.pull_number)
      const body = (context.body ?? {}) as { reviewers?: string[]; team_reviewers?: string[] }
      for (const login of body.reviewers ?? []) {
        if (login === record.user) {
          throw validationFailed([], 'Review cannot be requested from pull request author.')
        }
        if (!userExists(login)) {
          throw validationFailed(
            [],
            'Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ' +
              `${site.owner}/${site.repo} repository.`
          )
        }
      }
      for (const slug of body.team_reviewers ?? []) {
        if (!state.teams.has(`${site.owner}/${slug}`)) {
          throw validationFailed([], `Could not resolve to a node with the global id of '${slug}'.`)
        }
      }
      const pr = record.pull!
      pr.requestedReviewers = [...new Set([...pr.requestedReviewers, ...(body.reviewers ?? [])])]
      pr.requestedTeams = [...new Set([...pr.requestedTeams, ...(body.team_reviewers ?? [])])]
      return { status: 201, body: renderListedPull(record) }
    },

    'pulls/list-reviews': context => {
      const record = pull(context.params.pull_number)
      const reviews = state.reviews.filter(
        review =>
          review.pull === record.number &&
          (review.state !== 'PENDING' || review.user === context.user.login)
      )
      return paginate(
        context,
        reviews.map(review => renderReview(site, review))
      )
    },

    'pulls/create-review': context => {
      const record = pull(context.params.pull_number)
      const body = (context.body ?? {}) as { commit_id?: string; body?: string; event?: string }
      const states: Record<string, ReviewState> = {
        APPROVE: 'APPROVED',
        REQUEST_CHANGES: 'CHANGES_REQUESTED',
        COMMENT: 'COMMENTED'
      }
      const reviewState = body.event ? states[body.event] : 'PENDING'
      if (!reviewState)
        throw validationFailed([`Unknown review event ${body.event}`], 'Unprocessable Entity')
      if (record.user === context.user.login && reviewState === 'APPROVED') {
        throw validationFailed(['Can not approve your own pull request'], 'Unprocessable Entity')
      }
      if (record.user === context.user.login && reviewState === 'CHANGES_REQUESTED') {
        throw validationFailed(
          ['Can not request changes on your own pull request'],
          'Unprocessable Entity'
        )
      }
      if ((reviewState === 'CHANGES_REQUESTED' || reviewState === 'COMMENTED') && !body.body) {
        throw validationFailed(
          [`Body is required when using ${body.event}`],
          'Unprocessable Entity'
        )
      }
      const commitId = body.commit_id ?? record.pull!.headSha
      if (!git.objectExists(commitId))
        throw validationFailed(['Commit not found'], 'Unprocessable Entity')
      const review = {
        id: state.nextId('review') + 80_000,
        pull: record.number,
        user: context.user.login,
        state: reviewState,
        body: body.body ?? '',
        commitId,
        submittedAt: reviewState === 'PENDING' ? null : now()
      }
      state.reviews.push(review)
      return { status: 200, body: renderReview(site, review) }
    },

    'issues/list-for-repo': context => {
      const stateFilter = context.query.state ?? 'open'
      const wanted = context.query.labels
        ? context.query.labels.split(',').map(name => name.trim())
        : []
      const issues = [...state.issues.values()]
        .filter(record => stateFilter === 'all' || record.state === stateFilter)
        .filter(record => wanted.every(name => record.labels.includes(name)))
        .filter(record => !context.query.creator || record.user === context.query.creator)
        .sort((a, b) =>
          context.query.direction === 'asc' ? a.number - b.number : b.number - a.number
        )
      return paginate(context, issues.map(renderIssueRecord))
    },

    'issues/create': context => {
      const body = (context.body ?? {}) as Record<string, unknown>
      const at = now()
      const labels = labelNames(body.labels)
      labels.forEach(ensureLabel)
      const record: IssueRecord = {
        number: state.nextNumber(),
        id: state.nextId('issue') + 1000,
        title: String(body.title),
        body: typeof body.body === 'string' ? body.body : null,
        state: 'open',
        stateReason: null,
        user: context.user.login,
        labels,
        assignees: Array.isArray(body.assignees) ? (body.assignees as string[]) : [],
        createdAt: at,
        updatedAt: at,
        closedAt: null
      }
      for (const login of record.assignees) {
        if (!userExists(login))
          throw validationFailed([
            { resource: 'Issue', field: 'assignees', code: 'invalid', value: login }
          ])
      }
      state.issues.set(record.number, record)
      return { status: 201, body: renderIssueRecord(record) }
    },

    'issues/get': context => ({
      status: 200,
      body: renderIssueRecord(issue(context.params.issue_number))
    }),

    'issues/update': context => {
      const record = issue(context.params.issue_number)
      const body = (context.body ?? {}) as Record<string, unknown>
      if (typeof body.title === 'string' || typeof body.title === 'number')
        record.title = String(body.title)
      if (body.body !== undefined) record.body = typeof body.body === 'string' ? body.body : null
      if (body.labels !== undefined) {
        record.labels = labelNames(body.labels)
        record.labels.forEach(ensureLabel)
      }
      if (Array.isArray(body.assignees)) record.assignees = body.assignees as string[]
      if (body.state === 'closed' && record.state === 'open') {
        record.state = 'closed'
        record.closedAt = now()
        record.stateReason = (body.state_reason as IssueRecord['stateReason']) ?? 'completed'
      } else if (body.state === 'open' && record.state === 'closed') {
        record.state = 'open'
        record.closedAt = null
        record.stateReason = 'reopened'
      }
      record.updatedAt = now()
      return { status: 200, body: renderIssueRecord(record) }
    },

    'issues/list-comments': context => {
      const record = issue(context.params.issue_number)
      const comments = state.comments.filter(comment => comment.issue === record.number)
      return paginate(
        context,
        comments.map(comment => renderComment(site, comment))
      )
    },

    'issues/create-comment': context => {
      const record = issue(context.params.issue_number)
      const at = now()
      const comment = {
        id: state.nextId('comment') + 500_000,
        issue: record.number,
        user: context.user.login,
        body: stringField(context.body, 'body') ?? '',
        createdAt: at,
        updatedAt: at
      }
      state.comments.push(comment)
      record.updatedAt = at
      return { status: 201, body: renderComment(site, comment) }
    },

    'issues/add-labels': context => {
      const record = issue(context.params.issue_number)
      const names = Array.isArray(context.body)
        ? labelNames(context.body)
        : labelNames((context.body as { labels?: unknown } | undefined)?.labels)
      names.forEach(ensureLabel)
      record.labels = [...new Set([...record.labels, ...names])]
      record.updatedAt = now()
      return { status: 200, body: labelsOf(record).map(label => renderLabel(site, label)) }
    },

    'repos/create-commit-status': context => {
      const sha = context.params.sha ?? ''
      if (!git.objectExists(sha)) {
        throw validationFailed([], `No commit found for SHA: ${sha}`)
      }
      const status = {
        id: state.nextId('status') + 9000,
        sha,
        state: stringField(context.body, 'state') as CommitState,
        context: stringField(context.body, 'context') ?? 'default',
        description: stringField(context.body, 'description') ?? null,
        targetUrl: stringField(context.body, 'target_url') ?? null,
        creator: context.user.login,
        createdAt: now()
      }
      state.statuses.push(status)
      return { status: 201, body: renderStatus(site, status) }
    },

    'repos/create-deployment': context => {
      const ref = stringField(context.body, 'ref') ?? ''
      const sha = shaOf(ref)
      if (!git.objectExists(sha)) throw validationFailed([], `No ref found for: ${ref}`)
      const environment = stringField(context.body, 'environment') ?? 'production'
      const deployment = {
        id: state.nextId('deployment') + 4000,
        sha,
        ref,
        task: stringField(context.body, 'task') ?? 'deploy',
        environment,
        description: stringField(context.body, 'description') ?? null,
        payload: (context.body as Record<string, unknown>).payload ?? {},
        productionEnvironment:
          ((context.body as Record<string, unknown>).production_environment as
            boolean | undefined) ?? environment === 'production',
        transientEnvironment:
          ((context.body as Record<string, unknown>).transient_environment as
            boolean | undefined) ?? false,
        creator: context.user.login,
        createdAt: now(),
        statuses: []
      }
      state.deployments.push(deployment)
      return { status: 201, body: renderDeployment(site, deployment) }
    },

    'repos/list-deployments': context => {
      const environment = context.query.environment
      const found = state.deployments
        .filter(d => !environment || d.environment === environment)
        .sort((a, b) => b.id - a.id)
      return { status: 200, body: found.map(d => renderDeployment(site, d)) }
    },

    'repos/create-deployment-status': context => {
      const deployment = state.deployments.find(d => d.id === Number(context.params.deployment_id))
      if (!deployment) throw notFound()
      const status = {
        id: state.nextId('deployment-status') + 7000,
        state: stringField(context.body, 'state') ?? 'pending',
        description: stringField(context.body, 'description') ?? '',
        environmentUrl: stringField(context.body, 'environment_url') ?? '',
        logUrl: stringField(context.body, 'log_url') ?? '',
        creator: context.user.login,
        createdAt: now()
      }
      deployment.statuses.push(status)
      return { status: 201, body: renderDeploymentStatus(site, deployment, status) }
    },

    'repos/list-deployment-statuses': context => {
      const deployment = state.deployments.find(d => d.id === Number(context.params.deployment_id))
      if (!deployment) throw notFound()
      return {
        status: 200,
        body: [...deployment.statuses]
          .reverse()
          .map(s => renderDeploymentStatus(site, deployment, s))
      }
    },

    'repos/list-commit-statuses-for-ref': context => {
      const sha = shaOf(context.params.ref ?? '')
      const statuses = state.statuses.filter(s => s.sha === sha).sort((a, b) => b.id - a.id)
      return { status: 200, body: statuses.map(status => renderStatus(site, status)) }
    },

    'repos/get-combined-status-for-ref': context => {
      const sha = shaOf(context.params.ref ?? '')
      const latest = new Map<string, (typeof state.statuses)[number]>()
      for (const status of state.statuses)
        if (status.sha === sha) latest.set(status.context, status)
      const statuses = [...latest.values()].sort((a, b) => b.id - a.id)
      return { status: 200, body: renderCombinedStatus(site, sha, statuses) }
    },

    'checks/list-for-ref': context => {
      const sha = shaOf(context.params.ref ?? '')
      let runs = state.checkRuns
        .filter(run => run.headSha === sha)
        .filter(run => !context.query.check_name || run.name === context.query.check_name)
        .filter(run => !context.query.status || run.status === context.query.status)
        .sort((a, b) => b.id - a.id)
      if ((context.query.filter ?? 'latest') === 'latest') {
        const seen = new Set<string>()
        runs = runs.filter(run => !seen.has(run.name) && seen.add(run.name))
      }
      const page = paginate(
        context,
        runs.map(run => renderCheckRun(site, run))
      )
      return { ...page, body: { total_count: runs.length, check_runs: page.body } }
    },

    'checks/create': context => {
      // Only GitHub Apps create check runs; the run carries the app it came from.
      if (context.user.type !== 'Bot')
        throw new HttpError(403, 'You must authenticate via a GitHub App.')
      const body = (context.body ?? {}) as Record<string, unknown>
      const headSha = String(body.head_sha)
      if (!git.objectExists(headSha))
        throw validationFailed([], 'No commit found for SHA: ' + headSha)
      const conclusion = typeof body.conclusion === 'string' ? body.conclusion : null
      const status = conclusion ? 'completed' : ((body.status as string | undefined) ?? 'queued')
      const at = now()
      const output = (body.output ?? {}) as { title?: string; summary?: string }
      const run = {
        id: state.nextId('check') + 4_000_000,
        headSha,
        name: String(body.name),
        app: context.user.login.replace(/\[bot\]$/, ''),
        status: status as 'completed',
        conclusion,
        startedAt: typeof body.started_at === 'string' ? body.started_at : at,
        completedAt:
          status === 'completed'
            ? typeof body.completed_at === 'string'
              ? body.completed_at
              : at
            : null,
        externalId: typeof body.external_id === 'string' ? body.external_id : '',
        detailsUrl: typeof body.details_url === 'string' ? body.details_url : null,
        title: output.title ?? null,
        summary: output.summary ?? null
      }
      state.checkRuns.push(run)
      return { status: 201, body: renderCheckRun(site, run) }
    },

    'actions/list-workflow-runs-for-repo': context => {
      const runs = state.workflowRuns
        .filter(run => !context.query.head_sha || run.headSha === context.query.head_sha)
        .filter(run => !context.query.branch || run.headBranch === context.query.branch)
        .filter(run => !context.query.event || run.event === context.query.event)
        .filter(
          run =>
            !context.query.status ||
            run.status === context.query.status ||
            run.conclusion === context.query.status
        )
        .sort((a, b) => b.id - a.id)
      const page = paginate(
        context,
        runs.map(run => renderWorkflowRun(site, run))
      )
      return { ...page, body: { total_count: runs.length, workflow_runs: page.body } }
    },

    'git/create-blob': context => {
      const content = stringField(context.body, 'content') ?? ''
      const encoding = stringField(context.body, 'encoding') ?? 'utf-8'
      if (encoding !== 'utf-8' && encoding !== 'base64')
        throw validationFailed([], `encoding must be utf-8 or base64, not ${encoding}`)
      const sha = git.writeBlob(Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'))
      return { status: 201, body: { url: `${repoApi()}/git/blobs/${sha}`, sha } }
    },

    'git/create-tree': context => {
      const body = (context.body ?? {}) as {
        base_tree?: string
        tree?: Array<{ path?: string; mode?: string; type?: string; sha?: string | null }>
      }
      if (body.base_tree !== undefined && !git.isTree(body.base_tree))
        throw validationFailed([], 'base_tree is not a valid tree oid')
      const entries = (body.tree ?? []).map(entry => {
        if (!entry.path || !entry.mode)
          throw validationFailed([], 'tree entries need path and mode')
        if (entry.type !== 'blob')
          throw new Error('the emulator builds trees of blobs only (type: blob)')
        return { path: entry.path, mode: entry.mode, sha: entry.sha ?? null }
      })
      const sha = git.writeTree(body.base_tree, entries)
      return {
        status: 201,
        body: {
          sha,
          url: `${repoApi()}/git/trees/${sha}`,
          truncated: false,
          tree: git
            .treeEntries(sha)
            .map(e => ({ ...e, url: `${repoApi()}/git/${e.type}s/${e.sha}` }))
        }
      }
    },

    'git/create-commit': context => {
      const body = (context.body ?? {}) as { message?: string; tree?: string; parents?: string[] }
      if (!body.tree || !git.isTree(body.tree))
        throw validationFailed([], 'Tree SHA does not exist')
      const parents = body.parents ?? []
      for (const parent of parents)
        if (!git.objectExists(parent))
          throw validationFailed([], 'Parent SHA does not exist or is not a commit object')
      // Without author and committer, GitHub makes the commit as the token's user and signs it.
      const who = {
        name: context.user.login,
        email: `${context.user.id}+${context.user.login}@users.noreply.github.com`
      }
      const date = now()
      const sha = git.writeCommit(body.tree, parents, body.message ?? '', who, date)
      state.signedCommits.add(sha)
      const url = `${repoApi()}/git/commits/${sha}`
      return {
        status: 201,
        body: {
          sha,
          node_id: `C_${sha.slice(0, 12)}`,
          url,
          html_url: `${site.web}/${site.owner}/${site.repo}/commit/${sha}`,
          author: { ...who, date },
          committer: { ...who, date },
          tree: { sha: body.tree, url: `${repoApi()}/git/trees/${body.tree}` },
          message: body.message ?? '',
          parents: parents.map(p => ({
            sha: p,
            url: `${repoApi()}/git/commits/${p}`,
            html_url: `${site.web}/${site.owner}/${site.repo}/commit/${p}`
          })),
          verification: {
            verified: true,
            reason: 'valid',
            signature: '-----BEGIN PGP SIGNATURE-----\n(emulated)\n-----END PGP SIGNATURE-----',
            payload: `tree ${body.tree}\n`,
            verified_at: date
          }
        }
      }
    },

    'git/get-ref': context => {
      const ref = fullRef(context.params.ref ?? '')
      const sha = git.refs().get(ref)
      if (!sha) throw notFound()
      return { status: 200, body: renderGitRef(site, ref, sha) }
    },

    'git/create-ref': context => {
      const ref = stringField(context.body, 'ref') ?? ''
      const sha = stringField(context.body, 'sha') ?? ''
      if (!/^refs\/[^/]+\/.+/.test(ref))
        throw validationFailed([], `${ref} is not a valid ref name.`)
      if (git.refs().has(ref)) throw validationFailed([], 'Reference already exists')
      if (!git.objectExists(sha)) throw validationFailed([], 'Object does not exist')
      git.updateRef(ref, sha, undefined)
      return { status: 201, body: renderGitRef(site, ref, sha) }
    },

    'git/update-ref': context => {
      const ref = fullRef(context.params.ref ?? '')
      const sha = stringField(context.body, 'sha') ?? ''
      const current = git.refs().get(ref)
      if (!current) throw validationFailed([], 'Reference does not exist')
      if (!git.objectExists(sha)) throw validationFailed([], 'Object does not exist')
      if (ref === defaultBranchRef() && world.branchProtected()) {
        throw validationFailed([], `Protected branch update failed for ${ref}.`)
      }
      const ruleset = world.ruleset()
      if (ref === defaultBranchRef() && ruleset && !ruleset.bypass?.includes(context.user.login)) {
        const broken = rulesetViolations(ruleset).filter(
          rule =>
            !(
              rule.startsWith('Commits must have verified signatures') &&
              state.signedCommits.has(sha)
            )
        )
        if (broken.length)
          throw validationFailed(
            [],
            `Repository rule violations found\n\n${broken.join('\n\n')}\n\n`
          )
      }
      const force = (context.body as { force?: boolean }).force === true
      if (!force && !git.isAncestor(current, sha))
        throw validationFailed([], 'Update is not a fast forward')
      git.updateRef(ref, sha, current)
      return { status: 200, body: renderGitRef(site, ref, sha) }
    },

    'git/delete-ref': context => {
      const ref = fullRef(context.params.ref ?? '')
      if (!git.refs().has(ref)) throw validationFailed([], 'Reference does not exist')
      if (ref === defaultBranchRef() && world.branchProtected()) {
        throw validationFailed([], `Protected branch update failed for ${ref}.`)
      }
      git.deleteRef(ref)
      return { status: 204 }
    },

    'teams/get-membership-for-user-in-org': context => {
      const team = state.teams.get(`${context.params.org}/${context.params.team_slug}`)
      const role = team?.get(context.params.username ?? '')
      if (!role) throw notFound()
      return {
        status: 200,
        body: {
          url: `${site.api}/teams/${context.params.team_slug}/memberships/${context.params.username}`,
          role,
          state: 'active'
        }
      }
    },

    'users/get-by-username': context => {
      const user = state.users.get(context.params.username ?? '')
      if (!user) throw notFound()
      return { status: 200, body: renderPublicUser(site, user) }
    },

    'repos/get-collaborator-permission-level': context => {
      const user = state.users.get(context.params.username ?? '')
      if (!user) throw notFound()
      const permission =
        state.permissions.get(user.login) ?? (user.login === site.owner ? 'admin' : 'read')
      // The legacy `permission` field only knows admin, write, read and none.
      const legacy =
        permission === 'maintain' ? 'write' : permission === 'triage' ? 'read' : permission
      const flags = {
        admin: permission === 'admin',
        maintain: ['admin', 'maintain'].includes(permission),
        push: ['admin', 'maintain', 'write'].includes(permission),
        triage: ['admin', 'maintain', 'write', 'triage'].includes(permission),
        pull: permission !== 'none'
      }
      return {
        status: 200,
        body: {
          permission: legacy,
          role_name: permission,
          user: { ...renderUser(site, user), permissions: flags, role_name: permission }
        }
      }
    }
  }
}
