import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  searchFiles,
  startCheckedOut,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// Issue 16: the job summary links to the published dashboard when the workflow says where it is
// (input dashboard-url). An address that is not http(s) is a warning and no link: a link in the
// summary must never stop the rollback the run is there for (nor must the auxiliary switches
// deployments and heartbeat written wrong).

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

async function searchRepo() {
  const started = await startCheckedOut(repos, searchFiles('full'))
  writeMetrics(started.workspace, { error_rate: 0.5 }, 'search')
  return started
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

  test('an address that is not http(s) is a warning with no link, and the rollback lands', async () => {
    const { gh, workspace } = await searchRepo()
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: { 'dashboard-url': 'javascript:alert(1)' }
    })
    expect(run.stdout).toContain(
      'input dashboard-url "javascript:alert(1)" is not an http(s) address'
    )
    expect(run.summary).not.toContain('javascript:')
    expect(run.summary).not.toContain('Open the dashboard')
    expect(stateOnMain(gh, '.phasegate/state/search.yaml')).toContain('phase: limited')
  })

  test.each(['deployments', 'heartbeat'])(
    'input %s written "yes" is a warning (off), and the rollback lands',
    async input => {
      const { gh, workspace } = await searchRepo()
      const run = await runPhasegateFromSource(gh, workspace, {
        now: hoursAfter(1),
        inputs: { [input]: 'yes' }
      })
      expect(run.stdout).toContain(`input ${input} "yes"`)
      expect(stateOnMain(gh, '.phasegate/state/search.yaml')).toContain('phase: limited')
    }
  )
})
