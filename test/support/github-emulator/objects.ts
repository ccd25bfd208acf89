// Renders the emulator's records as the JSON GitHub sends. Field sets follow the OpenAPI
// schemas; every response is validated against them, so a missing field fails loudly.

import type {
  CheckRunRecord,
  CommentRecord,
  EmulatedUser,
  IssueRecord,
  LabelRecord,
  ReviewRecord,
  StatusRecord,
  DeploymentRecord,
  WorkflowRunRecord
} from './state.js'

const EPOCH = '2026-01-01T00:00:00Z'

export interface Site {
  /** Base of the REST API, e.g. http://127.0.0.1:PORT */
  api: string
  /** Base of web pages and git, e.g. http://127.0.0.1:PORT */
  web: string
  owner: string
  repo: string
  defaultBranch: string
  repoId: number
  createdAt: string
  user(login: string): EmulatedUser
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64')
}

export function renderUser(site: Site, user: EmulatedUser): Record<string, unknown> {
  // Bot logins end in "[bot]", which GitHub percent-encodes in URLs.
  const login = encodeURIComponent(user.login)
  const url = `${site.api}/users/${login}`
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type, user.id),
    avatar_url: `${site.web}/avatars/${login}`,
    gravatar_id: '',
    url,
    html_url: `${site.web}/${user.type === 'Bot' ? `apps/${user.login.replace('[bot]', '')}` : login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: user.type,
    site_admin: false,
    user_view_type: 'public'
  }
}

function userByLogin(site: Site, login: string): Record<string, unknown> {
  return renderUser(site, site.user(login))
}

export function renderPublicUser(site: Site, user: EmulatedUser): Record<string, unknown> {
  return {
    ...renderUser(site, user),
    name: user.name,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: EPOCH,
    updated_at: EPOCH
  }
}

/** The repository, or (with `forkOwner`) that owner's fork of it. */
export function renderRepository(site: Site, forkOwner?: string): Record<string, unknown> {
  const owner = forkOwner ?? site.owner
  const fullName = `${owner}/${site.repo}`
  const url = `${site.api}/repos/${fullName}`
  const html = `${site.web}/${fullName}`
  return {
    id: forkOwner ? site.repoId + 1 : site.repoId,
    node_id: nodeId('Repository', forkOwner ? site.repoId + 1 : site.repoId),
    name: site.repo,
    full_name: fullName,
    owner: userByLogin(site, owner),
    private: false,
    html_url: html,
    description: null,
    fork: forkOwner !== undefined,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `${html.replace(/^http/, 'git')}.git`,
    hooks_url: `${url}/hooks`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@127.0.0.1:${fullName}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    svn_url: html,
    homepage: null,
    language: 'TypeScript',
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 1,
    default_branch: site.defaultBranch,
    open_issues: 0,
    open_issues_count: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: 'public',
    pushed_at: site.createdAt,
    created_at: site.createdAt,
    updated_at: site.createdAt,
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
    network_count: 0,
    subscribers_count: 0
  }
}

export function renderLabel(site: Site, label: LabelRecord): Record<string, unknown> {
  return {
    id: label.id,
    node_id: nodeId('Label', label.id),
    url: `${site.api}/repos/${site.owner}/${site.repo}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: false
  }
}

export function renderIssue(
  site: Site,
  issue: IssueRecord,
  labels: LabelRecord[],
  comments: number
): Record<string, unknown> {
  const repoUrl = `${site.api}/repos/${site.owner}/${site.repo}`
  const url = `${repoUrl}/issues/${issue.number}`
  const html = `${site.web}/${site.owner}/${site.repo}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`
  const assignees = issue.assignees.map(login => userByLogin(site, login))
  return {
    id: issue.id,
    node_id: nodeId(issue.pull ? 'PullRequest' : 'Issue', issue.id),
    url,
    repository_url: repoUrl,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: html,
    number: issue.number,
    state: issue.state,
    state_reason: issue.stateReason,
    title: issue.title,
    body: issue.body,
    user: userByLogin(site, issue.user),
    labels: labels.map(label => renderLabel(site, label)),
    assignee: assignees[0] ?? null,
    assignees,
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments,
    ...(issue.pull
      ? {
          pull_request: {
            url: `${repoUrl}/pulls/${issue.number}`,
            html_url: html,
            diff_url: `${html}.diff`,
            patch_url: `${html}.patch`,
            merged_at: issue.pull.mergedAt
          }
        }
      : {}),
    closed_at: issue.closedAt,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: authorAssociation(site, issue.user),
    reactions: reactions(url)
  }
}

function reactions(url: string): Record<string, unknown> {
  return {
    url: `${url}/reactions`,
    total_count: 0,
    '+1': 0,
    '-1': 0,
    laugh: 0,
    confused: 0,
    heart: 0,
    hooray: 0,
    eyes: 0,
    rocket: 0
  }
}

function authorAssociation(site: Site, login: string): string {
  if (login === site.owner) return 'OWNER'
  return site.user(login).type === 'Bot' ? 'NONE' : 'COLLABORATOR'
}

export interface PullExtras {
  labels: LabelRecord[]
  comments: number
  commits: number
  additions: number
  deletions: number
  changedFiles: number
  mergeable: boolean | null
}

export function renderPull(
  site: Site,
  issue: IssueRecord,
  extras: PullExtras | undefined
): Record<string, unknown> {
  const pull = issue.pull
  if (!pull) throw new Error(`#${issue.number} is an issue, not a pull request`)
  const repoUrl = `${site.api}/repos/${site.owner}/${site.repo}`
  const url = `${repoUrl}/pulls/${issue.number}`
  const issueUrl = `${repoUrl}/issues/${issue.number}`
  const html = `${site.web}/${site.owner}/${site.repo}/pull/${issue.number}`
  const repository = renderRepository(site)
  const owner = userByLogin(site, site.owner)
  const assignees = issue.assignees.map(login => userByLogin(site, login))
  const branch = (ref: string, sha: string, forkOwner?: string) => ({
    label: `${forkOwner ?? site.owner}:${ref}`,
    ref,
    sha,
    user: forkOwner ? userByLogin(site, forkOwner) : owner,
    repo: forkOwner ? renderRepository(site, forkOwner) : repository
  })
  const rendered: Record<string, unknown> = {
    url,
    id: issue.id,
    node_id: nodeId('PullRequest', issue.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueUrl,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${repoUrl}/pulls/comments{/number}`,
    comments_url: `${issueUrl}/comments`,
    statuses_url: `${repoUrl}/statuses/${pull.headSha}`,
    number: issue.number,
    state: issue.state,
    locked: false,
    title: issue.title,
    user: userByLogin(site, issue.user),
    body: issue.body,
    labels: (extras?.labels ?? []).map(label => renderLabel(site, label)),
    milestone: null,
    active_lock_reason: null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: assignees[0] ?? null,
    assignees,
    requested_reviewers: pull.requestedReviewers.map(login => userByLogin(site, login)),
    requested_teams: pull.requestedTeams.map((slug, index) => renderTeam(site, slug, index + 1)),
    head: branch(pull.head, pull.headSha, pull.headOwner),
    base: branch(pull.base, pull.baseSha),
    _links: {
      self: { href: url },
      html: { href: html },
      issue: { href: issueUrl },
      comments: { href: `${issueUrl}/comments` },
      review_comments: { href: `${url}/comments` },
      review_comment: { href: `${repoUrl}/pulls/comments{/number}` },
      commits: { href: `${url}/commits` },
      statuses: { href: `${repoUrl}/statuses/${pull.headSha}` }
    },
    author_association: authorAssociation(site, issue.user),
    auto_merge: null,
    draft: pull.draft
  }
  if (!extras) return rendered
  return {
    ...rendered,
    merged: pull.mergedAt !== null,
    mergeable: extras.mergeable,
    rebaseable: extras.mergeable,
    mergeable_state: pull.mergedAt ? 'unknown' : extras.mergeable ? 'clean' : 'dirty',
    merged_by: pull.mergedBy ? userByLogin(site, pull.mergedBy) : null,
    comments: extras.comments,
    review_comments: 0,
    maintainer_can_modify: pull.maintainerCanModify,
    commits: extras.commits,
    additions: extras.additions,
    deletions: extras.deletions,
    changed_files: extras.changedFiles
  }
}

function renderTeam(site: Site, slug: string, id: number): Record<string, unknown> {
  const url = `${site.api}/orgs/${site.owner}/teams/${slug}`
  return {
    id,
    node_id: nodeId('Team', id),
    url,
    html_url: `${site.web}/orgs/${site.owner}/teams/${slug}`,
    name: slug,
    slug,
    description: null,
    privacy: 'closed',
    notification_setting: 'notifications_enabled',
    permission: 'pull',
    members_url: `${url}/members{/member}`,
    repositories_url: `${url}/repos`,
    parent: null,
    type: 'organization'
  }
}

export function renderComment(site: Site, comment: CommentRecord): Record<string, unknown> {
  const repoUrl = `${site.api}/repos/${site.owner}/${site.repo}`
  return {
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url: `${repoUrl}/issues/comments/${comment.id}`,
    html_url: `${site.web}/${site.owner}/${site.repo}/issues/${comment.issue}#issuecomment-${comment.id}`,
    body: comment.body,
    user: userByLogin(site, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    issue_url: `${repoUrl}/issues/${comment.issue}`,
    author_association: authorAssociation(site, comment.user),
    reactions: reactions(`${repoUrl}/issues/comments/${comment.id}`)
  }
}

export function renderReview(site: Site, review: ReviewRecord): Record<string, unknown> {
  const pullUrl = `${site.api}/repos/${site.owner}/${site.repo}/pulls/${review.pull}`
  const html = `${site.web}/${site.owner}/${site.repo}/pull/${review.pull}#pullrequestreview-${review.id}`
  return {
    id: review.id,
    node_id: nodeId('PullRequestReview', review.id),
    user: userByLogin(site, review.user),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: pullUrl,
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
    ...(review.submittedAt ? { submitted_at: review.submittedAt } : {}),
    commit_id: review.commitId,
    author_association: authorAssociation(site, review.user)
  }
}

/** The status as the combined status lists it (GitHub's simple-commit-status: no creator). */
function renderSimpleStatus(site: Site, status: StatusRecord): Record<string, unknown> {
  return {
    url: `${site.api}/repos/${site.owner}/${site.repo}/statuses/${status.sha}`,
    avatar_url: null,
    id: status.id,
    node_id: nodeId('StatusContext', status.id),
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt
  }
}

export function renderStatus(site: Site, status: StatusRecord): Record<string, unknown> {
  return { ...renderSimpleStatus(site, status), creator: userByLogin(site, status.creator) }
}

export function renderDeployment(site: Site, d: DeploymentRecord): Record<string, unknown> {
  const url = `${site.api}/repos/${site.owner}/${site.repo}/deployments/${d.id}`
  return {
    url,
    id: d.id,
    node_id: `DE_${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: userByLogin(site, d.creator),
    created_at: d.createdAt,
    updated_at: d.statuses.at(-1)?.createdAt ?? d.createdAt,
    statuses_url: `${url}/statuses`,
    repository_url: `${site.api}/repos/${site.owner}/${site.repo}`,
    transient_environment: d.transientEnvironment,
    production_environment: d.productionEnvironment
  }
}

export function renderDeploymentStatus(
  site: Site,
  d: DeploymentRecord,
  s: DeploymentRecord['statuses'][number]
): Record<string, unknown> {
  const deploymentUrl = `${site.api}/repos/${site.owner}/${site.repo}/deployments/${d.id}`
  return {
    url: `${deploymentUrl}/statuses/${s.id}`,
    id: s.id,
    node_id: `DES_${s.id}`,
    state: s.state,
    creator: userByLogin(site, s.creator),
    description: s.description,
    environment: d.environment,
    target_url: s.logUrl,
    ...(s.logUrl ? { log_url: s.logUrl } : {}),
    ...(s.environmentUrl ? { environment_url: s.environmentUrl } : {}),
    created_at: s.createdAt,
    updated_at: s.createdAt,
    deployment_url: deploymentUrl,
    repository_url: `${site.api}/repos/${site.owner}/${site.repo}`
  }
}

export function renderCombinedStatus(
  site: Site,
  sha: string,
  latest: StatusRecord[]
): Record<string, unknown> {
  const states = latest.map(status => status.state)
  const state =
    states.includes('error') || states.includes('failure')
      ? 'failure'
      : states.length === 0 || states.includes('pending')
        ? 'pending'
        : 'success'
  const repoUrl = `${site.api}/repos/${site.owner}/${site.repo}`
  return {
    state,
    statuses: latest.map(status => renderSimpleStatus(site, status)),
    sha,
    total_count: latest.length,
    repository: renderRepository(site),
    commit_url: `${repoUrl}/commits/${sha}`,
    url: `${repoUrl}/commits/${sha}/status`
  }
}

const ACTIONS_APP_ID = 15368

/** An app as GitHub renders it; `slug` "github-actions" is GitHub Actions itself. */
function renderApp(site: Site, slug = 'github-actions'): Record<string, unknown> {
  const actions = slug === 'github-actions'
  const id = actions
    ? ACTIONS_APP_ID
    : 20000 + [...slug].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 100000, 0)
  return {
    id,
    slug,
    node_id: nodeId('Integration', id),
    owner: userByLogin(site, site.owner),
    name: actions ? 'GitHub Actions' : slug,
    description: actions ? 'Automate your workflow from idea to production' : null,
    external_url: actions ? 'https://help.github.com/en/actions' : `${site.web}/apps/${slug}`,
    html_url: `${site.web}/apps/${slug}`,
    created_at: EPOCH,
    updated_at: EPOCH,
    permissions: { checks: 'write', statuses: 'write' },
    events: ['check_run', 'pull_request', 'push']
  }
}

export function renderCheckRun(site: Site, run: CheckRunRecord): Record<string, unknown> {
  const url = `${site.api}/repos/${site.owner}/${site.repo}/check-runs/${run.id}`
  return {
    id: run.id,
    head_sha: run.headSha,
    node_id: nodeId('CheckRun', run.id),
    external_id: run.externalId,
    url,
    html_url: `${site.web}/${site.owner}/${site.repo}/runs/${run.id}`,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.title,
      summary: run.summary,
      text: null,
      annotations_count: 0,
      annotations_url: `${url}/annotations`
    },
    name: run.name,
    check_suite: { id: run.id },
    app: renderApp(site, run.app),
    pull_requests: []
  }
}

export function renderWorkflowRun(site: Site, run: WorkflowRunRecord): Record<string, unknown> {
  const repoUrl = `${site.api}/repos/${site.owner}/${site.repo}`
  const url = `${repoUrl}/actions/runs/${run.id}`
  const repository = renderRepository(site)
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId('WorkflowRun', run.id),
    check_suite_id: run.id,
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.path,
    display_title: run.name,
    run_number: run.runNumber,
    run_attempt: 1,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: run.workflowId,
    url,
    html_url: `${site.web}/${site.owner}/${site.repo}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    run_started_at: run.createdAt,
    jobs_url: `${url}/jobs`,
    logs_url: `${url}/logs`,
    check_suite_url: `${repoUrl}/check-suites/${run.id}`,
    artifacts_url: `${url}/artifacts`,
    cancel_url: `${url}/cancel`,
    rerun_url: `${url}/rerun`,
    workflow_url: `${repoUrl}/actions/workflows/${run.workflowId}`,
    head_commit: null,
    repository,
    head_repository: repository
  }
}

export function renderGitRef(site: Site, ref: string, sha: string): Record<string, unknown> {
  return {
    ref,
    node_id: nodeId('Ref', sha.length),
    url: `${site.api}/repos/${site.owner}/${site.repo}/git/${ref}`,
    object: {
      type: 'commit',
      sha,
      url: `${site.api}/repos/${site.owner}/${site.repo}/git/commits/${sha}`
    }
  }
}
