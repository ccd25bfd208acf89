import { resolve } from 'node:path'
import type { ExperimentAnalysis } from '../experiments/analysis.js'
import { renderAnalysis } from '../experiments/render.js'
import { analyzeRolloutExperiment } from '../rollout/observe.js'
import { findExperiment } from './experiment.js'

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
