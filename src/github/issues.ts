// Alerts as issues: one issue per feature and alert type, found by its labels. Opened when the
// alert starts, commented only when its severity changes, closed when it recovers.

import type { GitHubClient, RepoRef } from './client.js'
import { isRequestError } from './errors.js'

export interface AlertIssueKey {
  feature: string
  /** The alert type, e.g. a metric name ("error_rate") or "emergency_rollback". */
  alert: string
}

export interface AlertIssueContent {
  severity: string
  title?: string
  body: string
}

export interface AlertIssueOutcome {
  number: number
  action: 'opened' | 'commented' | 'unchanged'
}

const MARKER_LABEL = 'phasegate'
const SEVERITY_PREFIX = 'severity:'

function keyLabels(key: AlertIssueKey): string[] {
  return [MARKER_LABEL, `phasegate:${key.feature}`, `alert:${key.alert}`]
}

export function alertIssueTitle(key: AlertIssueKey): string {
  return `phasegate: ${key.alert} alert on ${key.feature}`
}

export interface OpenAlertIssue {
  number: number
  labels: string[]
  title?: string
  /** The issue's web page. */
  url?: string
  /** ISO-8601 instant it was opened. */
  createdAt?: string
}

/**
 * Every open alert issue of the repository (label `phasegate`), in one paginated listing per
 * run: each feature finds its own by the `phasegate:<feature>` label.
 */
export async function listOpenAlertIssues(
  client: GitHubClient,
  repo: RepoRef
): Promise<OpenAlertIssue[]> {
  const items = await client.paginate(client.rest.issues.listForRepo, {
    ...repo,
    state: 'open',
    labels: MARKER_LABEL,
    per_page: 100
  })
  // The issues API lists pull requests too.
  return items
    .filter(item => !item.pull_request)
    .map(item => ({
      number: item.number,
      labels: item.labels.map(label => (typeof label === 'string' ? label : (label.name ?? ''))),
      title: item.title,
      url: item.html_url,
      createdAt: item.created_at
    }))
}

/** The open issue for this feature and alert type, if any. */
export async function findAlertIssue(
  client: GitHubClient,
  repo: RepoRef,
  key: AlertIssueKey
): Promise<OpenAlertIssue | undefined> {
  const { data } = await client.rest.issues.listForRepo({
    ...repo,
    state: 'open',
    labels: keyLabels(key).join(','),
    sort: 'created',
    direction: 'asc',
    per_page: 10
  })
  // The issues API lists pull requests too.
  const issue = data.find(item => !item.pull_request)
  if (!issue) return undefined
  return {
    number: issue.number,
    labels: issue.labels.map(label => (typeof label === 'string' ? label : (label.name ?? '')))
  }
}

/**
 * Creates the issue without octokit's automatic retry: a retried create after a gateway error
 * that GitHub had in fact carried out would open a duplicate. Instead, after a server error,
 * look for the issue first and create again only when it is not there.
 */
async function createAlertIssue(
  client: GitHubClient,
  repo: RepoRef,
  key: AlertIssueKey,
  content: AlertIssueContent,
  attempts = 3
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { data } = await client.rest.issues.create({
        ...repo,
        title: content.title ?? alertIssueTitle(key),
        body: content.body,
        labels: [...keyLabels(key), `${SEVERITY_PREFIX}${content.severity}`],
        request: { retries: 0 }
      })
      return data.number
    } catch (error) {
      if (!isRequestError(error) || error.status < 500 || attempt >= attempts) throw error
      const found = await findAlertIssue(client, repo, key)
      if (found) return found.number
    }
  }
}

/** Opens the alert's issue, or comments on it when the severity changed since it was opened. */
export async function raiseAlertIssue(
  client: GitHubClient,
  repo: RepoRef,
  key: AlertIssueKey,
  content: AlertIssueContent
): Promise<AlertIssueOutcome> {
  const open = await findAlertIssue(client, repo, key)
  if (!open) {
    return { number: await createAlertIssue(client, repo, key, content), action: 'opened' }
  }
  const severityLabel = `${SEVERITY_PREFIX}${content.severity}`
  if (open.labels.includes(severityLabel)) return { number: open.number, action: 'unchanged' }
  await client.rest.issues.createComment({ ...repo, issue_number: open.number, body: content.body })
  await client.rest.issues.update({
    ...repo,
    issue_number: open.number,
    labels: [...open.labels.filter(label => !label.startsWith(SEVERITY_PREFIX)), severityLabel]
  })
  return { number: open.number, action: 'commented' }
}

/** Closes the alert's issue with a comment when the alert has recovered; returns its number. */
export async function resolveAlertIssue(
  client: GitHubClient,
  repo: RepoRef,
  key: AlertIssueKey,
  comment: string
): Promise<number | undefined> {
  const open = await findAlertIssue(client, repo, key)
  if (!open) return undefined
  await client.rest.issues.createComment({ ...repo, issue_number: open.number, body: comment })
  await client.rest.issues.update({
    ...repo,
    issue_number: open.number,
    state: 'closed',
    state_reason: 'completed'
  })
  return open.number
}
