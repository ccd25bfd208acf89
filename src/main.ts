import * as core from '@actions/core'
import { failWith } from './action/annotations.js'
import { checkPullRequest } from './action/check.js'
import { readContext, type ActionContext } from './action/context.js'
import { dispatchRollback } from './action/dispatch-rollback.js'
import { ALERT_EVENT_TYPE, featuresFromAlert } from './action/repository-dispatch.js'
import { selectRollouts } from './action/rollouts.js'
import { tickOnGitHub, type FeatureOutcome, type GitHubSide } from './action/tick-on-github.js'
import { phaseNamed } from './engine/ladder.js'
import { PhasegateError } from './errors.js'
import { createGitHubClient } from './github/client.js'
import { renderReport } from './report/markdown.js'
import { relativeTo } from './commands/workspace.js'

const COMMANDS = ['tick', 'apply', 'status', 'validate', 'check', 'rollback'] as const
type Command = (typeof COMMANDS)[number]

/** The action's entry: inputs -> command -> outputs and job summary. Errors fail the step, without a stack trace. */
export async function run(): Promise<void> {
  try {
    const command = (core.getInput('command') || 'tick') as Command
    if (!COMMANDS.includes(command))
      throw new PhasegateError(`unknown command "${command}"`, {
        hint: `use one of ${COMMANDS.join(', ')}`
      })
    const ctx = readContext()
    if (command === 'validate') return await validate(ctx)
    const gh: GitHubSide = {
      repo: ctx.repo,
      client: createGitHubClient({
        token: ctx.token,
        baseUrl: ctx.apiUrl,
        warn: m => core.warning(m)
      })
    }
    if (command === 'check') {
      const result = await checkPullRequest(ctx, gh)
      const lines = result.details.length
        ? result.details.map(d => `- ${d}`)
        : ['- no state file changes']
      if (result.statusNotSet) core.warning(result.statusNotSet)
      await summary(
        `## phasegate/policy: ${result.state}\n\nPR #${result.prNumber} at ${result.sha.slice(0, 10)}\n\n${lines.join('\n')}${result.statusNotSet ? `\n\nNote: ${result.statusNotSet}.` : ''}`
      )
      core.setOutput('decision', result.state)
      core.setOutput('pr-number', String(result.prNumber))
      if (result.state === 'failure') core.setFailed(`phasegate/policy: ${result.description}`)
      return
    }
    if (command === 'rollback') return publish([await dispatchRollback(ctx, gh)])
    if (ctx.eventName === 'repository_dispatch') {
      if (ctx.payload.action !== ALERT_EVENT_TYPE) {
        const note = `repository_dispatch of type "${ctx.payload.action}" is not ${ALERT_EVENT_TYPE}: nothing to do`
        core.info(note)
        return await summary(`## phasegate\n\n${note}`)
      }
      const outcomes: FeatureOutcome[] = []
      for (const feature of featuresFromAlert(ctx.payload.client_payload))
        outcomes.push(...(await tickOnGitHub({ ...ctx, feature }, gh)))
      return publish(outcomes)
    }
    return publish(await tickOnGitHub({ ...ctx, dryRun: ctx.dryRun || command === 'status' }, gh))
  } catch (error) {
    const message = failWith(error, process.env.GITHUB_WORKSPACE ?? process.cwd())
    // The step has failed already; a summary that cannot be written must not replace the reason.
    await summary(`## phasegate failed\n\n${message}`).catch(() => undefined)
  }
}

async function validate(ctx: ActionContext): Promise<void> {
  const rollouts = await selectRollouts(ctx.workspace, ctx.policies, ctx.feature)
  const lines = rollouts.map(
    r =>
      `- ok \`${relativeTo(ctx.workspace, r.policyFile)}\`: feature ${r.policy.feature}, ${r.policy.phases.length} phases, ${r.state ? `at ${r.state.phase}` : 'not started'}`
  )
  lines.forEach(l => core.info(l.slice(2)))
  await summary(`## phasegate validate\n\n${lines.join('\n')}`)
}

/** Outputs (of the first rollout: a deploy step reads one feature) and the job summary (all). */
async function publish(outcomes: FeatureOutcome[]): Promise<void> {
  for (const o of outcomes)
    core.info(
      `${o.policy.feature}: ${o.decision.action} (${o.decision.reason})${o.actions.map(a => `\n  ${a}`).join('')}`
    )
  const first = outcomes[0]
  if (first) {
    const phase = phaseNamed(first.policy, first.state.phase)
    const flags = {
      feature: first.policy.feature,
      phase: phase.name,
      enabled: first.state.enabled,
      user_percentage: first.state.enabled ? phase.userPercentage : 0,
      feature_flags: first.state.enabled ? phase.featureFlags : [],
      monitoring_level: phase.monitoringLevel,
      rollback_threshold: phase.rollbackThreshold
    }
    core.setOutput('phase', phase.name)
    core.setOutput('enabled', String(first.state.enabled))
    core.setOutput('user-percentage', String(flags.user_percentage))
    core.setOutput('decision', first.decision.action)
    core.setOutput('pr-number', first.prNumber === undefined ? '' : String(first.prNumber))
    core.setOutput('rollback-sha', first.rollbackSha ?? '')
    core.setOutput('flags-json', JSON.stringify(flags))
  }
  await summary(
    [
      '## phasegate',
      ...outcomes.map(o =>
        renderReport({
          policy: o.policy,
          state: o.state,
          decision: o.decision,
          readings: o.readings,
          actions: o.actions,
          experiments: o.experiments
        })
      )
    ].join('\n\n')
  )
}

async function summary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(markdown, true).write()
}
