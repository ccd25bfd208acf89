import type { Alert, Decision, EmergencyContact, Policy } from '../engine/types.js'
import { withUnit } from '../engine/units.js'
import type { GitHubClient, RepoRef } from '../github/client.js'
import { raiseAlertIssue, resolveAlertIssue, type OpenAlertIssue } from '../github/issues.js'
import { markdownText as text, mention } from '../report/escape/markdown.js'

// Alerts as issues: one per feature and alert type. The open alert issues of every feature are
// listed once per run (listOpenAlertIssues), so a tick in which no alert changes costs one
// request however many features and rules there are.

/**
 * One alert issue this run opened, re-rated, closed or kept open (an alert rule's, an observe-only
 * or pausing trigger's): a line for the report, and what changed, for the notifications.
 */
export interface AlertIssueChange {
  line: string
  /**
   * What to tell (alert_opened / alert_resolved). Unset when there is nothing to tell: an issue
   * kept open because its metric read no data, or a trigger's issue on a metric with an alert
   * rule, whose own issue tells it.
   */
  change?: 'opened' | 'escalated' | 'resolved'
  issue: number
  metric: string
  message: string
  /** The alert's severity now; unset when resolved. */
  severity?: Alert['severity']
}

/**
 * Opens, comments on or closes each alert rule's issue, given the run's open alert issues;
 * returns what it did, for the report and the notifications.
 */
export async function syncAlertIssues(
  client: GitHubClient,
  repo: RepoRef,
  policy: Policy,
  decision: Decision,
  runUrl: string | undefined,
  openIssues: OpenAlertIssue[]
): Promise<AlertIssueChange[]> {
  if (policy.alerts.length === 0) return []
  const open = openIssues.filter(issue => issue.labels.includes(`phasegate:${policy.feature}`))
  const done: AlertIssueChange[] = []
  for (const rule of policy.alerts) {
    const key = { feature: policy.feature, alert: rule.metric }
    const issue = open.find(i => i.labels.includes(`alert:${rule.metric}`))
    // An observe-only trigger's own alert has its own issue (observed-triggers.ts).
    const alert = decision.alerts.find(a => a.metric === rule.metric && !a.trigger)
    if (alert) {
      if (issue?.labels.includes(`severity:${alert.severity}`)) continue
      const body = alertIssueBody(alert, decision, runUrl)
      const result = await raiseAlertIssue(client, repo, key, { severity: alert.severity, body })
      done.push({
        line: `alert issue #${result.number} ${result.action === 'opened' ? 'opened' : `now ${alert.severity}`} for ${rule.metric}`,
        change: result.action === 'opened' ? 'opened' : 'escalated',
        issue: result.number,
        metric: rule.metric,
        message: alert.message,
        severity: alert.severity
      })
    } else if (issue && decision.alertsUnread?.includes(rule.metric)) {
      // No reading is not a recovery: the issue stays open until a reading says so.
      done.push({
        line: `alert issue #${issue.number} kept open: ${rule.metric} reads no data`,
        issue: issue.number,
        metric: rule.metric,
        message: `${rule.metric} reads no data in ${decision.phase}; the alert stays open`
      })
    } else if (issue) {
      const number = await resolveAlertIssue(
        client,
        repo,
        key,
        recoveredComment(rule.metric, withUnit(rule.warning, rule.unit), decision.phase)
      )
      if (number !== undefined)
        done.push({
          line: `alert issue #${number} closed: ${rule.metric} recovered`,
          change: 'resolved',
          issue: number,
          metric: rule.metric,
          message: `${rule.metric} is back under its warning threshold (${withUnit(rule.warning, rule.unit)}) in ${decision.phase}`
        })
    }
  }
  return done
}

/** An alert issue's body (or its comment when the severity changes). */
export function alertIssueBody(
  alert: Alert,
  decision: Pick<Decision, 'phase' | 'action' | 'reason'>,
  runUrl: string | undefined
): string {
  return [
    `**${alert.severity}**: ${text(alert.message)}.`,
    '',
    `Phase ${text(decision.phase)}; warning at ${withUnit(alert.warning, alert.unit)}, critical at ${withUnit(alert.critical, alert.unit)}.`,
    `Decision: ${decision.action} (${text(decision.reason)})`,
    ...(runUrl ? ['', `Run: ${runUrl}`] : [])
  ].join('\n')
}

/** The comment that closes an alert issue. */
export function recoveredComment(metric: string, warning: number | string, phase: string): string {
  return `Recovered: ${text(metric)} is back under its warning threshold (${warning}) in ${text(phase)}.`
}

/**
 * The on-call contacts as GitHub mentions: teams as @org/team (the repository owner's org when
 * none is given). Only a login's or a team's form becomes a mention; anything else is text.
 */
export function oncallMentions(contacts: EmergencyContact[], owner: string): string[] {
  return contacts
    .filter(c => c.oncall)
    .flatMap(c => [
      ...(c.team
        ? [
            mention(
              c.team.replace(/^@/, '').includes('/')
                ? c.team.replace(/^@/, '')
                : `${owner}/${c.team}`
            )
          ]
        : []),
      ...(c.user ? [mention(c.user)] : [])
    ])
}
