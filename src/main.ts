import * as core from '@actions/core'
import { PhasegateError } from './errors.js'
import { tick } from './commands/tick.js'

/** The action's entry: inputs -> command -> outputs. Errors become a failed step, never a stack trace. */
export async function run(): Promise<void> {
  try {
    const command = core.getInput('command') || 'tick'
    if (command !== 'tick')
      throw new PhasegateError(
        `command "${command}" is not available in this version of the action`
      )
    const outcomes = await tick({
      cwd: process.env.GITHUB_WORKSPACE ?? process.cwd(),
      policies: core.getMultilineInput('policies'),
      now: new Date(),
      dryRun: core.getBooleanInput('dry-run'),
      approvedBy: [],
      checks: []
    })
    for (const o of outcomes)
      core.info(`${o.rollout.policy.feature}: ${o.decision.action} (${o.decision.reason})`)
    const first = outcomes[0]
    if (first) {
      core.setOutput('phase', first.decision.target ?? first.decision.phase)
      core.setOutput('decision', first.decision.action)
    }
  } catch (error) {
    core.setFailed(
      error instanceof PhasegateError
        ? error.format()
        : error instanceof Error
          ? error.message
          : String(error)
    )
  }
}
