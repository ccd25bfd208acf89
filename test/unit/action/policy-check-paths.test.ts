import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { initialState, renderState } from '../../../src/state/file.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  api,
  checkout,
  hoursAfter,
  pullRequestEvent,
  SEARCH_POLICY,
  searchFiles,
  startRepo,
  T0,
  type Repo
} from '../../support/action-harness.js'
import { cloneEmulated, runGit } from '../../support/github-emulator/git-client.js'

// The phasegate/policy check must see every way a pull request can move a rollout, not only an
// edit of a state file in place (issue 10, kind 4).

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const STATE = '.phasegate/state/search.yaml'

/** bob's pull request that does `change` in a clone of main; the check's run on it. */
async function checkPullRequestThat(change: (dir: string) => void, phase = 'limited') {
  const repo = await startRepo({ files: searchFiles(phase) })
  repos.push(repo)
  const { gh } = repo
  const workspace = await checkout(gh)
  const dir = await cloneEmulated(gh, 'bob')
  await runGit(dir, ['checkout', '-q', '-b', 'change'])
  change(dir)
  await runGit(dir, ['add', '-A'])
  await runGit(dir, ['commit', '-q', '-m', 'a change'])
  await runGit(dir, ['push', '-q', 'origin', 'change'], gh.gitAuthHeader('bob'))
  const created = await api(gh, 'POST', '/pulls', { title: 'change', head: 'change', base: 'main' })
  return runPhasegateFromSource(gh, workspace, {
    now: hoursAfter(3),
    event: 'pull_request',
    inputs: { command: 'check' },
    payload: pullRequestEvent(gh, created.number)
  })
}

function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true })
  writeFileSync(join(dir, path), text)
}

const atPhase = (phase: string, text = SEARCH_POLICY) => {
  const policy = parsePolicyText(text, 'p.yaml')
  return renderState({ ...initialState(policy, T0), phase })
}

describe('the policy check sees every path by which a pull request moves a rollout', () => {
  test('a state file moved out of .phasegate/state fails (renames count as delete + add)', async () => {
    const run = await checkPullRequestThat(dir => {
      mkdirSync(join(dir, 'archive'))
      renameSync(join(dir, STATE), join(dir, 'archive/search.yaml'))
    })
    expect(run.outputs.decision, run.stdout).toBe('failure')
    // the old path is deleted and a file phasegate does not own appears: either way, a failure
    expect(run.summary).toContain(`- ${STATE}: `)
  })

  test('a policy whose state: now points at another file (already at full) fails', async () => {
    const run = await checkPullRequestThat(dir => {
      write(dir, 'policies/search.yaml', `${SEARCH_POLICY}state: rollouts/search.yaml\n`)
      write(dir, 'rollouts/search.yaml', atPhase('full'))
    })
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toContain('state: now points at rollouts/search.yaml instead of')
  })

  test('a new policy whose state starts past its first phase fails', async () => {
    const text =
      SEARCH_POLICY.replace('feature: search', 'feature: pay') + 'state: pay-state.yaml\n'
    const run = await checkPullRequestThat(dir => {
      write(dir, 'policies/pay.yaml', text)
      write(dir, 'pay-state.yaml', atPhase('full', text))
    })
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toContain('a new rollout starts at full, past its first phase canary')
  })

  test('a new policy that starts at its first phase passes (control)', async () => {
    const text = SEARCH_POLICY.replace('feature: search', 'feature: pay')
    const run = await checkPullRequestThat(dir => write(dir, 'policies/pay.yaml', text))
    expect(run.outputs.decision, run.stdout).toBe('success')
  })

  test('a deleted policy fails: the rollout would stop being managed', async () => {
    const run = await checkPullRequestThat(dir => rmSync(join(dir, 'policies/search.yaml')))
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toContain('the policy of search is gone')
  })

  test('a policy the pull request breaks fails with the located error the CLI gives', async () => {
    const run = await checkPullRequestThat(dir =>
      write(dir, 'policies/search.yaml', SEARCH_POLICY.replace('canary:', 'canry:'))
    )
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toMatch(/policies\/search\.yaml:\d+:\d+: .*canry/)
  })
})
