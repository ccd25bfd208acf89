import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  searchFiles,
  startCheckedOut,
  stateOnMain,
  type Repo
} from '../../support/action-harness.js'

// A9's kind in the action (attack review, /work/notes/attack.md): another team's broken policy
// on main must not block a dispatched emergency rollback of the feature named.

const STATE = '.phasegate/state/search.yaml'
const BROKEN = 'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'
const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

describe('dispatched rollback beside a broken policy', () => {
  test('an emergency dispatch naming its feature lands although another policy is broken', async () => {
    const { gh, workspace } = await startCheckedOut(repos, {
      ...searchFiles('full'),
      'policies/g.yaml': BROKEN
    })
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: {
        inputs: { reason: 'checkout broken', feature: 'search' },
        sender: { login: 'alice' }
      }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: false$/m)
  })
  // Changed by op15: with no feature named, the one rollout that loaded is the only one phasegate
  // can roll back, so the lever acts on it and reports the broken policy instead of refusing.
  test('without a feature named, the one rollout that loaded is rolled back and the broken policy reported (located)', async () => {
    const { gh, workspace } = await startCheckedOut(repos, {
      ...searchFiles('full'),
      'policies/g.yaml': BROKEN
    })
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: { inputs: { reason: 'checkout broken' }, sender: { login: 'alice' } }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: false$/m)
    expect(run.stdout).toMatch(/policies\/g\.yaml:\d+:\d+/)
  })
})
