import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  SEARCH_POLICY,
  startSearchRepo,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// A guardrail's on_fire in the action, from src/main.ts against the GitHub emulator: pause means
// what it means on a trigger (a pause transition), and the summary says what it does.

const STATE = '.phasegate/state/search.yaml'
const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

/** The search policy at limited (25% treatment) with an error_rate guardrail. */
async function guardedRepo(onFire: 'pause' | 'observe') {
  const policyText = `${SEARCH_POLICY}guardrails:\n  error_rate: { margin: 0.05, minimum_sample_size: 500000, on_fire: ${onFire} }\n`
  return startSearchRepo(repos, policyText, { phase: 'limited' })
}

/** A 10% regression of treatment against control, with enough users to be sure of it. */
const REGRESSED = {
  error_rate: 0.001,
  groups: {
    control: { error_rate: { value: 0.01, samples: 7_500_000 } },
    treatment: { error_rate: { value: 0.011, samples: 2_500_000 } }
  }
}

describe('a guardrail with on_fire: pause in the action', () => {
  test('pushes a pause, as a trigger with on_fire: pause does, and the summary says it pauses', async () => {
    const { gh, workspace } = await guardedRepo('pause')
    writeMetrics(workspace, REGRESSED, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs, run.summary).toMatchObject({ decision: 'pause', phase: 'limited' })
    expect(run.summary).toContain('automatic pause (on_fire: pause)')
    expect(run.summary).toMatch(
      /On fire: guardrail: error_rate \(margin 5\.00%\) pauses the rollout/
    )
    expect(stateOnMain(gh, STATE)).toMatch(/^paused:$/m)
  })

  test('an observe-only guardrail rolls nothing back and the summary does not call it a rollback', async () => {
    const { gh, workspace } = await guardedRepo('observe')
    writeMetrics(workspace, REGRESSED, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.summary).not.toContain('every trigger rolls back')
    expect(run.summary).toMatch(/On fire: guardrail: error_rate \(margin 5\.00%\) observe-only/)
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: limited$/m)
    expect(stateOnMain(gh, STATE)).not.toMatch(/^paused:$/m)
    // Observe-only is "reported and alerted": one alert issue, not one per run.
    const again = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(2) })
    expect(again.exitCode, again.stdout).toBe(0)
    const issues = [...gh.state.issues.values()].filter(
      i => !i.pull && i.labels.some(l => l.startsWith('alert:observed_'))
    )
    expect(
      issues.map(i => i.labels.find(l => l.startsWith('alert:'))),
      again.summary
    ).toEqual(['alert:observed_guardrail_error_rate'])
  })
})
