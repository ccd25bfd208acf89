import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  SEARCH_POLICY,
  searchFiles,
  startCheckedOut,
  stateOnMain,
  T0,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, renderState } from '../../../src/state/file.js'

// The scheduled tick from src/main.ts against the GitHub emulator, with @actions/core observed
// through the job log, outputs and summary it writes.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

// A ladder whose first phase advances on its metric alone (no approval, no minimum time).
const LADDER_POLICY = `feature: ladder
deployment:
  order: [a, b, c]
  phases:
    a:
      user_percentage: 5
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "< 0.01" }
    b: { user_percentage: 50 }
    c: { user_percentage: 100 }
`
const LADDER_STATE = '.phasegate/state/ladder.yaml'

function ladderFiles(): Record<string, string> {
  const policy = parsePolicyText(LADDER_POLICY, 'ladder.yaml')
  return {
    '.gitignore': '.phasegate/metrics/\n',
    'policies/ladder.yaml': LADDER_POLICY,
    [LADDER_STATE]: renderState(initialState(policy, T0))
  }
}

describe('the job summary of a tick', () => {
  test('shows the decision under the state it was made from, then the phase the run left the rollout in', async () => {
    const { gh, workspace } = await startCheckedOut(repos, ladderFiles())
    writeMetrics(workspace, { error_rate: 0.001 }, 'ladder')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode).toBe(0)
    expect(stateOnMain(gh, LADDER_STATE)).toContain('phase: b')
    // Decided from a: the heading and the gate table are a's, not b's.
    expect(run.summary).toContain('### ladder: a (1 of 3)')
    expect(run.summary).toContain('**Advance** a → b')
    expect(run.summary).toContain('#### Gates to advance to b')
    expect(run.summary).not.toContain('Gates to advance to c')
    expect(run.summary).toMatch(/This run left ladder at \*\*b\*\* \(2 of 3\)/)
    // The outputs are for the deploy step: the phase after the run.
    expect(run.outputs.phase).toBe('b')
    // The job log has a group per feature and stage, as the code is cut.
    expect(run.stdout).toContain('::group::ladder: prepare')
    expect(run.stdout).toContain('::group::ladder: act')
  })
})

const BROKEN_POLICY = `feature: broken
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - error_rate >> 0.05
`

describe('one feature that cannot be evaluated', () => {
  test('does not stop another feature at full production from rolling back; the run still fails', async () => {
    const { gh, workspace } = await startCheckedOut(repos, {
      ...searchFiles('full'),
      'policies/broken.yaml': BROKEN_POLICY
    })
    writeMetrics(workspace, { error_rate: 0.5 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(stateOnMain(gh, '.phasegate/state/search.yaml')).toContain('phase: limited')
    expect(run.summary).toContain('policies/broken.yaml')
    expect(run.summary).toContain('**Roll back** full → limited')
    expect(run.exitCode).not.toBe(0)
  })

  test('a missing metrics secret of one feature leaves the others acting', async () => {
    const secretPolicy = SEARCH_POLICY.replace('feature: search', 'feature: secret').concat(
      `metrics:
  provider: prometheus
  url: http://127.0.0.1:9/
  bearer_token_env: PROM_TOKEN_NOT_SET
  queries:
    error_rate: rate(x[5m])
`
    )
    const { gh, workspace } = await startCheckedOut(repos, {
      ...searchFiles('full'),
      'policies/secret.yaml': secretPolicy,
      '.phasegate/state/secret.yaml': searchFiles('full')['.phasegate/state/search.yaml']!.replace(
        /search/g,
        'secret'
      )
    })
    writeMetrics(workspace, { error_rate: 0.5 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(stateOnMain(gh, '.phasegate/state/search.yaml')).toContain('phase: limited')
    expect(run.summary).toContain('PROM_TOKEN_NOT_SET')
    expect(run.exitCode).not.toBe(0)
  })
})
