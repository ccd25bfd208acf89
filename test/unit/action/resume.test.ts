import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  api,
  approve,
  openPulls,
  pullRequestEvent,
  searchFiles,
  startCheckedOut,
  stateOnMain,
  type Repo
} from '../../support/action-harness.js'
import type { GitHubEmulator } from '../../support/github-emulator/index.js'
import { cloneEmulated, runGit } from '../../support/github-emulator/git-client.js'
import { resume } from '../../../src/commands/resume.js'

// Turning the kill switch back on from GitHub (issue 11, kind 6): the action's `resume` command,
// dispatched by an operator, lands at once where the branch allows it and otherwise opens a
// resume PR, which the policy check accepts when it is well formed and an operator stands
// behind it.

const STATE = '.phasegate/state/search.yaml'
const RESUME_BRANCH = 'phasegate/search/resume'
const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

/** The search rollout at full, then switched off by an emergency dispatch (now at limited, off). */
async function switchedOff() {
  const { gh, workspace } = await startCheckedOut(repos, searchFiles('full'))
  const off = await runPhasegateFromSource(gh, workspace, {
    event: 'workflow_dispatch',
    inputs: { command: 'rollback' },
    payload: { inputs: { reason: 'checkout broken' }, sender: { login: 'alice' } }
  })
  expect(off.outputs.enabled, off.stdout).toBe('false')
  return { gh, workspace }
}

const dispatchResume = (
  gh: GitHubEmulator,
  workspace: string,
  sender: string,
  inputs: Record<string, string> = {}
) =>
  runPhasegateFromSource(gh, workspace, {
    event: 'workflow_dispatch',
    inputs: { command: 'resume', ...inputs },
    payload: { inputs: { reason: 'fixed in 1.4.2' }, sender: { login: sender } }
  })

const check = (gh: GitHubEmulator, workspace: string, pull: number) =>
  runPhasegateFromSource(gh, workspace, {
    event: 'pull_request',
    inputs: { command: 'check' },
    payload: pullRequestEvent(gh, pull)
  })

describe('resume from workflow_dispatch', () => {
  test('an operator resumes: the kill switch is on again at the phase the rollout is in, pushed at once', async () => {
    const { gh, workspace } = await switchedOff()
    const run = await dispatchResume(gh, workspace, 'bob')
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs).toMatchObject({
      phase: 'limited',
      enabled: 'true',
      'user-percentage': '25'
    })
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: true$/m)
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: limited$/m)
    const message = (await runGit(workspace, ['log', '-1', '--format=%B', 'origin/main'])).stdout
    expect(message).toContain('Phasegate-Kind: resume')
    expect(message).toContain('Phasegate-Operator: bob')
    expect(run.summary).toContain('resume')
  })

  test('someone without operator standing is refused and nothing changes', async () => {
    const { gh, workspace } = await switchedOff()
    const before = gh.git.branchSha('main')
    const run = await dispatchResume(gh, workspace, 'mallory')
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toContain('@mallory may not resume search')
    expect(gh.git.branchSha('main')).toBe(before)
    expect(openPulls(gh)).toHaveLength(0)
  })

  test('a resume needs a reason', async () => {
    const { gh, workspace } = await switchedOff()
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'resume' },
      payload: { inputs: {}, sender: { login: 'bob' } }
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toContain('a resume needs a reason')
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: false$/m)
  })

  test('resuming a feature whose kill switch is on is refused', async () => {
    const { gh, workspace } = await switchedOff()
    expect((await dispatchResume(gh, workspace, 'bob')).exitCode).toBe(0)
    const again = await dispatchResume(gh, workspace, 'bob')
    expect(again.exitCode).not.toBe(0)
    expect(again.stdout).toContain('the kill switch of "search" is already on')
  })

  test('on a protected branch the resume waits in a PR; the check passes it once an operator approved it', async () => {
    const { gh, workspace } = await switchedOff()
    gh.setBranchProtection(true)
    const run = await dispatchResume(gh, workspace, 'bob')
    expect(run.exitCode, run.stdout).toBe(0)
    const pull = openPulls(gh).find(p => p.pull!.head === RESUME_BRANCH)!
    expect(pull, run.stdout).toBeDefined()
    expect(run.outputs['pr-number']).toBe(String(pull.number))
    // Nothing landed yet: the feature stays off until the PR is merged.
    expect(run.outputs.enabled).toBe('false')
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: false$/m)

    const unapproved = await check(gh, workspace, pull.number)
    expect(unapproved.outputs.decision, unapproved.stdout).toBe('failure')
    expect(unapproved.summary).toContain('needs an operator')

    await approve(gh, pull.number, 'bob')
    const approved = await check(gh, workspace, pull.number)
    expect(approved.outputs.decision, approved.stdout).toBe('success')
    expect(approved.summary).toContain('resume at limited')
  })

  test('graceful mode proposes the resume for review even where a push would land', async () => {
    const { gh, workspace } = await switchedOff()
    const before = gh.git.branchSha('main')
    const run = await dispatchResume(gh, workspace, 'bob', { mode: 'graceful' })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(gh.git.branchSha('main')).toBe(before)
    expect(openPulls(gh).map(p => p.pull!.head)).toEqual([RESUME_BRANCH])
  })
})

describe('the policy check on a resume PR a person made', () => {
  /** `login` runs `phasegate resume` in a clone, pushes a branch and opens a PR from it. */
  async function resumePullRequest(gh: GitHubEmulator, login: string, edit?: string) {
    const clone = await cloneEmulated(gh, login)
    await runGit(clone, ['checkout', '-q', '-b', `${login}/resume`])
    await resume({
      cwd: clone,
      policies: [],
      reason: 'fixed',
      operator: login,
      now: new Date()
    })
    if (edit) {
      await runGit(clone, ['config', 'user.name', login])
      const { writeFileSync, readFileSync } = await import('node:fs')
      const file = `${clone}/${STATE}`
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^phase: limited$/m, edit))
      await runGit(clone, ['commit', '-q', '--amend', '--no-edit', '-a'])
    }
    await runGit(clone, ['push', '-q', 'origin', `${login}/resume`], gh.gitAuthHeader(login))
    const pr = await api(
      gh,
      'POST',
      '/pulls',
      { title: 'resume search', head: `${login}/resume`, base: 'main' },
      login
    )
    return pr.number
  }

  test('a well-formed resume opened by an operator passes', async () => {
    const { gh, workspace } = await switchedOff()
    gh.setBranchProtection(true)
    const number = await resumePullRequest(gh, 'carol')
    const run = await check(gh, workspace, number)
    expect(run.outputs.decision, run.stdout).toBe('success')
  })

  test('a resume opened by someone without operator standing and approved by no operator fails', async () => {
    const { gh, workspace } = await switchedOff()
    const number = await resumePullRequest(gh, 'mallory')
    const run = await check(gh, workspace, number)
    expect(run.outputs.decision).toBe('failure')
    expect(run.summary).toContain('needs an operator')
  })

  test('a resume that also moves the phase fails', async () => {
    const { gh, workspace } = await switchedOff()
    const number = await resumePullRequest(gh, 'carol', 'phase: full')
    const run = await check(gh, workspace, number)
    expect(run.outputs.decision).toBe('failure')
  })
})
