import { resolve } from 'node:path'
import type {
  Approval,
  CheckObservation,
  Experiment,
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
import { DEFAULT_WINDOW } from '../policy/normalize.js'
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
  const readings = await provider.read(requiredReadings(policy, state), {
    feature: policy.feature,
    phase: state.phase,
    now: options.now,
    baseDir: rollout.root,
    window: policy.metrics.window ?? DEFAULT_WINDOW,
    env: options.env ?? process.env
  })
  const failures = sourceFailuresOf(provider)
  return {
    readings,
    approvals: options.approvals,
    checks: options.checks,
    ...(failures ? { sourceFailures: failures } : {})
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
