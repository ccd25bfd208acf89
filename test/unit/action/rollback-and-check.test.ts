import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  openPulls,
  searchFiles,
  startCheckedOut,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// Dispatched rollbacks, landing on a protected branch, and the policy check, from src/main.ts
// against the GitHub emulator (the e2e tests run the same flows on dist/).

const STATE = '.phasegate/state/search.yaml'
const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const searchRepo = (phase = 'limited', protectDefaultBranch = false) =>
  startCheckedOut(repos, searchFiles(phase), { protectDefaultBranch })

describe('the action from its sources', () => {
  test('an emergency dispatch turns the feature off one phase back; the summary shows where it was and where it is', async () => {
    const { gh, workspace } = await searchRepo('full')
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: { inputs: { reason: 'checkout broken' }, sender: { login: 'alice' } }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs).toMatchObject({
      decision: 'rollback',
      phase: 'limited',
      enabled: 'false',
      'user-percentage': '0'
    })
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: false$/m)
    expect(run.summary).toContain('### search: full (3 of 3)')
    expect(run.summary).toContain('**Emergency rollback** full → limited')
    expect(run.summary).toMatch(
      /This run left search at \*\*limited\*\* .* kill switch \*\*OFF\*\*/
    )
  })

  test('on a protected default branch, land() falls through to propose(): a rollback PR carries the rollback', async () => {
    const { gh, workspace } = await searchRepo('full', true)
    writeMetrics(workspace, { error_rate: 0.5 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    const pull = openPulls(gh).find(p => p.pull!.head === 'phasegate/search/rollback')!
    expect(run.outputs['pr-number']).toBe(String(pull.number))
    expect(run.outputs['rollback-sha']).toBe(gh.git.branchSha('phasegate/search/rollback'))
    // Nothing landed: the deploy step still reads full.
    expect(run.outputs.phase).toBe('full')
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: full$/m)
    const checked = await runPhasegateFromSource(gh, workspace, {
      event: 'pull_request',
      inputs: { command: 'check' },
      payload: {
        pull_request: {
          number: pull.number,
          user: { login: pull.user },
          head: { sha: gh.git.branchSha(pull.pull!.head), ref: pull.pull!.head },
          base: { ref: 'main' }
        }
      }
    })
    expect(checked.outputs.decision, checked.stdout).toBe('success')
  })
})
