import type { FailedRuns, FailedRunsLedger } from '../state/source-failures.js'
import type { GitHubClient, RepoRef } from './client.js'
import { raiseAlertIssue, resolveAlertIssue } from './issues.js'
import { markdownText } from '../report/escape/markdown.js'

// The action's ledger of runs that could not read a metrics source: the feature's
// "metrics_source" alert issue, whose body carries the runs in a marker comment. A runner's
// checkout starts fresh every run, and a count in the state file would churn commits, so the
// issue people already watch holds it: opened on the first failed run, updated on each next one,
// closed by the first run that reads the source again.

const ALERT = 'metrics_source'
const MARKER = /<!-- phasegate:failed-runs (\{.*?\}) -->/

/** The ledger issue's body: what people read, then the runs in a marker comment. */
export function failedRunsBody(runs: FailedRuns): string {
  return [
    `The metrics source could not be read on ${runs.runs.length} consecutive run${runs.runs.length === 1 ? '' : 's'}, the first at ${runs.runs[0]}.`,
    '',
    `Last error: ${markdownText(runs.reason)}`,
    '',
    'system_failure rolls back once this reaches rollback.source_failure_limit runs; the first run that reads the source closes this issue.',
    '',
    `<!-- phasegate:failed-runs ${commentJson(runs)} -->`
  ].join('\n')
}

/**
 * JSON that cannot end the HTML comment it sits in: `<`, `>` and `&` as \u escapes, which
 * JSON.parse reads back as the same characters.
 */
function commentJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
}

/** The runs kept in an issue body, or undefined when it holds none (or a broken marker). */
export function parseFailedRuns(text: string | null | undefined): FailedRuns | undefined {
  const match = MARKER.exec(text ?? '')
  if (!match) return undefined
  try {
    const value = JSON.parse(match[1]!) as Partial<FailedRuns>
    return Array.isArray(value.runs) && value.runs.every(t => typeof t === 'string')
      ? { runs: value.runs, reason: String(value.reason ?? '') }
      : undefined
  } catch {
    return undefined
  }
}

/** Failed runs kept in each feature's metrics_source alert issue. */
export function issueLedger(client: GitHubClient, repo: RepoRef): FailedRunsLedger {
  const find = async (feature: string) => {
    const { data } = await client.rest.issues.listForRepo({
      ...repo,
      state: 'open',
      labels: ['phasegate', `phasegate:${feature}`, `alert:${ALERT}`].join(','),
      per_page: 10
    })
    return data.find(item => !item.pull_request)
  }
  return {
    read: async feature => parseFailedRuns((await find(feature))?.body),
    write: async (feature, runs) => {
      const key = { feature, alert: ALERT }
      if (!runs) {
        await resolveAlertIssue(client, repo, key, 'Recovered: the metrics source answered again.')
        return
      }
      const open = await find(feature)
      if (open)
        await client.rest.issues.update({
          ...repo,
          issue_number: open.number,
          body: failedRunsBody(runs)
        })
      else
        await raiseAlertIssue(client, repo, key, { severity: 'high', body: failedRunsBody(runs) })
    }
  }
}
