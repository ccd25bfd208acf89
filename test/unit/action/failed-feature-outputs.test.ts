import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import { startCheckedOut, type Repo } from '../../support/action-harness.js'

// A run whose only feature could not be evaluated (a broken policy, a missing state file with
// history, a secret the run lacks) still sets the step's outputs, and they say off: a deploy
// step reading `enabled` must never find it empty, let alone on (issue 11, kinds 2 and 3).

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

describe('outputs of a run whose feature failed', () => {
  test('say enabled=false, 0%, decision error; features-json lists the feature with its error', async () => {
    const { gh, workspace } = await startCheckedOut(repos, {
      'policies/search.yaml': 'feature: search\ndeployment:\n  phases: [unclosed\n'
    })
    const run = await runPhasegateFromSource(gh, workspace)
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs).toMatchObject({
      enabled: 'false',
      'user-percentage': '0',
      decision: 'error',
      phase: '',
      'pr-number': '',
      'rollback-sha': ''
    })
    expect(JSON.parse(run.outputs['features-json']!)).toMatchObject([
      { enabled: false, user_percentage: 0, decision: 'error' }
    ])
  })
})
