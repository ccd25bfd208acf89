import { resolve } from 'node:path'
import type { Experiment } from '../engine/types.js'
import { analyzeExperiment, type ExperimentAnalysis } from '../experiments/analysis.js'
import { experimentWindow, readGroupStatistics } from '../experiments/observe.js'
import { renderAnalysis } from '../experiments/render.js'
import { readResults } from '../experiments/results.js'
import { createProvider } from '../metrics/index.js'
import { findExperiment } from './experiment.js'
import { currentState, metricsConfigFor, type Rollout } from './workspace.js'

export interface AnalyzeOptions {
  cwd: string
  policies: string[]
  experiment?: string
  /** A per-user or aggregate results file (CSV or NDJSON); otherwise the policy's metrics provider. */
  results?: string
  /** Overrides the policy's metrics file (file provider only), as for status and tick. */
  metricsFile?: string
  json: boolean
  /** Turn sequential testing off: only right when the data are looked at once. */
  fixedHorizon: boolean
  now: Date
}

/**
 * Estimates, intervals, p-values, the sample ratio check and the verdict for one experiment.
 * Reads everything before printing anything, so bad input yields an error and no report.
 */
export async function analyze(
  options: AnalyzeOptions
): Promise<{ output: string; exitCode: number; analysis: ExperimentAnalysis }> {
  const { rollout, experiment } = await findExperiment(
    options.cwd,
    options.policies,
    options.experiment
  )
  const analysis = await analyzeRolloutExperiment(rollout, experiment, {
    ...options,
    results: options.results && resolve(options.cwd, options.results),
    metricsFile: options.metricsFile && resolve(options.cwd, options.metricsFile)
  })
  return {
    output: options.json ? JSON.stringify(analysis, null, 2) : renderAnalysis(analysis),
    exitCode: 0,
    analysis
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
