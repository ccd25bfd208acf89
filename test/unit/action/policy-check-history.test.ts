import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import type { Transition } from '../../../src/engine/types.js'
import { nextState } from '../../../src/engine/next-state.js'
import { commitTransition } from '../../../src/git/transitions.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { parseStateText, renderState } from '../../../src/state/file.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  api,
  checkout,
  hoursAfter,
  pullRequestEvent,
  SEARCH_POLICY,
  searchFiles,
  startRepo,
  type Repo
} from '../../support/action-harness.js'
import { cloneEmulated, runGit } from '../../support/github-emulator/git-client.js'

// The policy check judges a state at the pull request's head against the history: it must be the
// state phasegate's latest real transition wrote (issue 10, kind 4: "a state whose phase disagrees
// with its own last transition or with the history"), not an old state restored, not one a
// trailer-carrying commit merely touched, not one a direct push left on main.

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

/** Commits `transition` the way phasegate does (state file, datafile, trailers) in `dir`. */
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

/**
 * main: search starts at canary; advance canary -> limited (1h), rollback limited -> canary
 * (2h), advance canary -> limited (3h), all real transitions pushed by alice. Returns the repo,
 * the sha of each transition, and `then` for main's extra commits.
 */
async function searchWithHistory(then?: (dir: string) => Promise<void>) {
  const repo = await startRepo({ files: searchFiles('canary') })
  repos.push(repo)
  const { gh } = repo
  const dir = await cloneEmulated(gh, 'alice')
  const shas = [
    await transition(dir, step('advance', 'canary', 'limited', 1)),
    await transition(dir, step('rollback', 'limited', 'canary', 2)),
    await transition(dir, step('advance', 'canary', 'limited', 3))
  ]
  if (then) await then(dir)
  await runGit(dir, ['push', '-q', 'origin', 'main'], gh.gitAuthHeader('alice'))
  return { gh, shas }
}

/** bob's pull request made of `commits` on main, and the check's run on it at 5h. */
async function checkPullRequest(
  gh: Repo['gh'],
  commits: (dir: string) => Promise<void>
): Promise<Awaited<ReturnType<typeof runPhasegateFromSource>>> {
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

const show = async (dir: string, spec: string) => (await runGit(dir, ['show', spec])).stdout
const messageOf = async (dir: string, sha: string) =>
  (await runGit(dir, ['show', '-s', '--format=%B', sha])).stdout

describe('the policy check holds the head state to what the latest real transition wrote', () => {
  test('a real rollback from where main stands passes (control)', async () => {
    const { gh } = await searchWithHistory()
    const run = await checkPullRequest(gh, async dir => {
      await transition(dir, step('rollback', 'limited', 'canary', 4))
    })
    expect(run.outputs.decision, run.stdout).toBe('success')
  })

  test("an old state restored with its commit's trailers copied fails", async () => {
    const { gh, shas } = await searchWithHistory()
    const run = await checkPullRequest(gh, async dir => {
      // The rollback of 2h, file and message, replayed on top of the advance of 3h.
      writeFileSync(join(dir, STATE), (await show(dir, `${shas[1]}:${STATE}`)) + '\n')
      const message = await messageOf(dir, shas[1]!)
      await runGit(dir, ['commit', '-q', '-a', '-m', message])
    })
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toContain('not after')
  })

  test('a state changed by a commit without trailers, then touched by one with copied trailers, fails', async () => {
    const { gh } = await searchWithHistory()
    const run = await checkPullRequest(gh, async dir => {
      // Exactly the state a rollback writes, but committed by hand: no transition made it.
      const made = await transition(dir, step('rollback', 'limited', 'canary', 4))
      const message = await messageOf(dir, made)
      await runGit(dir, ['reset', '-q', '--soft', 'HEAD~1'])
      const text = readFileSync(join(dir, STATE), 'utf8')
      writeFileSync(join(dir, STATE), `${text}# scratch\n`)
      await runGit(dir, ['commit', '-q', '-a', '-m', 'roll search back'])
      // ... then a commit carrying the rollback's trailers that only drops the comment.
      writeFileSync(join(dir, STATE), text)
      await runGit(dir, ['commit', '-q', '-a', '-m', message])
    })
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toContain('not by a phasegate transition')
  })

  test('main whose state a direct push moved past its last transition fails every state change', async () => {
    const { gh } = await searchWithHistory(async dir => {
      // A push straight to main: phase full with a matching, forged last_transition, no trailers.
      const state = parseStateText(readFileSync(join(dir, STATE), 'utf8'), STATE, policy)
      const forged = nextState(state, step('advance', 'limited', 'full', 4))
      writeFileSync(join(dir, STATE), renderState(forged))
      await runGit(dir, ['commit', '-q', '-a', '-m', 'search to full'])
    })
    // A real rollback from the forged full would land search at limited with the kill switch on.
    const run = await checkPullRequest(gh, async dir => {
      await transition(dir, step('rollback', 'full', 'limited', 4.5))
    })
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toContain('not by a phasegate transition')
  })

  test('a pull request that leaves such a state alone still fails: main itself disagrees', async () => {
    const { gh } = await searchWithHistory(async dir => {
      const text = readFileSync(join(dir, STATE), 'utf8')
      writeFileSync(join(dir, STATE), text.replace(/^phase: limited$/m, 'phase: full'))
      await runGit(dir, ['commit', '-q', '-a', '-m', 'search to full'])
    })
    const run = await checkPullRequest(gh, async dir => {
      writeFileSync(join(dir, 'README.md'), 'docs\n')
      await runGit(dir, ['add', 'README.md'])
      await runGit(dir, ['commit', '-q', '-m', 'docs'])
    })
    expect(run.outputs.decision, run.stdout).toBe('failure')
    expect(run.summary).toContain('not by a phasegate transition')
  })

  test('main put back to what its last transition wrote agrees again: an unrelated PR passes', async () => {
    const { gh } = await searchWithHistory(async dir => {
      const text = readFileSync(join(dir, STATE), 'utf8')
      writeFileSync(join(dir, STATE), text.replace(/^phase: limited$/m, 'phase: full'))
      await runGit(dir, ['commit', '-q', '-a', '-m', 'search to full'])
      writeFileSync(join(dir, STATE), text)
      await runGit(dir, ['commit', '-q', '-a', '-m', 'undo the hand edit'])
    })
    const run = await checkPullRequest(gh, async dir => {
      writeFileSync(join(dir, 'README.md'), 'docs\n')
      await runGit(dir, ['add', 'README.md'])
      await runGit(dir, ['commit', '-q', '-m', 'docs'])
    })
    expect(run.outputs.decision, run.stdout).toBe('success')
  })
})
