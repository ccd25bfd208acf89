import { guardrailName } from '../engine/guardrails.js'
import type { Decision, Policy } from '../engine/types.js'
import type { GitHubClient, RepoRef } from '../github/client.js'
import { raiseAlertIssue, resolveAlertIssue, type OpenAlertIssue } from '../github/issues.js'

// An observe-only trigger (on_fire: observe) rolls nothing back, so the alert it raises is the
// only trace people see: one issue per feature and observed metric, opened while the trigger
// fires and closed once it reads ok again. Like syncAlertIssues, it reads the run's one listing
// of open alert issues and calls GitHub only when something changes.

/** Opens or closes the alert issue of each observe-only trigger; returns what it did. */
export async function syncObservedTriggerIssues(
  client: GitHubClient,
  repo: RepoRef,
  policy: Policy,
  decision: Decision,
  runUrl: string | undefined,
  openIssues: OpenAlertIssue[]
): Promise<string[]> {
  const open = openIssues.filter(issue => issue.labels.includes(`phasegate:${policy.feature}`))
  const done: string[] = []
  for (const trigger of decision.triggers.filter(t => t.onFire === 'observe')) {
    const metric = trigger.evidence[0]?.metric ?? trigger.trigger
    const alert = observedAlertName(policy, trigger.trigger, metric)
    const key = { feature: policy.feature, alert }
    const issue = open.find(i => i.labels.includes(`alert:${alert}`))
    if (trigger.fired && !issue) {
      const body = [
        `**Observe-only trigger fired**: ${trigger.reason}.`,
        '',
        `\`${trigger.trigger}\` has on_fire: observe, so nothing was rolled back (phase ${decision.phase}).`,
        `Decision: ${decision.action} (${decision.reason})`,
        ...(runUrl ? ['', `Run: ${runUrl}`] : [])
      ].join('\n')
      const result = await raiseAlertIssue(client, repo, key, { severity: 'high', body })
      done.push(`alert issue #${result.number} opened for observe-only trigger ${trigger.trigger}`)
    } else if (issue && trigger.status === 'ok') {
      const number = await resolveAlertIssue(
        client,
        repo,
        key,
        `Recovered: ${trigger.reason} (observe-only trigger \`${trigger.trigger}\`).`
      )
      if (number !== undefined)
        done.push(`alert issue #${number} closed: observe-only trigger ${trigger.trigger} is ok`)
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
