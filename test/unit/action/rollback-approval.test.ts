import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  openPulls,
  seedFiles,
  SPIKE,
  startCheckedOut,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import { SEED_POLICY_TEXT } from '../../support/policies.js'

// Issue 12, kind 4: rollback.manual_approval_required (in the seed's own file) is read. An
// automatic metric rollback is then proposed as a pull request that needs an approval, and the
// run says so; a system_failure rolls back at once all the same.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const GATED = `feature: production_deployment\n${SEED_POLICY_TEXT}`.replace(
  'manual_approval_required: false',
  'manual_approval_required: true'
)

const canaryRepo = () => startCheckedOut(repos, seedFiles(GATED, 'canary'))

describe('an automatic rollback with manual_approval_required', () => {
  test('is proposed as a rollback PR, loudly, and not pushed', async () => {
    const { gh, workspace } = await canaryRepo()
    writeMetrics(workspace, SPIKE)
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode).toBe(0)
    // Before: pushed straight to main, the key never read.
    expect(stateOnMain(gh)).toContain('phase: canary')
    expect(openPulls(gh).map(p => p.title)).toEqual([expect.stringMatching(/rollback/i)])
    expect(run.stdout).toMatch(/ROLLBACK NEEDS APPROVAL \(rollback\.manual_approval_required\)/)
  })

  test('a system_failure still rolls back at once', async () => {
    const { gh, workspace } = await canaryRepo()
    writeMetrics(workspace, { ...SPIKE, system_failure: 1 })
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode).toBe(0)
    expect(stateOnMain(gh)).toContain('phase: staging')
  })
})
