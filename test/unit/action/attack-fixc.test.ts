// The attack review's findings on action flows (branch attack, /work/notes/attack.md). Each test
// says what should happen and failed on the code it was written against.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import type { Transition } from '../../../src/engine/types.js'
import { nextState } from '../../../src/engine/next-state.js'
import { commitTransition } from '../../../src/git/transitions.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { parseStateText } from '../../../src/state/file.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  api,
  approve,
  checkout,
  CHECKOUT_POLICY,
  HEALTHY,
  openPulls,
  seedFiles,
  stateOnMain,
  writeMetrics,
  hoursAfter,
  pullRequestEvent,
  SEARCH_POLICY,
  searchFiles,
  startCheckedOut,
  startRepo,
  type Repo
} from '../../support/action-harness.js'
import { cloneEmulated, runGit } from '../../support/github-emulator/git-client.js'

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const STATE = '.phasegate/state/search.yaml'
const policy = parsePolicyText(SEARCH_POLICY, 'policies/search.yaml')

const step = (kind: Transition['kind'], from: string, to: string, hours: number): Transition => ({
  kind,
  from,
  to,
  at: hoursAfter(hours).toISOString(),
  reason: `${kind} by the test`,
  approvers: [],
  evidence: []
})

async function transition(dir: string, t: Transition): Promise<string> {
  const state = parseStateText(readFileSync(join(dir, STATE), 'utf8'), STATE, policy)
  return commitTransition({
    root: dir,
    policy,
    next: nextState(state, t),
    transition: t,
    now: new Date(t.at)
  })
}

/** bob's pull request made of `commits` on main, and the check's run on it at 5h. */
async function checkPullRequest(gh: Repo['gh'], commits: (dir: string) => Promise<void>) {
  const workspace = await checkout(gh)
  const dir = await cloneEmulated(gh, 'bob')
  await runGit(dir, ['checkout', '-q', '-b', 'change'])
  await commits(dir)
  await runGit(dir, ['push', '-q', 'origin', 'change'], gh.gitAuthHeader('bob'))
  const created = await api(gh, 'POST', '/pulls', { title: 'change', head: 'change', base: 'main' })
  return runPhasegateFromSource(gh, workspace, {
    now: hoursAfter(5),
    event: 'pull_request',
    inputs: { command: 'check' },
    payload: pullRequestEvent(gh, created.number)
  })
}

describe('attack findings fixed by fixc (action flows)', () => {
  // Issue 10 kind 4 x issue 12 item 10: the lost-state hint says "restore it: git checkout <sha>
  // -- <state> (or git revert the commit that deleted it) and commit". With branch protection and
  // the required phasegate/policy check (docs/github.md asks for both), that restore goes through
  // a pull request, and the check refuses it because the restoring commit is "not a phasegate
  // transition" and main's (missing) state disagrees with its last transition. The feature stays
  // off everywhere (tick wrote its datafile off) and every other PR of the repository fails too.
  test('A3 restoring a lost state file exactly as its last transition wrote it passes the policy check', async () => {
    const repo = await startRepo({ files: searchFiles('canary') })
    repos.push(repo)
    const { gh } = repo
    const dir = await cloneEmulated(gh, 'alice')
    const last = await transition(dir, step('advance', 'canary', 'limited', 1))
    await runGit(dir, ['rm', '-q', STATE])
    await runGit(dir, ['commit', '-q', '-m', 'cleanup (deletes the state by mistake)'])
    await runGit(dir, ['push', '-q', 'origin', 'main'], gh.gitAuthHeader('alice'))
    const run = await checkPullRequest(gh, async bob => {
      // The hint's own words: git checkout <sha> -- <state>, then commit.
      await runGit(bob, ['checkout', last, '--', STATE])
      await runGit(bob, ['commit', '-q', '-m', 'restore the search state file'])
    })
    expect(run.outputs.decision, `${run.stdout}\n${run.summary}`).toBe('success')
  })

  // Issue 10 kind 2 x issue 14 item 1: "an advance PR is merged only when its diff ... is exactly
  // phasegate's own change (the feature's state file with the expected new state, and the
  // feature's datafile)". The path list is checked, the state's content is checked, but the
  // datafile's content is not: at the head a datafile that disagrees with the state is only
  // "said" (check.ts: "after merging, the next tick rewrites it"), so a commit pushed to the
  // advance branch that edits the datafile (a flag turned on, another salt, a percentage) passes
  // the policy check and is squash-merged; every application polling the datafile serves it until
  // a later tick refreshes it.
  test('A4 an advance PR whose datafile was edited by hand fails the check and is never merged', async () => {
    const { gh, workspace } = await startCheckedOut(repos, seedFiles(CHECKOUT_POLICY))
    writeMetrics(workspace, { ...HEALTHY, error_rate: 0.001 }, 'checkout')
    const opened = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(opened.exitCode, opened.stdout).toBe(0)
    const pull = openPulls(gh)[0]!
    const branch = pull.pull!.head
    const bob = await cloneEmulated(gh, 'bob')
    await runGit(bob, ['checkout', '-q', '-B', branch, `origin/${branch}`])
    const datafile = join(bob, '.phasegate/state/checkout.datafile.json')
    const json = JSON.parse(readFileSync(datafile, 'utf8')) as Record<string, unknown>
    json.feature_flags = ['debug_endpoints']
    writeFileSync(datafile, `${JSON.stringify(json, null, 2)}\n`)
    await runGit(bob, ['commit', '-q', '-am', 'phasegate(checkout): advance canary -> full'])
    await runGit(
      bob,
      ['push', '-q', 'origin', `HEAD:refs/heads/${branch}`],
      gh.gitAuthHeader('bob')
    )
    await approve(gh, pull.number, 'carol')
    const check = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(2),
      event: 'pull_request',
      inputs: { command: 'check' },
      payload: pullRequestEvent(gh, pull.number)
    })
    expect(check.outputs.decision, check.summary).toBe('failure')
    expect(check.summary).toContain('checkout.datafile.json')
    const tick = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(3) })
    expect(gh.state.issues.get(pull.number)!.pull!.mergedAt, tick.summary).toBeNull()
    expect(stateOnMain(gh, '.phasegate/state/checkout.yaml')).toContain('phase: canary')
  })

  // Issue 10 kind 4 ("a policy file the PR breaks" is judged at the PR's head) x on call: the
  // check loads every policy from the base and throws on the first broken one, so once a broken
  // policy is on main (an admin merge, a push before the check was required) the required
  // phasegate/policy check fails every pull request, including the one that repairs the policy
  // and any rollback PR a ruleset or manual_approval_required forces.
  test('A10 a pull request that repairs a policy broken on main passes the policy check', async () => {
    const BROKEN = 'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'
    const FIXED =
      'feature: g\ndeployment:\n  order: [a, b]\n  phases:\n    a: {user_percentage: 5}\n    b: {user_percentage: 100}\n'
    const repo = await startRepo({ files: { ...searchFiles('canary'), 'policies/g.yaml': BROKEN } })
    repos.push(repo)
    const run = await checkPullRequest(repo.gh, async bob => {
      writeFileSync(join(bob, 'policies/g.yaml'), FIXED)
      await runGit(bob, ['commit', '-q', '-am', 'fix g'])
    })
    expect(run.outputs.decision, `${run.stdout}\n${run.summary}`).toBe('success')
  })

  // A10's kind on call: under a ruleset that requires pull requests and the phasegate/policy
  // check, an emergency dispatch (feature: search) opens the emergency rollback PR even though
  // another team's policy on main is broken; the required check then throws on that other policy,
  // so the emergency PR cannot be merged. (Without the broken policy this check passes: held.)
  test('A10b the emergency rollback PR a ruleset forced passes the policy check despite a broken other policy', async () => {
    const { gh, workspace } = await startCheckedOut(
      repos,
      {
        ...searchFiles('full'),
        'policies/g.yaml':
          'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'
      },
      { ruleset: { pullRequest: true, statusChecks: ['phasegate/policy'] } }
    )
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      event: 'workflow_dispatch',
      inputs: { command: 'rollback', feature: 'search' },
      payload: { inputs: { reason: 'checkout broken' }, sender: { login: 'alice' } }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    const pull = openPulls(gh).find(p => p.pull!.head === 'phasegate/search/rollback')
    expect(pull, run.summary).toBeDefined()
    const check = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1.1),
      event: 'pull_request',
      inputs: { command: 'check' },
      payload: pullRequestEvent(gh, pull!.number)
    })
    expect(check.outputs.decision, check.summary).toBe('success')
  })
})

// The same kinds, from the other side: what must still fail.
describe('the policy check around a broken base policy and a lost state (fixc)', () => {
  const BROKEN = 'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'

  test('a pull request leaving a broken base policy alone passes and says so in one line', async () => {
    const repo = await startRepo({ files: { ...searchFiles('canary'), 'policies/g.yaml': BROKEN } })
    repos.push(repo)
    const run = await checkPullRequest(repo.gh, async bob => {
      writeFileSync(join(bob, 'app.txt'), 'unrelated\n')
      await runGit(bob, ['add', 'app.txt'])
      await runGit(bob, ['commit', '-q', '-m', 'unrelated'])
    })
    expect(run.outputs.decision, `${run.stdout}\n${run.summary}`).toBe('success')
    expect(run.summary).toMatch(/policies\/g\.yaml does not load on the base branch either/)
  })

  test('a pull request touching a broken base policy and leaving it broken fails at its line', async () => {
    const repo = await startRepo({ files: { ...searchFiles('canary'), 'policies/g.yaml': BROKEN } })
    repos.push(repo)
    const run = await checkPullRequest(repo.gh, async bob => {
      writeFileSync(join(bob, 'policies/g.yaml'), `# still one phase\n${BROKEN}`)
      await runGit(bob, ['commit', '-q', '-am', 'touch g'])
    })
    expect(run.outputs.decision, run.summary).toBe('failure')
    expect(run.summary).toMatch(/policies\/g\.yaml:4:3/)
  })

  test('a lost state put back to anything but its latest transition fails, and says lost', async () => {
    const repo = await startRepo({ files: searchFiles('canary') })
    repos.push(repo)
    const { gh } = repo
    const dir = await cloneEmulated(gh, 'alice')
    const first = await transition(dir, step('advance', 'canary', 'limited', 1))
    await transition(dir, step('advance', 'limited', 'full', 2))
    await runGit(dir, ['rm', '-q', STATE])
    await runGit(dir, ['commit', '-q', '-m', 'cleanup (deletes the state by mistake)'])
    await runGit(dir, ['push', '-q', 'origin', 'main'], gh.gitAuthHeader('alice'))
    const run = await checkPullRequest(gh, async bob => {
      // An older transition's state: not what the latest one wrote.
      await runGit(bob, ['checkout', first, '--', STATE])
      await runGit(bob, ['commit', '-q', '-m', 'restore an older state'])
    })
    expect(run.outputs.decision, run.summary).toBe('failure')
    expect(run.summary).toMatch(/state file is lost/)
    expect(run.summary).not.toMatch(/has not started/)
  })
})
