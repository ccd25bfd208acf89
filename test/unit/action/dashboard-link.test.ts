import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  checkout,
  hoursAfter,
  searchFiles,
  startRepo,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// Issue 16: the job summary links to the published dashboard when the workflow says where it is
// (input dashboard-url); an address that is not http(s) fails the step before anything acts.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

async function searchRepo() {
  const repo = await startRepo({ files: searchFiles('full') })
  repos.push(repo)
  const workspace = await checkout(repo.gh)
  writeMetrics(workspace, { error_rate: 0.5 }, 'search')
  return { gh: repo.gh, workspace }
}

describe('the job summary and the dashboard', () => {
  test('links to the dashboard when dashboard-url is set', async () => {
    const { gh, workspace } = await searchRepo()
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: { 'dashboard-url': 'https://acme.github.io/shop/(beta)' }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.summary).toContain('[Open the dashboard](https://acme.github.io/shop/%28beta%29)')
    expect(run.summary).toContain('**Roll back** full → limited')
  })

  test('has no link without it', async () => {
    const { gh, workspace } = await searchRepo()
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.summary).not.toContain('dashboard')
  })

  test('an address that is not http(s) fails the step and nothing acts', async () => {
    const { gh, workspace } = await searchRepo()
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: { 'dashboard-url': 'javascript:alert(1)' }
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toContain(
      'input dashboard-url "javascript:alert(1)" is not an http(s) address'
    )
    expect(stateOnMain(gh, '.phasegate/state/search.yaml')).toContain('phase: full')
  })
})
