import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { initialState, renderState } from '../../../src/state/file.js'
import { datafilePathOf, featureDatafile, renderDatafile } from '../../../src/export/datafile.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  api,
  hoursAfter,
  pullRequestEvent,
  SEARCH_POLICY,
  startCheckedOut,
  stateOnMain,
  T0,
  type Repo
} from '../../support/action-harness.js'
import { cloneEmulated, runGit } from '../../support/github-emulator/git-client.js'

// Attack finding A13 on the policy check: a pull request that raises the current phase's exposure
// (no transition, so no gate judges it) is refused while a freeze window is open or the rollout is
// paused, with one line saying why; lowering exposure always passes.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const FROZEN = SEARCH_POLICY.replace(
  'deployment:\n',
  'deployment:\n  freeze:\n    time_zone: UTC\n    windows:\n      - dates: { from: 2000-01-01, to: 2099-12-31 }\n'
)

/**
 * The search rollout at limited (25%) under `policy`, paused when asked; with `datafileOf`, the
 * committed datafile says what that policy exposes (a policy edit since then left it stale).
 */
function files(policy: string, paused = false, datafileOf?: string): Record<string, string> {
  const parsed = parsePolicyText(policy, 'search.yaml')
  const state = {
    ...initialState(parsed, T0),
    phase: 'limited',
    ...(paused ? { paused: { at: T0.toISOString(), reason: 'incident' } } : {})
  }
  return {
    '.gitignore': '.phasegate/metrics/\n',
    'policies/search.yaml': policy,
    [parsed.statePath]: renderState(state),
    ...(datafileOf
      ? {
          [datafilePathOf(parsed)]: renderDatafile(
            featureDatafile(parsePolicyText(datafileOf, 'search.yaml'), state)
          )
        }
      : {})
  }
}

/** bob's pull request that writes `policy` over the search policy; the check's run on it. */
async function checkPolicyEdit(base: Record<string, string>, policy: string) {
  const { gh, workspace } = await startCheckedOut(repos, base)
  const dir = await cloneEmulated(gh, 'bob')
  await runGit(dir, ['checkout', '-q', '-b', 'change'])
  writeFileSync(join(dir, 'policies/search.yaml'), policy)
  await runGit(dir, ['commit', '-q', '-am', 'a policy edit'])
  await runGit(dir, ['push', '-q', 'origin', 'change'], gh.gitAuthHeader('bob'))
  const created = await api(gh, 'POST', '/pulls', { title: 'edit', head: 'change', base: 'main' })
  return runPhasegateFromSource(gh, workspace, {
    now: hoursAfter(3),
    event: 'pull_request',
    inputs: { command: 'check' },
    payload: pullRequestEvent(gh, created.number)
  })
}

const raise = (policy: string) => policy.replace('user_percentage: 25', 'user_percentage: 50')
const lower = (policy: string) => policy.replace('user_percentage: 25', 'user_percentage: 10')

describe('the policy check refuses an exposure raise during a freeze window or a pause', () => {
  test('raising the current phase inside a freeze window fails with one line saying until when', async () => {
    const run = await checkPolicyEdit(files(FROZEN), raise(FROZEN))
    expect(run.outputs.decision, run.stdout).toBe('failure')
    const lines = run.summary.split('\n').filter(l => /user_percentage 25 -> 50/.test(l))
    expect(lines, run.summary).toHaveLength(1)
    expect(lines[0]).toMatch(/freeze window .* until 2100-01-01T00:00:00\.000Z/)
  })

  test('a policy edit that also removes the freeze window is judged by the window in force', async () => {
    const run = await checkPolicyEdit(files(FROZEN), raise(SEARCH_POLICY))
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toMatch(/user_percentage 25 -> 50/)
  })

  test('raising the current phase of a paused rollout fails', async () => {
    const run = await checkPolicyEdit(files(SEARCH_POLICY, true), raise(SEARCH_POLICY))
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toMatch(/user_percentage 25 -> 50\).*paused/)
  })

  test('adding an experiment (it assigns users at once) inside a freeze window fails', async () => {
    const experiment =
      'experiments:\n  ranking:\n    enabled: true\n    groups:\n      a: { weight: 50, configuration: {} }\n      b: { weight: 50, configuration: {} }\n'
    const run = await checkPolicyEdit(files(FROZEN), FROZEN + experiment)
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toMatch(/experiments \+ ranking\).*freeze window/)
  })

  test('lowering it passes in a freeze window and while paused; raising passes outside both', async () => {
    const frozen = await checkPolicyEdit(files(FROZEN), lower(FROZEN))
    expect(frozen.outputs.decision, frozen.summary).toBe('success')
    const paused = await checkPolicyEdit(files(SEARCH_POLICY, true), lower(SEARCH_POLICY))
    expect(paused.outputs.decision, paused.summary).toBe('success')
    const open = await checkPolicyEdit(files(SEARCH_POLICY), raise(SEARCH_POLICY))
    expect(open.outputs.decision, open.summary).toBe('success')
  })
})

describe("the action's datafile refresh holds an exposure raise inside a freeze window", () => {
  test('the tick leaves the datafile at 25% and says the raise waits until the window ends', async () => {
    const { gh, workspace } = await startCheckedOut(repos, files(raise(FROZEN), false, FROZEN))
    const path = '.phasegate/state/search.datafile.json'
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(JSON.parse(stateOnMain(gh, path))).toMatchObject({ user_percentage: 25 })
    expect(run.stdout).toMatch(/user_percentage 25 -> 50 waits: freeze window .*until 2100-01-01/)
  })

  test("the action's outputs say 25% as the datafile does, not the policy's 50%", async () => {
    const { gh, workspace } = await startCheckedOut(repos, files(raise(FROZEN), false, FROZEN))
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    // A deploy step reading the outputs serves what the applications polling the datafile serve.
    expect(run.outputs['user-percentage'], run.stdout).toBe('25')
    expect(JSON.parse(run.outputs['flags-json']!)).toMatchObject({ user_percentage: 25 })
    expect(JSON.parse(run.outputs['features-json']!)[0]).toMatchObject({ user_percentage: 25 })
    expect(run.summary).toMatch(/25% of users/)
    expect(run.summary).not.toMatch(/50% of users/)
  })

  test('the action validate reports the held raise as a notice, not a failure', async () => {
    const { gh, workspace } = await startCheckedOut(repos, files(raise(FROZEN), false, FROZEN))
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: { command: 'validate' }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.summary).toMatch(
      /notice: .*a raise waiting: user_percentage 25 -&gt; 50|notice: .*a raise waiting: user_percentage 25 -> 50/
    )
  })
})
