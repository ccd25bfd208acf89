import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  BOT,
  hoursAfter,
  openPulls,
  searchFiles,
  startCheckedOut,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import type { EmulatedRuleset } from '../../support/github-emulator/index.js'
import { runGit } from '../../support/github-emulator/git-client.js'

// A push refused by a repository ruleset (issue 11, kind 5): the rollback still happens, through
// a rollback PR, and the report says which rule refused and what to configure, instead of
// blaming the token's permissions.

const STATE = '.phasegate/state/search.yaml'
const ROLLBACK_BRANCH = 'phasegate/search/rollback'
const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

async function underRuleset(ruleset: EmulatedRuleset) {
  const started = await startCheckedOut(repos, searchFiles('full'), { ruleset })
  writeMetrics(started.workspace, { error_rate: 0.5 }, 'search')
  return started
}

describe('a tick whose rollback push a ruleset refuses', () => {
  test.each([
    ['restricted updates', { restrictUpdates: true }, 'updates to the branch are restricted'],
    [
      'a required status check',
      { statusChecks: ['ci'] },
      'required status check "ci" must pass first'
    ],
    [
      'a pull request and two checks',
      { pullRequest: true, statusChecks: ['build', 'test'] },
      'changes must go through a pull request; required status checks "build", "test" must pass first'
    ]
  ])('%s: opens the rollback PR and names the rule and the bypass', async (_, ruleset, rule) => {
    const { gh, workspace } = await underRuleset(ruleset)
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    const pull = openPulls(gh).find(p => p.pull!.head === ROLLBACK_BRANCH)
    expect(pull, run.stdout).toBeDefined()
    expect(run.outputs['pr-number']).toBe(String(pull!.number))
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: full$/m)
    expect(run.summary).toContain(`the ruleset on main refused the push: ${rule}`)
    expect(run.summary).toContain("ruleset's bypass list")
    expect(pull!.body).toContain(rule)
    expect(run.stdout).not.toContain('contents: write')
  })

  test('the ruleset bypassing phasegate lets the rollback land at once', async () => {
    const { gh, workspace } = await underRuleset({ restrictUpdates: true, bypass: [BOT] })
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: limited$/m)
    expect(openPulls(gh)).toHaveLength(0)
  })

  test('an emergency dispatch under a ruleset opens the emergency rollback PR, naming the rule', async () => {
    const { gh, workspace } = await underRuleset({ restrictUpdates: true })
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: { inputs: { reason: 'checkout broken' }, sender: { login: 'alice' } }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    const pull = openPulls(gh).find(p => p.pull!.head === ROLLBACK_BRANCH)
    expect(pull, run.stdout).toBeDefined()
    expect(pull!.body).toContain('updates to the branch are restricted')
    expect(run.summary).toContain('updates to the branch are restricted')
  })

  test('a ruleset that requires signed commits: the rollback lands at once through the Git Data API, signed by GitHub', async () => {
    const { gh, workspace } = await underRuleset({ signatures: true })
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: limited$/m)
    expect(openPulls(gh)).toHaveLength(0)
    const tip = gh.git.branchSha('main')!
    expect(gh.state.signedCommits.has(tip)).toBe(true)
    expect(gh.git.git(['log', '-1', '--format=%B', tip])).toContain('Phasegate-Kind: rollback')
    expect(run.outputs['rollback-sha']).toBe(tip)
    // The checkout follows the commit GitHub made.
    expect((await runGit(workspace, ['rev-parse', 'HEAD'])).stdout).toBe(tip)
  })

  test('signed commits and restricted updates: the API cannot get past the second rule, so a PR', async () => {
    const { gh, workspace } = await underRuleset({ signatures: true, restrictUpdates: true })
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(openPulls(gh).map(p => p.pull!.head)).toEqual([ROLLBACK_BRANCH])
    expect(run.summary).toContain(
      'commits must have verified signatures; updates to the branch are restricted'
    )
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: full$/m)
  })

  test("a ruleset on every branch also refuses phasegate's own branch: the run fails naming the rule, not the token", async () => {
    const { gh, workspace } = await underRuleset({ restrictUpdates: true, allBranches: true })
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toContain(
      'pushing the branch phasegate/search/rollback for its pull request was refused: the ruleset on phasegate/search/rollback refused the push: updates to the branch are restricted'
    )
    expect(openPulls(gh)).toHaveLength(0)
  })
})
