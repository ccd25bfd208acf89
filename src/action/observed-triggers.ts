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
// when the rule's alert is raised): its own issue's changes carry no `change` to tell.

/** Opens or closes the alert issue of each observe-only trigger; returns what it did. */
export async function syncObservedTriggerIssues(
  client: GitHubClient,
  repo: RepoRef,
  policy: Policy,
  decision: Decision,
  runUrl: string | undefined,
  openIssues: OpenAlertIssue[]
): Promise<AlertIssueChange[]> {
  const open = openIssues.filter(issue => issue.labels.includes(`phasegate:${policy.feature}`))
  const done: AlertIssueChange[] = []
  // A pausing trigger (on_fire: pause) is no quieter than an observe-only one: it opens the
  // same kind of issue, its own (pausing_<metric>), at high.
  for (const trigger of decision.triggers.filter(
    t => t.onFire === 'observe' || t.onFire === 'pause'
  )) {
    const label = trigger.onFire === 'pause' ? 'pausing' : 'observe-only'
    const metric = trigger.evidence[0]?.metric ?? trigger.trigger
    const alert = observedAlertName(policy, trigger.trigger, metric, trigger.onFire === 'pause')
    const key = { feature: policy.feature, alert }
    const issue = open.find(i => i.labels.includes(`alert:${alert}`))
    const told = !policy.alerts.some(rule => rule.metric === metric)
    if (trigger.fired && !issue) {
      const body = [
        `**${label === 'pausing' ? 'Pausing' : 'Observe-only'} trigger fired**: ${trigger.reason}.`,
        '',
        `\`${trigger.trigger}\` has on_fire: ${trigger.onFire}, so nothing was rolled back (phase ${decision.phase}${label === 'pausing' ? '; the rollout is paused' : ''}).`,
        `Decision: ${decision.action} (${decision.reason})`,
        ...(runUrl ? ['', `Run: ${runUrl}`] : [])
      ].join('\n')
      const result = await raiseAlertIssue(client, repo, key, { severity: 'high', body })
      done.push({
        line: `alert issue #${result.number} opened for ${label} trigger ${trigger.trigger}`,
        ...(told ? { change: 'opened' as const } : {}),
        issue: result.number,
        metric,
        message: `${label} trigger ${trigger.trigger} fired: ${trigger.reason}; nothing rolled back`,
        severity: 'high'
      })
    } else if (issue && trigger.status === 'ok') {
      const number = await resolveAlertIssue(
        client,
        repo,
        key,
        `Recovered: ${trigger.reason} (${label} trigger \`${trigger.trigger}\`).`
      )
      if (number !== undefined)
        done.push({
          line: `alert issue #${number} closed: ${label} trigger ${trigger.trigger} is ok`,
          ...(told ? { change: 'resolved' as const } : {}),
          issue: number,
          metric,
          message: `${label} trigger ${trigger.trigger} is ok again: ${trigger.reason}`
        })
    }
  }
  return done
}

/**
 * The alert an observe-only row raises: `observed_<metric>`, or `observed_guardrail_<metric>` for a
 * guardrail, so that a guardrail and a trigger observing one metric keep an issue each and one
 * reading ok never closes the other's; a pausing row's is `pausing_...` likewise.
 */
function observedAlertName(policy: Policy, row: string, metric: string, pausing: boolean): string {
  const guardrail = (policy.guardrails ?? []).some(rule => guardrailName(rule) === row)
  return `${pausing ? 'pausing' : 'observed'}_${guardrail ? 'guardrail_' : ''}${metric}`
}
