// What the emulated GitHub remembers besides git: users, pull requests, issues, reviews, ...
// Pull requests and issues share one number sequence, as on GitHub.

export type UserType = 'User' | 'Bot'

export interface EmulatedUser {
  login: string
  id: number
  type: UserType
  token: string
  name: string | null
}

export interface PullRecord {
  head: string
  /**
   * The login of the fork's owner when the head branch lives in a fork. Its commits are then in
   * this repository only at refs/pull/N/head, as on GitHub.
   */
  headOwner?: string
  base: string
  /** Last known head commit; refreshed from the real ref whenever the branch still exists. */
  headSha: string
  baseSha: string
  draft: boolean
  mergedAt: string | null
  mergedBy: string | null
  mergeCommitSha: string | null
  requestedReviewers: string[]
  requestedTeams: string[]
  maintainerCanModify: boolean
}

export interface IssueRecord {
  number: number
  id: number
  title: string
  body: string | null
  state: 'open' | 'closed'
  stateReason: 'completed' | 'reopened' | 'not_planned' | null
  user: string
  labels: string[]
  assignees: string[]
  createdAt: string
  updatedAt: string
  closedAt: string | null
  /** Set when the issue is a pull request. */
  pull?: PullRecord
}

export interface LabelRecord {
  id: number
  name: string
  color: string
  description: string | null
}

export interface CommentRecord {
  id: number
  issue: number
  user: string
  body: string
  createdAt: string
  updatedAt: string
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING' | 'DISMISSED'

export interface ReviewRecord {
  id: number
  pull: number
  user: string
  state: ReviewState
  body: string
  commitId: string
  submittedAt: string | null
}

export type CommitState = 'error' | 'failure' | 'pending' | 'success'

export interface StatusRecord {
  id: number
  sha: string
  state: CommitState
  context: string
  description: string | null
  targetUrl: string | null
  creator: string
  createdAt: string
}

export interface DeploymentRecord {
  id: number
  sha: string
  ref: string
  task: string
  environment: string
  description: string | null
  payload: unknown
  productionEnvironment: boolean
  transientEnvironment: boolean
  creator: string
  createdAt: string
  statuses: Array<{
    id: number
    state: string
    description: string
    environmentUrl: string
    logUrl: string
    creator: string
    createdAt: string
  }>
}

export type RunStatus = 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending'

export interface CheckRunRecord {
  id: number
  headSha: string
  name: string
  /** The slug of the GitHub App that created it: the creating bot's login without "[bot]". */
  app: string
  status: RunStatus
  conclusion: string | null
  startedAt: string
  completedAt: string | null
  externalId: string
  detailsUrl: string | null
  title: string | null
  summary: string | null
}

export interface WorkflowRunRecord {
  id: number
  name: string
  headSha: string
  headBranch: string
  event: string
  status: RunStatus
  conclusion: string | null
  runNumber: number
  workflowId: number
  path: string
  createdAt: string
  updatedAt: string
}

export type TeamRole = 'member' | 'maintainer'
export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none'

export interface RecordedRequest {
  method: string
  path: string
  operationId: string | undefined
  status: number
  user: string | undefined
}

export class EmulatorState {
  readonly users = new Map<string, EmulatedUser>()
  readonly issues = new Map<number, IssueRecord>()
  readonly labels = new Map<string, LabelRecord>()
  readonly comments: CommentRecord[] = []
  readonly reviews: ReviewRecord[] = []
  readonly statuses: StatusRecord[] = []
  readonly deployments: DeploymentRecord[] = []
  readonly checkRuns: CheckRunRecord[] = []
  readonly workflowRuns: WorkflowRunRecord[] = []
  /** "org/team-slug" -> login -> role */
  readonly teams = new Map<string, Map<string, TeamRole>>()
  readonly permissions = new Map<string, Permission>()
  /** Commits made through POST /git/commits: GitHub signs those, so they count as verified. */
  readonly signedCommits = new Set<string>()
  /** Every API request answered, in order: what benchmarks count and tests inspect. */
  readonly requests: RecordedRequest[] = []
  /** Contract violations: each fails the test when the emulator closes. */
  readonly violations: string[] = []
  private nextIds = new Map<string, number>()

  nextId(kind: string): number {
    const next = (this.nextIds.get(kind) ?? 0) + 1
    this.nextIds.set(kind, next)
    return next
  }

  nextNumber(): number {
    return this.nextId('number')
  }

  pulls(): IssueRecord[] {
    return [...this.issues.values()].filter(issue => issue.pull !== undefined)
  }
}
