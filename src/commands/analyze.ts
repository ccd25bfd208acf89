import { resolve } from 'node:path'
import { analyzeExperiment, type ExperimentAnalysis } from '../experiments/analysis.js'
import { experimentWindow, readGroupStatistics } from '../experiments/observe.js'
import { readResults } from '../experiments/results.js'
import { createProvider } from '../metrics/index.js'
import { renderAnalysis } from '../experiments/render.js'
import { findExperiment } from './experiment.js'
import { currentState } from './workspace.js'

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
  const { policy } = rollout
  const state = currentState(rollout, options.now)
  // Only a real state file knows when the experiment started; a fresh one would say "now".
  const startedAt = rollout.state?.experiments[experiment.name]?.startedAt
  const data = options.results
    ? await readResults(resolve(options.cwd, options.results), {
        groups: experiment.groups.map(g => g.name),
        metrics: experiment.successMetrics
      })
    : await readGroupStatistics(
        createProvider(
          options.metricsFile
            ? {
                ...policy.metrics,
                provider: 'file',
                options: { path: resolve(options.cwd, options.metricsFile) }
              }
            : policy.metrics
        ),
        experiment,
        {
          feature: policy.feature,
          phase: state.phase,
          now: options.now,
          baseDir: rollout.root,
          window: experimentWindow(experiment, options.now, startedAt),
          env: process.env
        }
      )
  const analysis = analyzeExperiment(experiment, data, {
    policy,
    sequential: !options.fixedHorizon,
    now: options.now,
    ...(startedAt ? { startedAt: new Date(startedAt) } : {})
  })
  return {
    output: options.json ? JSON.stringify(analysis, null, 2) : renderAnalysis(analysis),
    exitCode: 0,
    analysis
  }
}
