import * as core from '@actions/core'
import type { NotificationReport } from '../notify/deliver.js'
import { renderNotifications } from '../notify/render.js'
import type { Decision, MetricReading, Policy, State, Transition } from '../engine/types.js'
import type { ExperimentAnalysis } from '../experiments/analysis.js'
import { renderReport } from '../report/markdown.js'
import { datafilePathOf, readCommittedDatafile } from '../export/datafile.js'
import { exposureInForce, type ExposureInForce } from '../rollout/exposure-raise.js'
import { relativeTo } from '../rollout/load.js'
import type { FailedFeature, FeatureResult } from './feature.js'
import { annotationOf } from './annotations.js'
import { markdownText } from '../report/escape/markdown.js'
import { logInfo } from './log.js'
import { terminalText } from '../report/escape/terminal.js'

// What one run did for each feature, and the one place outputs and the job summary are made.

/** What one run did for one feature: the outputs and the job summary are made from this. */
export interface FeatureOutcome {
  policy: Policy
  /** The state the decision was made from (as deployed): the report shows the decision under it. */
  decidedFrom: State
  /** The state after the run: the outputs, and the phase the report says the run left it in. */
  after: State
  decision: Decision
  readings: MetricReading[]
  actions: string[]
  /** Enabled experiments' status and verdict (ticks only). */
  experiments?: ExperimentAnalysis[]
  /** A transition made by a person (a dispatched rollback or resume) rather than by the decision. */
  manual?: Transition
  prNumber?: number
  rollbackSha?: string
  /** The commit this run put on the default branch, if any. */
  landed?: string
}

/** The outcome of one feature: what prepare and evaluate found, and what the effect did. */
export function outcomeOf(input: {
  policy: Policy
  decidedFrom: State
  after: State
  decision: Decision
  readings: MetricReading[]
  experiments?: ExperimentAnalysis[]
  /** The advance PR that was open before the run; it stays the feature's PR unless the effect says otherwise. */
  standingPr?: number
  result: FeatureResult
  manual?: Transition
}): FeatureOutcome {
  const { result } = input
  const rolledBack = result.rollbackSha !== undefined
  const prNumber = result.prNumber ?? (rolledBack ? undefined : input.standingPr)
  return {
    policy: input.policy,
    decidedFrom: input.decidedFrom,
    after: input.after,
    decision: input.decision,
    readings: input.readings,
    actions: result.actions,
    ...(input.experiments ? { experiments: input.experiments } : {}),
    ...(input.manual ? { manual: input.manual } : {}),
    ...(prNumber !== undefined ? { prNumber } : {}),
    ...(result.rollbackSha ? { rollbackSha: result.rollbackSha } : {}),
    ...(result.landed ? { landed: result.landed } : {})
  }
}

/**
 * The `decision` output: a person's rollback is a rollback whatever the gates say; a person's
 * pause or resume is that.
 */
function decisionOutput(outcome: FeatureOutcome): string {
  const manual = outcome.manual?.kind
  if (manual === 'pause' || manual === 'resume') return manual
  return manual ? 'rollback' : outcome.decision.action
}

/**
 * What a feature of the run exposes after it, as every surface says it (exposureInForce): a raise
 * by a policy edit that the workspace's committed datafile holds back for a freeze window or a
 * pause is not in it, so a deploy step reading the outputs serves what the datafile serves.
 */
function exposedAfter(
  workspace: string,
  outcome: FeatureOutcome,
  now: Date,
  state: State = outcome.after
): ExposureInForce {
  const committed = readCommittedDatafile(workspace, datafilePathOf(outcome.policy))
  return exposureInForce(
    outcome.policy,
    state,
    committed.kind === 'parsed' ? committed.datafile : null,
    now
  )
}

/** The outputs that say what a feature exposes (exposureInForce, as every surface says it). */
export function actionOutputs(
  inForce: ExposureInForce
): Record<'phase' | 'enabled' | 'user-percentage' | 'flags-json', string> {
  const { exposure } = inForce
  const flags = {
    feature: exposure.feature,
    phase: exposure.phase,
    enabled: exposure.enabled,
    user_percentage: exposure.userPercentage,
    feature_flags: exposure.featureFlags,
    monitoring_level: exposure.monitoringLevel,
    rollback_threshold: exposure.rollbackThreshold
  }
  return {
    phase: exposure.phase,
    enabled: String(exposure.enabled),
    'user-percentage': String(exposure.userPercentage),
    'flags-json': JSON.stringify(flags)
  }
}

/**
 * Sets the outputs (of the first feature: a deploy step reads one) and writes the job summary
 * (every feature, and every feature that could not be evaluated). Failures fail the step at the
 * end, after every other feature has acted.
 */
export async function publishOutcomes(
  workspace: string,
  outcomes: FeatureOutcome[],
  failures: FailedFeature[] = [],
  notifications: NotificationReport = { deliveries: [], logged: [] },
  options: { dashboardUrl?: string; now?: Date } = {}
): Promise<void> {
  const now = options.now ?? new Date()
  const notified = renderNotifications(notifications)
  notified.lines.forEach(line => core.info(line.trim()))
  for (const o of outcomes)
    logInfo(
      `${o.policy.feature}: ${decisionOutput(o)} (${o.manual?.reason ?? o.decision.reason})${o.actions.map(a => `\n  ${a}`).join('')}`
    )
  const first = outcomes[0]
  if (first) {
    for (const [name, value] of Object.entries(actionOutputs(exposedAfter(workspace, first, now))))
      core.setOutput(name, value)
    core.setOutput('decision', decisionOutput(first))
    core.setOutput('pr-number', first.prNumber === undefined ? '' : String(first.prNumber))
    core.setOutput('rollback-sha', first.rollbackSha ?? '')
  } else if (failures.length) {
    // Only features that could not be evaluated: nothing can say one is on, so the outputs a
    // deploy step reads say off rather than nothing.
    const first = failures[0]!
    core.setOutput('phase', '')
    core.setOutput('enabled', 'false')
    core.setOutput('user-percentage', '0')
    core.setOutput(
      'flags-json',
      JSON.stringify({
        feature: first.feature ?? null,
        phase: null,
        enabled: false,
        user_percentage: 0,
        feature_flags: []
      })
    )
    core.setOutput('decision', 'error')
    core.setOutput('pr-number', '')
    core.setOutput('rollback-sha', '')
  }
  const failed = failures.map(f => failureLine(workspace, f))
  core.setOutput(
    'features-json',
    JSON.stringify(featuresJson(outcomes, failures, failed, o => exposedAfter(workspace, o, now)))
  )
  // A failure at a place in a file is an annotation there, inline on the pull request's Files tab.
  failures.forEach((f, i) => core.error(terminalText(failed[i]!), annotationOf(f.error, workspace)))
  await writeSummary(
    [
      '## phasegate',
      ...(options.dashboardUrl ? [`[Open the dashboard](${options.dashboardUrl})`] : []),
      ...(failed.length
        ? [
            `**${failed.length} ${failed.length === 1 ? 'policy' : 'policies'} could not be evaluated**; the other features acted:\n\n${failed.map(l => `- ${markdownText(l)}`).join('\n')}`
          ]
        : []),
      ...outcomes.map(o =>
        renderReport({
          policy: o.policy,
          state: o.decidedFrom,
          after: o.after,
          decision: o.decision,
          readings: o.readings,
          actions: o.actions,
          ...(o.experiments ? { experiments: o.experiments } : {}),
          ...(o.manual ? { manual: o.manual } : {}),
          exposure: {
            state: exposedAfter(workspace, o, now, o.decidedFrom).exposure,
            after: exposedAfter(workspace, o, now).exposure
          }
        })
      ),
      ...(notified.lines.length
        ? [`### Notifications\n\n${notified.lines.map(l => `- ${l.trim()}`).join('\n')}`]
        : [])
    ].join('\n\n')
  )
  // A failed notification fails the step only now, after every feature has acted. Each one's
  // reason is in the log and the summary already: the failure names them, without repeating it.
  const undelivered = notifications.deliveries
    .filter(d => d.status === 'failed')
    .map(d => `${d.target} (${d.feature} ${d.event})`)
  const problems = [
    ...(failed.length
      ? [
          `${failed.length} of ${failed.length + outcomes.length} rollouts could not be evaluated: ${failed.join('; ')}`
        ]
      : []),
    ...(undelivered.length
      ? [
          `${undelivered.length} ${undelivered.length === 1 ? 'notification' : 'notifications'} failed, after every feature acted (why: under Notifications in the job summary): ${undelivered.join('; ')}`
        ]
      : [])
  ]
  if (problems.length) core.setFailed(terminalText(problems.join('. ')))
}

/**
 * The `features-json` output: every feature of the run, in policy order, as a deploy matrix or
 * fan-out step reads it. A feature that could not be evaluated is listed with its error and
 * reported off (`enabled: false`, 0%): nothing can say it is on.
 */
function featuresJson(
  outcomes: FeatureOutcome[],
  failures: FailedFeature[],
  failed: string[],
  exposedOf: (outcome: FeatureOutcome) => ExposureInForce
) {
  return [
    ...outcomes.map(o => {
      const { exposure } = exposedOf(o)
      return {
        feature: o.policy.feature,
        phase: exposure.phase,
        enabled: exposure.enabled,
        user_percentage: exposure.userPercentage,
        feature_flags: exposure.featureFlags,
        decision: decisionOutput(o),
        pr_number: o.prNumber ?? null,
        rollback_sha: o.rollbackSha ?? null,
        error: null
      }
    }),
    ...failures.map((f, i) => ({
      feature: f.feature ?? null,
      phase: null,
      enabled: false,
      user_percentage: 0,
      feature_flags: [],
      decision: 'error',
      pr_number: null,
      rollback_sha: null,
      error: failed[i]!
    }))
  ]
}

function failureLine(workspace: string, failure: FailedFeature): string {
  // A located error names its file already; otherwise say which policy it is about.
  const message = failure.error.format()
  if (failure.error.location) return message
  const where = relativeTo(workspace, failure.policyFile)
  if (!where) return message
  return `${failure.feature ? `${failure.feature} (${where})` : where}: ${message}`
}

/** Appends markdown to the job summary, when the runner provides one. */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(markdown, true).write()
}
