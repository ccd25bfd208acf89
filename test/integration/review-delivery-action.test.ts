// The action's side of the review's datafile findings (F2, F2c): the policy check names a
// datafile that disagrees with the pull request's head at its path, passes a refresh that agrees,
// and a scheduled tick pushes a refresh of a stale datafile (not a transition).
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import {
  datafilePathOf,
  featureDatafile,
  renderDatafile,
  type FeatureDatafile
} from '../../src/export/datafile.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { initialState, renderState } from '../../src/state/file.js'
import { runPhasegateFromSource } from '../support/action-from-source.js'
import {
  api,
  checkout,
  hoursAfter,
  pullRequestEvent,
  SEARCH_POLICY,
  startRepo,
  T0,
  writeMetrics,
  type Repo
} from '../support/action-harness.js'
import { cloneEmulated, runGit } from '../support/github-emulator/git-client.js'

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const policy = parsePolicyText(SEARCH_POLICY, 'search.yaml')
const DATAFILE = datafilePathOf(policy)
const stateAt = (phase: string) => ({ ...initialState(policy, T0), phase })

/** The search rollout at `phase`, with a committed datafile (`edit` of the right one). */
function files(phase: string, edit: (d: FeatureDatafile) => FeatureDatafile = d => d) {
  return {
    '.gitignore': '.phasegate/metrics/\n',
    'policies/search.yaml': SEARCH_POLICY,
    [policy.statePath]: renderState(stateAt(phase)),
    [DATAFILE]: renderDatafile(edit(featureDatafile(policy, stateAt(phase))))
  }
}

function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true })
  writeFileSync(join(dir, path), text)
}

/** bob's pull request that does `change` on main; the policy check's run on it. */
async function checkPullRequestThat(repo: Repo, change: (dir: string) => void) {
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

describe('the policy check and the committed datafile', () => {
  test('a hand edit turning the feature on for everyone fails at the datafile, with the fix', async () => {
    const repo = await startRepo({ files: files('canary') })
    repos.push(repo)
    const run = await checkPullRequestThat(repo, dir =>
      write(
        dir,
        DATAFILE,
        renderDatafile({ ...featureDatafile(policy, stateAt('canary')), user_percentage: 100 })
      )
    )
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toMatch(
      /\.phasegate\/state\/search\.datafile\.json: the committed datafile says user_percentage: 100 where the policy and state say user_percentage: 5/
    )
  })

  test('a refresh that says what the policy and state expose passes', async () => {
    const repo = await startRepo({ files: files('canary', d => ({ ...d, enabled: false })) })
    repos.push(repo)
    const run = await checkPullRequestThat(repo, dir =>
      write(dir, DATAFILE, renderDatafile(featureDatafile(policy, stateAt('canary'))))
    )
    expect(run.outputs.decision, run.stdout).toBe('success')
    expect(run.summary).toContain('a datafile refresh')
  })

  test('a policy change that leaves the datafile stale is said, and passes: the next tick rewrites it', async () => {
    const repo = await startRepo({ files: files('canary') })
    repos.push(repo)
    const run = await checkPullRequestThat(repo, dir =>
      write(
        dir,
        'policies/search.yaml',
        SEARCH_POLICY.replace('user_percentage: 5', 'user_percentage: 10')
      )
    )
    expect(run.outputs.decision, run.stdout).toBe('success')
    expect(run.summary).toMatch(
      /search\.datafile\.json: the committed datafile says user_percentage: 5 where the policy and state say user_percentage: 10.*next tick rewrites it/
    )
  })
})

describe('the scheduled tick and a stale datafile', () => {
  test('pushes a refresh commit (not a transition) that makes the datafile agree', async () => {
    const repo = await startRepo({
      files: files('full', d => ({ ...d, user_percentage: 50 }))
    })
    repos.push(repo)
    const { gh } = repo
    const workspace = await checkout(gh)
    writeMetrics(
      workspace,
      {
        error_rate: 0.0005,
        performance_degradation: 0.01,
        response_time: 800,
        system_failure: 0
      },
      'search'
    )
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(3) })
    expect(run.exitCode, run.stdout).toBe(0)
    const after = await checkout(gh)
    const committed = JSON.parse(
      (await runGit(after, ['show', `HEAD:${DATAFILE}`])).stdout
    ) as FeatureDatafile
    expect(committed).toMatchObject({ enabled: true, user_percentage: 100, phase: 'full' })
    const message = (await runGit(after, ['log', '-1', '--format=%B'])).stdout
    expect(message).toMatch(/refresh \.phasegate\/state\/search\.datafile\.json/)
    expect(message).toMatch(/Phasegate-Datafile-Refresh: search/)
    expect(message).not.toMatch(/Phasegate-Feature/)
    // Nothing more to do on the next tick.
    const head = (await runGit(after, ['rev-parse', 'HEAD'])).stdout
    await runPhasegateFromSource(gh, after, { now: hoursAfter(4) })
    expect((await runGit(after, ['ls-remote', 'origin', 'main'])).stdout).toContain(head.trim())
  })

  test('the action validate command refuses a stale datafile at its path', async () => {
    const repo = await startRepo({ files: files('full', d => ({ ...d, enabled: false })) })
    repos.push(repo)
    const workspace = await checkout(repo.gh)
    const run = await runPhasegateFromSource(repo.gh, workspace, {
      now: hoursAfter(3),
      inputs: { command: 'validate' }
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.summary).toMatch(
      /search\.datafile\.json: the committed datafile says enabled: false where the policy and state say enabled: true.*phasegate tick/
    )
  })
})
