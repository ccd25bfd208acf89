import * as core from '@actions/core'
import { failWith, warnNotices } from './action/annotations.js'
import { checkPullRequest } from './action/check.js'
import { readContext, type ActionContext } from './action/context.js'
import { dispatchResume } from './action/dispatch-resume.js'
import { dispatchRollback } from './action/dispatch-rollback.js'
import { dispatchPauseOrResume } from './action/dispatch-pause.js'
import { notifyDispatched } from './action/notifications.js'
import type { GitHubSide } from './action/landing.js'
import { publishOutcomes, writeSummary } from './action/outcome.js'
import { ALERT_EVENT_TYPE, featuresFromAlert } from './action/repository-dispatch.js'
import { runUrl, tickOnGitHub } from './action/tick-on-github.js'
import { PhasegateError } from './errors.js'
import { createGitHubClient } from './github/client.js'
import { relativeTo, selectRollouts, unknownFeatures } from './rollout/load.js'
import { deliveryProblems } from './rollout/datafile.js'
import { markdownCode, markdownText } from './report/escape/markdown.js'
import { logInfo } from './action/log.js'
import { terminalText } from './report/escape/terminal.js'

const COMMANDS = [
  'tick',
  'apply',
  'status',
  'validate',
  'check',
  'rollback',
  'pause',
  'resume'
] as const
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
    if (command === 'check') return await check(ctx, gh)
    if (command === 'rollback' || command === 'resume' || command === 'pause') {
      const outcome =
        command === 'rollback'
          ? await dispatchRollback(ctx, gh)
          : command === 'resume'
            ? await dispatchResume(ctx, gh)
            : await dispatchPauseOrResume(ctx, gh, command)
      const notified = await notifyDispatched(ctx, gh, outcome, runUrl())
      return await publishOutcomes(ctx.workspace, [outcome], [], notified, ctx)
    }
    if (ctx.eventName === 'repository_dispatch') {
      if (ctx.payload.action !== ALERT_EVENT_TYPE) {
        const note = `repository_dispatch of type "${String(ctx.payload.action)}" is not ${ALERT_EVENT_TYPE}: nothing to do`
        logInfo(note)
        return await writeSummary(`## phasegate\n\n${markdownText(note)}`)
      }
      // One tick for every feature the alert names: one sync, one load, their queries combined.
      const ticked = await tickOnGitHub(ctx, gh, featuresFromAlert(ctx.payload.client_payload))
      return await publishOutcomes(
        ctx.workspace,
        ticked.outcomes,
        ticked.failures,
        ticked.notifications,
        ctx
      )
    }
    const ticked = await tickOnGitHub({ ...ctx, dryRun: ctx.dryRun || command === 'status' }, gh)
    return await publishOutcomes(
      ctx.workspace,
      ticked.outcomes,
      ticked.failures,
      ticked.notifications,
      ctx
    )
  } catch (error) {
    const message = failWith(error, process.env.GITHUB_WORKSPACE ?? process.cwd())
    // The step has failed already; a summary that cannot be written must not replace the reason.
    await writeSummary(`## phasegate failed\n\n${markdownText(message)}`).catch(() => undefined)
  }
}

async function validate(ctx: ActionContext): Promise<void> {
  const { rollouts, failures, unknown } = await selectRollouts(
    ctx.workspace,
    ctx.policies,
    ctx.feature ? [ctx.feature] : []
  )
  if (failures[0]) throw failures[0].error
  if (unknown.length) throw unknownFeatures(unknown, rollouts)
  // A lost state file, or a committed datafile that says something else than the rollout: the
  // same refusals as the CLI's validate (rollout/datafile.ts), the first one failing the step. A
  // raise held back by a freeze window or a pause is a notice under its ok line.
  const delivery = rollouts.map(r => deliveryProblems(r, ctx.now))
  const problems = delivery.map(d => d.problems)
  const lines = rollouts.map((r, i) =>
    problems[i]!.length
      ? problems[i]!.map(p => `- ${markdownText(p.format())}`).join('\n')
      : [
          `- ok ${markdownCode(relativeTo(ctx.workspace, r.policyFile))}: ${markdownText(`feature ${r.policy.feature}, ${r.policy.phases.length} phases, ${r.state ? `at ${r.state.phase}` : 'not started'}`)}`,
          ...delivery[i]!.notices.map(n => `- notice: ${markdownText(n)}`)
        ].join('\n')
  )
  lines.forEach(l => logInfo(l.slice(2)))
  warnNotices(
    rollouts.map(r => r.policy),
    ctx.workspace
  )
  await writeSummary(`## phasegate validate\n\n${lines.join('\n')}`)
  const first = problems.flat()[0]
  if (first) throw first
}

async function check(ctx: ActionContext, gh: GitHubSide): Promise<void> {
  const result = await checkPullRequest(ctx, gh)
  const lines = result.details.length
    ? result.details.map(d => `- ${markdownText(d)}`)
    : ['- no state file changes']
  if (result.statusNotSet) core.warning(terminalText(result.statusNotSet))
  await writeSummary(
    `## phasegate/policy: ${result.state}\n\nPR #${result.prNumber} at ${result.sha.slice(0, 10)}\n\n${lines.join('\n')}${result.statusNotSet ? `\n\nNote: ${result.statusNotSet}.` : ''}`
  )
  core.setOutput('decision', result.state)
  core.setOutput('pr-number', String(result.prNumber))
  if (result.state === 'failure')
    core.setFailed(terminalText(`phasegate/policy: ${result.description}`))
}
