import { resolve } from 'node:path'
import type {
  Approval,
  CheckObservation,
  Experiment,
  MetricReading,
  MetricsConfig,
  Observations,
  Policy,
  State
} from '../engine/types.js'
import { requiredReadings } from '../engine/requests.js'
import { analyzeExperiment, type ExperimentAnalysis } from '../experiments/analysis.js'
import { experimentWindow, readGroupStatistics } from '../experiments/observe.js'
import { readResults } from '../experiments/results.js'
import { createProvider, sourceFailuresOf } from '../metrics/index.js'
import type { MetricsProvider, ReadContext } from '../metrics/provider.js'
import { exposureOf } from '../engine/exposure.js'
import { exposureShares, GUARDRAIL_GROUPS, guardrailStddevMetric } from '../engine/guardrails.js'
import { durationMs } from '../metrics/derived.js'
import { countFailedRuns, nextFailedRuns, type FailedRunsLedger } from '../state/source-failures.js'
import { DEFAULT_WINDOW } from '../policy/normalize.js'
import { isShallowRepository } from '../git/git.js'
import { readHistory, transitionsOf, type HistoryEntry } from '../git/transitions.js'
import { datafilePathOf, readCommittedDatafile } from '../export/datafile.js'
import { exposureInForce } from './exposure-raise.js'
import { currentState, type Rollout } from './load.js'

// Observing a rollout: its metrics through the policy's provider, and its experiments.

/** The policy's metrics source, or the file provider reading `metricsFile` when one is given. */
export function metricsConfigFor(policy: Policy, metricsFile?: string): MetricsConfig {
  return metricsFile
    ? { ...policy.metrics, provider: 'file', options: { path: metricsFile } }
    : policy.metrics
}

export interface ObserveOptions {
  now: Date
  approvals: Approval[]
  checks: CheckObservation[]
  /** Overrides the policy's metrics file (file provider only). */
  metricsFile?: string
  env?: Record<string, string | undefined>
  /**
   * Where runs that could not read the metrics source are counted between runs; without one,
   * only this run counts.
   */
  ledger?: FailedRunsLedger
  /** This run counts in the ledger (a tick that acts; not status or a dry run). */
  recordRun?: boolean
  /**
   * The feature's transitions, newest first, when the caller has read them already (the
   * dashboard reads every feature's in one pass): the cool-downs then read no history of their own.
   */
  transitions?: HistoryEntry[]
}

/**
 * Readings without a window start cover the policy's window ending `now` (what an instant query
 * at `now` of `rate(x[{{window}}])` reads), so triggers can tell them from evidence older than
 * the last transition.
 */
function stampWindows(readings: MetricReading[], now: Date, window: string): MetricReading[] {
  const start = (now.getTime() - durationMs(window)) / 1000
  return readings.map(r => (r.windowStart === undefined ? { ...r, windowStart: start } : r))
}

/** The readings `state`'s phase needs, with the approvals and checks gathered elsewhere. */
export async function observe(
  rollout: Rollout,
  state: State,
  options: ObserveOptions
): Promise<Observations> {
  const { policy } = rollout
  const provider = createProvider(
    metricsConfigFor(policy, options.metricsFile && resolve(options.metricsFile))
  )
  const window = policy.metrics.window ?? DEFAULT_WINDOW
  const readings = await provider.read(requiredReadings(policy, state), {
    feature: policy.feature,
    phase: state.phase,
    now: options.now,
    baseDir: rollout.root,
    window,
    env: options.env ?? process.env
  })
  // The provider counts attempts; a run could not read the source when its last one failed.
  const failure = sourceFailuresOf(provider)
  // Only a metrics server can be unreachable: other sources never touch the ledger.
  const ledger = 'sourceFailures' in provider ? options.ledger : undefined
  const previous = await ledger?.read(policy.feature)
  const failed = nextFailedRuns(previous, failure, options.now)
  if (ledger && options.recordRun && (failed || previous))
    await ledger.write(policy.feature, failed)
  const failures = countFailedRuns(failed, new Date(state.enteredAt))
  // The groups the application serves: a raise by a policy edit that waits for a freeze window
  // or a pause is not in the datafile yet, so the split is the one in force (exposureInForce).
  const committed = readCommittedDatafile(rollout.root, datafilePathOf(policy))
  const userPercentage = exposureInForce(
    policy,
    state,
    committed.kind === 'parsed' ? committed.datafile : null,
    options.now
  ).exposure.userPercentage
  const guardrailReadings = await readGuardrails(provider, policy, state, userPercentage, {
    feature: policy.feature,
    phase: state.phase,
    now: options.now,
    baseDir: rollout.root,
    window,
    env: options.env ?? process.env
  })
  const rollbacks = await rollbacksOf(rollout, options.transitions)
  return {
    ...(rollbacks?.shallow ? { historyShallow: true as const } : {}),
    ...(userPercentage !== exposureOf(policy, state).userPercentage ? { userPercentage } : {}),
    readings: stampWindows(readings, options.now, window),
    // A run that commits judges freeze windows at the clock too (Observations.clock).
    ...(options.recordRun ? { clock: new Date() } : {}),
    approvals: options.approvals,
    checks: options.checks,
    ...(failures ? { sourceFailures: failures } : {}),
    ...(guardrailReadings ? { guardrailReadings } : {}),
    ...(rollbacks ? { rollbacks: rollbacks.seen } : {})
  }
}

/**
 * The guardrails' per-group readings (control, treatment; `<metric>_stddev` for means), with
 * {{window}} covering everything since the phase was entered: an always-valid comparison needs
 * counts accumulated since the phase began (for Prometheus, `increase(x[{{window}}])`), not a
 * sliding window. Undefined when the policy has no guardrails or the exposure has no control.
 */
async function readGuardrails(
  provider: MetricsProvider,
  policy: Policy,
  state: State,
  userPercentage: number,
  context: ReadContext
): Promise<MetricReading[] | undefined> {
  const rules = policy.guardrails ?? []
  if (rules.length === 0 || !exposureShares(userPercentage)) return
  const requests = rules.flatMap(rule =>
    GUARDRAIL_GROUPS.flatMap(group => [
      { metric: rule.metric, group },
      ...(rule.kind === 'rate' ? [] : [{ metric: guardrailStddevMetric(rule.metric), group }])
    ])
  )
  const enteredS = Date.parse(state.enteredAt) / 1000
  const sinceS = Math.max(1, Math.round(context.now.getTime() / 1000 - enteredS))
  const readings = await provider.read(requests, { ...context, window: `${sinceS}s` })
  // A reading that says when it was taken (a snapshot's as_of: its window ends then) and was
  // taken before the phase was entered holds another phase's counts: no data, not evidence.
  return readings.map(r => {
    if (r.windowStart === undefined || r.value === null) return r
    const takenS = r.windowStart + sinceS
    if (takenS >= enteredS) return r
    return {
      metric: r.metric,
      ...(r.group ? { group: r.group } : {}),
      value: null,
      reason: `it was taken at ${new Date(takenS * 1000).toISOString()}, before ${state.phase} was entered at ${state.enteredAt}`
    }
  })
}

/**
 * The rollout's rollbacks from its git history (transitions only), newest first, for the
 * cool-downs, and whether that history is shallow (a depth-limited clone, as actions/checkout
 * makes by default: older rollbacks may be missing). Undefined when no phase has a cool-down, so
 * that other policies pay no `git log`.
 */
async function rollbacksOf(
  rollout: Rollout,
  transitions?: HistoryEntry[]
): Promise<{ seen: NonNullable<Observations['rollbacks']>; shallow: boolean } | undefined> {
  if (!rollout.policy.phases.some(p => p.cooldownMs)) return undefined
  const [history, shallow] = await Promise.all([
    transitions ?? readHistory(rollout.root, [rollout.policy]).then(transitionsOf),
    isShallowRepository(rollout.root)
  ])
  return {
    seen: history
      .filter(h => h.kind === 'rollback' || h.kind === 'emergency')
      .map(h => ({ from: h.from, to: h.to, at: h.at })),
    shallow
  }
}

/**
 * One experiment of a loaded rollout, from a results file or the policy's metrics provider:
 * what `status`, the job summary and the advance PR show (render with renderAnalysis or
 * renderAnalysisMarkdown from src/experiments/render.ts).
 */
export async function analyzeRolloutExperiment(
  rollout: Rollout,
  experiment: Experiment,
  options: {
    now: Date
    results?: string
    metricsFile?: string
    fixedHorizon?: boolean
    /** Where metrics credentials are read from (default: the process environment). */
    env?: Record<string, string | undefined>
  }
): Promise<ExperimentAnalysis> {
  const { policy } = rollout
  // Only a real state file knows when the experiment started; a fresh one would say "now".
  const recorded = rollout.state?.experiments[experiment.name]
  const startedAt = recorded?.startedAt
  const data = options.results
    ? await readResults(options.results, {
        groups: experiment.groups.map(g => g.name),
        metrics: experiment.successMetrics,
        ...(experiment.metricKinds ? { kinds: experiment.metricKinds } : {})
      })
    : await readGroupStatistics(
        createProvider(metricsConfigFor(policy, options.metricsFile)),
        experiment,
        {
          feature: policy.feature,
          phase: currentState(rollout, options.now).phase,
          now: options.now,
          baseDir: rollout.root,
          window: experimentWindow(experiment, options.now, startedAt),
          env: options.env ?? process.env
        }
      )
  return analyzeExperiment(experiment, data, {
    policy,
    sequential: !options.fixedHorizon,
    now: options.now,
    ...(startedAt ? { startedAt: new Date(startedAt) } : {}),
    ...(recorded ? { status: recorded.status } : {})
  })
}

/** Every enabled experiment of a rollout, as status, the job summary and the advance PR show them. */
export async function analyzeEnabledExperiments(
  rollout: Rollout,
  options: { now: Date; metricsFile?: string; env?: Record<string, string | undefined> }
): Promise<ExperimentAnalysis[]> {
  const analyses: ExperimentAnalysis[] = []
  for (const experiment of rollout.policy.experiments.filter(e => e.enabled)) {
    analyses.push(await analyzeRolloutExperiment(rollout, experiment, options))
  }
  return analyses
}
