import { afterEach, describe, expect, it } from 'vitest'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, renderState } from '../../../src/state/file.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  checkout,
  hoursAfter,
  SEARCH_POLICY,
  startRepo,
  stateOnMain,
  T0,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// Issue 15 (attack15b A1): one metric written wrong in a snapshot never stops another metric's
// rollback, in the action against the GitHub emulator.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

/** The search policy's repository with the rollout at `phase`. */
async function searchAt(phase: string, policyText = SEARCH_POLICY) {
  const policy = parsePolicyText(policyText, 'search.yaml')
  const repo = await startRepo({
    files: {
      '.gitignore': '.phasegate/metrics/\n',
      'policies/search.yaml': policyText,
      [policy.statePath]: renderState({ ...initialState(policy, T0), phase })
    }
  })
  repos.push(repo)
  const workspace = await checkout(repo.gh)
  return { gh: repo.gh, workspace, statePath: policy.statePath }
}

/** One point a minute over the hour before `end`. */
const lastHour = (end: Date, value: number) => {
  const points: Array<[string, number]> = []
  for (let m = 60; m >= 0; m--)
    points.push([new Date(end.getTime() - m * 60_000).toISOString(), value])
  return points
}

describe('one doubtful metric never stops another metric rolling back (action)', () => {
  it('error_rate 20x its trigger rolls back although latency_ms value and series disagree by 1', async () => {
    // latency_ms is not even read by the search policy: the exporter writes it for a dashboard.
    const { gh, workspace, statePath } = await searchAt('limited')
    const now = hoursAfter(2)
    writeMetrics(
      workspace,
      { error_rate: 0.9, latency_ms: { value: 120, step: '1m', series: lastHour(now, 121) } },
      'search'
    )
    const run = await runPhasegateFromSource(gh, workspace, { now })
    expect(run.outputs.decision, run.stdout + run.summary).toBe('rollback')
    expect(stateOnMain(gh, statePath)).toMatch(/^phase: canary$/m)
  }, 60_000)
})
