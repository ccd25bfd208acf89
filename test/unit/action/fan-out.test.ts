import { afterEach, describe, expect, test } from 'vitest'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, renderState } from '../../../src/state/file.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  startCheckedOut,
  writeMetrics,
  T0,
  type Repo
} from '../../support/action-harness.js'

// The action's fan-out: every feature in `features-json`, and the datafile in each landed commit.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const ladder = (feature: string, gate: string) => `feature: ${feature}
deployment:
  order: [a, b]
  phases:
    a:
      user_percentage: 5
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "${gate}" }
    b: { user_percentage: 50 }
`

function files(): Record<string, string> {
  const out: Record<string, string> = { '.gitignore': '.phasegate/metrics/\n' }
  for (const [feature, gate] of [
    ['moves', '< 0.01'],
    ['waits', '< 0.0001']
  ] as const) {
    const text = ladder(feature, gate)
    out[`policies/${feature}.yaml`] = text
    out[`.phasegate/state/${feature}.yaml`] = renderState(
      initialState(parsePolicyText(text, `${feature}.yaml`), T0)
    )
  }
  out['policies/broken.yaml'] = 'feature: broken\ndeployment:\n  phases: 7\n'
  return out
}

describe('the action fans out every feature', () => {
  test('features-json lists each feature with its phase, exposure and decision, and the one that failed', async () => {
    const { gh, workspace } = await startCheckedOut(repos, files())
    writeMetrics(workspace, { error_rate: 0.001 }, 'moves')
    writeMetrics(workspace, { error_rate: 0.001 }, 'waits')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.outputs, run.stdout).toHaveProperty('features-json')
    const features = JSON.parse(run.outputs['features-json']!) as Array<Record<string, unknown>>
    expect(features.map(f => f.feature)).toEqual(['moves', 'waits', null])
    expect(features[0]).toMatchObject({
      phase: 'b',
      enabled: true,
      user_percentage: 50,
      decision: 'advance',
      error: null
    })
    expect(features[1]).toMatchObject({
      phase: 'a',
      enabled: true,
      user_percentage: 5,
      decision: 'hold'
    })
    expect(features[2]).toMatchObject({ enabled: false, user_percentage: 0, decision: 'error' })
    expect(String(features[2]!.error)).toMatch(/broken\.yaml/)

    // The advance landed with the feature's datafile beside its state, saying the same.
    const datafile = JSON.parse(
      gh.readFile('main', '.phasegate/state/moves.datafile.json')!
    ) as Record<string, unknown>
    expect(datafile).toMatchObject({
      feature: 'moves',
      phase: 'b',
      enabled: true,
      user_percentage: 50
    })
    expect(datafile.transition).toMatchObject({ kind: 'advance', from: 'a', to: 'b' })
  })
})

describe('GitHub Deployments (input deployments: true)', () => {
  test('a landed transition becomes a deployment to phasegate/<feature> carrying the datafile; a hold makes none', async () => {
    const { gh, workspace } = await startCheckedOut(repos, files())
    writeMetrics(workspace, { error_rate: 0.001 }, 'moves')
    writeMetrics(workspace, { error_rate: 0.001 }, 'waits')
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: { deployments: 'true' }
    })
    const deployments = gh.state.deployments
    expect(deployments.map(d => d.environment)).toEqual(['phasegate/moves'])
    const [d] = deployments
    expect(d!.sha).toBe(gh.git.branchSha('main'))
    expect(d!.payload).toMatchObject({ feature: 'moves', phase: 'b', user_percentage: 50 })
    expect(d!.statuses.map(s => s.state)).toEqual(['success'])
    expect(run.summary).toContain('deployment')
  })

  test('a refused deployment is reported and the transition still lands', async () => {
    const { gh, workspace } = await startCheckedOut(repos, files())
    writeMetrics(workspace, { error_rate: 0.001 }, 'moves')
    writeMetrics(workspace, { error_rate: 0.001 }, 'waits')
    gh.inject({ method: 'POST', path: /\/deployments$/, status: 500, times: 10 })
    await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: { deployments: 'true' }
    })
    expect(gh.readFile('main', '.phasegate/state/moves.yaml')).toContain('phase: b')
    expect(gh.state.deployments).toHaveLength(0)
  })
})
