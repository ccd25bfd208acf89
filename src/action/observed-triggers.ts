import { guardrailName } from '../engine/guardrails.js'
import type { Decision, Policy } from '../engine/types.js'
import type { GitHubClient, RepoRef } from '../github/client.js'
import { raiseAlertIssue, resolveAlertIssue, type OpenAlertIssue } from '../github/issues.js'
import type { AlertIssueChange } from './alerts.js'

// An observe-only trigger (on_fire: observe) rolls nothing back, so the alert it raises is the
// only trace people see: one issue per feature and observed metric, opened while the trigger
// fires and closed once it reads ok again. Like syncAlertIssues, it reads the run's one listing
// of open alert issues and calls GitHub only when something changes, and returns the changes, so
// the alert_opened / alert_resolved targets hear of them, keyed by the issue. A trigger on a
// metric with an alert rule is told through that rule's issue (it fires only at high or critical,
// when the rule's alert is raised): its own issue changes carry no `change` to tell.

/** Opens or closes the alert issue of each observe-only trigger; returns what it did. */
export async function syncObservedTriggerIssues(
  client: GitHubClient,
  repo: RepoRef,
  policy: Policy,
  decision: Decision,
  runUrl: string | undefined,
  openIssues: OpenAlertIssue[]
): Promise<Array<Pick<AlertIssueChange, 'line'> & Partial<AlertIssueChange>>> {
  const open = openIssues.filter(issue => issue.labels.includes(`phasegate:${policy.feature}`))
  const done: Array<Pick<AlertIssueChange, 'line'> & Partial<AlertIssueChange>> = []
  for (const trigger of decision.triggers.filter(t => t.onFire === 'observe')) {
    const metric = trigger.evidence[0]?.metric ?? trigger.trigger
    const alert = observedAlertName(policy, trigger.trigger, metric)
    const key = { feature: policy.feature, alert }
    const issue = open.find(i => i.labels.includes(`alert:${alert}`))
    const told = !policy.alerts.some(rule => rule.metric === metric)
    if (trigger.fired && !issue) {
      const body = [
        `**Observe-only trigger fired**: ${trigger.reason}.`,
        '',
        `\`${trigger.trigger}\` has on_fire: observe, so nothing was rolled back (phase ${decision.phase}).`,
        `Decision: ${decision.action} (${decision.reason})`,
        ...(runUrl ? ['', `Run: ${runUrl}`] : [])
      ].join('\n')
      const result = await raiseAlertIssue(client, repo, key, { severity: 'high', body })
      done.push({
        line: `alert issue #${result.number} opened for observe-only trigger ${trigger.trigger}`,
        ...(told
          ? {
              change: 'opened' as const,
              issue: result.number,
              metric,
              message: `observe-only trigger ${trigger.trigger} fired: ${trigger.reason}; nothing rolled back`,
              severity: 'high' as const
            }
          : {})
      })
    } else if (issue && trigger.status === 'ok') {
      const number = await resolveAlertIssue(
        client,
        repo,
        key,
        `Recovered: ${trigger.reason} (observe-only trigger \`${trigger.trigger}\`).`
      )
      if (number !== undefined)
        done.push({
          line: `alert issue #${number} closed: observe-only trigger ${trigger.trigger} is ok`,
          ...(told
            ? {
                change: 'resolved' as const,
                issue: number,
                metric,
                message: `observe-only trigger ${trigger.trigger} is ok again: ${trigger.reason}`
              }
            : {})
        })
    }
  }
  return done
}

/**
 * The alert an observe-only row raises: `observed_<metric>`, or `observed_guardrail_<metric>` for a
 * guardrail, so that a guardrail and a trigger observing one metric keep an issue each and one
 * reading ok never closes the other's.
 */
function observedAlertName(policy: Policy, row: string, metric: string): string {
  const guardrail = (policy.guardrails ?? []).some(rule => guardrailName(rule) === row)
  return `observed_${guardrail ? 'guardrail_' : ''}${metric}`
}
