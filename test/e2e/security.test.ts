import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { cloneEmulated, runGit } from '../support/github-emulator/git-client.js'
import {
  api,
  approve,
  BOT,
  checkout,
  CHECKOUT_POLICY,
  HEALTHY,
  hoursAfter,
  openPulls,
  pullRequestEvent,
  runPhasegate,
  seedFiles,
  startRepo,
  stateOnMain,
  statusesOf,
  writeMetrics,
  type Repo
} from '../support/action-harness.js'

const STATE = '.phasegate/state/checkout.yaml'
let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

/** The checkout policy's repository, with phasegate's advance PR open (canary -> full). */
async function withAdvancePullRequest(token?: string) {
  repo = await startRepo({ files: seedFiles(CHECKOUT_POLICY) })
  const { gh } = repo
  const workspace = await checkout(gh, token)
  writeMetrics(workspace, { error_rate: 0.001 }, 'checkout')
  const run = await runPhasegate(gh, workspace, {
    now: hoursAfter(1),
    ...(token ? { token: gh.tokenFor(token) } : {})
  })
  expect(run.exitCode, run.stdout).toBe(0)
  const pull = openPulls(gh)[0]!
  return { gh, workspace, pull: pull.number, head: gh.git.branchSha(pull.pull!.head)! }
}

async function tick(gh: Repo['gh'], workspace: string, hours = 2, token?: string) {
  const run = await runPhasegate(gh, workspace, {
    now: hoursAfter(hours),
    ...(token ? { token: gh.tokenFor(token) } : {})
  })
  expect(run.exitCode, run.stdout).toBe(0)
  return run
}

async function check(gh: Repo['gh'], workspace: string, pull: number, token?: string) {
  return runPhasegate(gh, workspace, {
    now: hoursAfter(3),
    event: 'pull_request',
    inputs: { command: 'check' },
    payload: pullRequestEvent(gh, pull),
    ...(token ? { token } : {})
  })
}

describe('approvals that must not count', () => {
  test('an approval by a listed member of an approver team counts: the PR is merged (control)', async () => {
    const { gh, workspace, pull } = await withAdvancePullRequest()
    expect(gh.state.issues.get(pull)!.pull).toMatchObject({
      requestedReviewers: ['alice'],
      requestedTeams: ['sre']
    })
    await approve(gh, pull, 'carol')
    const passed = await check(gh, workspace, pull)
    expect(passed.outputs.decision, passed.stdout).toBe('success')
    const run = await tick(gh, workspace)
    expect(run.outputs.decision).toBe('advance')
    expect(stateOnMain(gh, STATE)).toContain('phase: full')
  })

  test("self-approval by the PR's author", async () => {
    const { gh, workspace, pull } = await withAdvancePullRequest('alice')
    gh.plantReview({ pull, user: 'alice' })
    const run = await tick(gh, workspace, 2, 'alice')
    expect(run.outputs.decision).toBe('hold')
    expect(run.summary).toContain('alice (the author of the change)')
    expect(stateOnMain(gh, STATE)).toContain('phase: canary')
    const refused = await check(gh, workspace, pull)
    expect(refused.exitCode).toBe(1)
    expect(refused.outputs.decision).toBe('failure')
  })

  test('an approval given on an older commit than the head', async () => {
    const { gh, workspace, pull } = await withAdvancePullRequest()
    gh.plantReview({ pull, user: 'alice', commitId: gh.git.branchSha('main')! })
    const run = await tick(gh, workspace)
    expect(run.outputs.decision).toBe('hold')
    expect(run.summary).toContain('alice (approved an older commit)')
    expect(gh.state.issues.get(pull)!.pull!.mergedAt).toBeNull()
  })

  test('an approval by a user the phase does not list', async () => {
    const { gh, workspace, pull } = await withAdvancePullRequest()
    await approve(gh, pull, 'bob')
    const run = await tick(gh, workspace)
    expect(run.outputs.decision).toBe('hold')
    expect(run.summary).toContain('bob (not a listed approver)')
    const refused = await check(gh, workspace, pull)
    expect(refused.outputs.decision).toBe('failure')
    const [status] = await statusesOf(gh, gh.state.issues.get(pull)!.pull!.headSha)
    expect(status).toMatchObject({ context: 'phasegate/policy', state: 'failure' })
    expect(status!.description).toContain('approval pending')
  })

  test('an approval by a bot', async () => {
    const { gh, workspace, pull } = await withAdvancePullRequest()
    gh.plantReview({ pull, user: 'dependabot[bot]' })
    const run = await tick(gh, workspace)
    expect(run.outputs.decision).toBe('hold')
    expect(run.summary).toContain('dependabot[bot] (a bot)')
  })
})

describe('the policy check on hand-written state changes', () => {
  async function handWrittenPullRequest(
    gh: Repo['gh'],
    branch: string,
    edit: (text: string) => string,
    message: (base: string) => string,
    from = 'main',
    path = STATE
  ) {
    const dir = await cloneEmulated(gh, 'bob')
    await runGit(dir, ['checkout', '-q', '-B', branch, `origin/${from}`])
    const file = join(dir, path)
    writeFileSync(file, edit(readFileSync(file, 'utf8')))
    const lastMessage = (await runGit(dir, ['log', '-1', '--format=%B'])).stdout
    await runGit(dir, ['commit', '-q', '-am', message(lastMessage)])
    await runGit(
      dir,
      ['push', '-q', '--force', 'origin', `HEAD:refs/heads/${branch}`],
      gh.gitAuthHeader('bob')
    )
    return dir
  }

  test('a skipped phase fails with the reason', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    writeMetrics(workspace, HEALTHY)
    const at = hoursAfter(1).toISOString()
    await handWrittenPullRequest(
      gh,
      'skip-to-canary',
      text =>
        text.replace('phase: development', 'phase: canary') +
        `last_transition:\n  kind: advance\n  from: development\n  to: canary\n  at: ${at}\n  reason: faster\n  evidence: []\n`,
      () =>
        'phasegate(production_deployment): advance development -> canary\n\nPhasegate-Feature: production_deployment\nPhasegate-Kind: advance\nPhasegate-From: development\nPhasegate-To: canary\nPhasegate-Reason: faster',
      'main',
      '.phasegate/state/production_deployment.yaml'
    )
    const created = await api(gh, 'POST', '/pulls', {
      title: 'Go to canary',
      head: 'skip-to-canary',
      base: 'main'
    })
    await approve(gh, created.number, 'alice')
    const refused = await check(gh, workspace, created.number)
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toContain(
      'skips from development to canary: an advance moves one phase, to staging'
    )
    const [status] = await statusesOf(gh, gh.git.branchSha('skip-to-canary')!)
    expect(status).toMatchObject({ context: 'phasegate/policy', state: 'failure' })
  })

  test('a skipped phase from a fork fails too: the check reads refs/pull/N/head', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    writeMetrics(workspace, HEALTHY)
    const at = hoursAfter(1).toISOString()
    await handWrittenPullRequest(
      gh,
      'pushed-to-the-fork',
      text =>
        text.replace('phase: development', 'phase: canary') +
        `last_transition:\n  kind: advance\n  from: development\n  to: canary\n  at: ${at}\n  reason: faster\n  evidence: []\n`,
      () => 'skip ahead',
      'main',
      '.phasegate/state/production_deployment.yaml'
    )
    // The commit lives in mallory's fork: this repository has it only at refs/pull/N/head.
    const sha = gh.git.branchSha('pushed-to-the-fork')!
    gh.git.deleteRef('refs/heads/pushed-to-the-fork')
    const number = gh.openForkPullRequest({ user: 'mallory', branch: 'main', sha })
    await approve(gh, number, 'alice')
    const refused = await check(gh, workspace, number)
    expect(refused.exitCode, refused.stdout).toBe(1)
    expect(refused.stdout).toContain(
      'skips from development to canary: an advance moves one phase, to staging'
    )
    const [status] = await statusesOf(gh, sha)
    expect(status).toMatchObject({ context: 'phasegate/policy', state: 'failure' })
    // With the read-only token a pull_request run from a fork gets, no status can be set: the
    // job's failure is the verdict.
    const readOnly = await check(gh, workspace, number, gh.readOnlyTokenFor(BOT))
    expect(readOnly.exitCode, readOnly.stdout).toBe(1)
    expect(readOnly.summary).toContain('a pull request from a fork runs with a read-only token')
    expect(await statusesOf(gh, sha)).toHaveLength(1)
  })

  test('a fork PR that leaves state files alone passes with a read-only token', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    const dir = await cloneEmulated(gh, 'bob')
    writeFileSync(join(dir, 'README.md'), '# shop\n\nfrom a fork\n')
    await runGit(dir, ['commit', '-q', '-am', 'docs'])
    await runGit(dir, ['push', '-q', 'origin', 'HEAD:refs/heads/tmp-fork'], gh.gitAuthHeader('bob'))
    const sha = gh.git.branchSha('tmp-fork')!
    gh.git.deleteRef('refs/heads/tmp-fork')
    const number = gh.openForkPullRequest({ user: 'mallory', branch: 'docs', sha })
    const passed = await check(gh, workspace, number, gh.readOnlyTokenFor(BOT))
    expect(passed.exitCode, passed.stdout).toBe(0)
    expect(passed.outputs.decision).toBe('success')
    expect(passed.summary).toContain('no state file changes')
    expect(passed.stdout).toContain('::warning::the phasegate/policy status could not be set')
  })

  test('edited evidence fails, even with the trailers copied', async () => {
    const { gh, workspace } = await withAdvancePullRequest()
    await handWrittenPullRequest(
      gh,
      'phasegate/checkout/advance',
      text => text.replace('value: 0.001', 'value: 0.0001'),
      phasegateMessage => phasegateMessage,
      'phasegate/checkout/advance'
    )
    const pull = openPulls(gh)[0]!.number
    await approve(gh, pull, 'alice')
    const refused = await check(gh, workspace, pull)
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toContain("differs from the transition commit's trailers: it was edited")
  })

  test('an edit outside a transition (the kill switch flipped by hand) fails', async () => {
    repo = await startRepo({ files: seedFiles(CHECKOUT_POLICY) })
    const { gh } = repo
    const workspace = await checkout(gh)
    writeMetrics(workspace, { error_rate: 0.001 }, 'checkout')
    await handWrittenPullRequest(
      gh,
      'off',
      text => text.replace('enabled: true', 'enabled: false'),
      () => 'turn it off'
    )
    const created = await api(gh, 'POST', '/pulls', { title: 'off', head: 'off', base: 'main' })
    const refused = await check(gh, workspace, created.number)
    expect(refused.stdout).toContain('edited outside a phasegate transition')
  })

  test('a pull request that leaves state files alone passes', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    const dir = await cloneEmulated(gh, 'bob')
    await runGit(dir, ['checkout', '-q', '-b', 'docs'])
    writeFileSync(join(dir, 'README.md'), '# shop\n\nmore\n')
    await runGit(dir, ['commit', '-q', '-am', 'docs'])
    await runGit(dir, ['push', '-q', 'origin', 'docs'], gh.gitAuthHeader('bob'))
    const created = await api(gh, 'POST', '/pulls', { title: 'docs', head: 'docs', base: 'main' })
    const passed = await check(gh, workspace, created.number)
    expect(passed.exitCode, passed.stdout).toBe(0)
    expect(passed.summary).toContain('no state file changes')
  })
})

describe('dispatch rollback', () => {
  test("a dispatch by someone who is not one of the policy's operators is refused", async () => {
    repo = await startRepo({ files: seedFiles(CHECKOUT_POLICY) })
    const { gh } = repo
    const workspace = await checkout(gh)
    const before = stateOnMain(gh, STATE)
    const run = await runPhasegate(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: {
        inputs: { reason: 'I think it is broken', mode: 'emergency' },
        sender: { login: 'mallory' }
      }
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain("mallory is not among the policy's operators (alice)")
    expect(run.summary).toContain(
      "## phasegate failed\n\nmallory is not among the policy's operators (alice)"
    )
    expect(stateOnMain(gh, STATE)).toBe(before)
  })

  test('without operators in the policy, a dispatch by a user who cannot push is refused', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    const before = stateOnMain(gh)
    const run = await runPhasegate(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: { inputs: { reason: 'looks bad', mode: 'emergency' }, sender: { login: 'mallory' } }
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('mallory has read permission')
    expect(stateOnMain(gh)).toBe(before)
  })
})

describe('what an approval approves', () => {
  /** `login` rewrites the tip of phasegate's advance branch to also carry `files`, message kept. */
  async function smuggle(gh: Repo['gh'], login: string, files: Record<string, string>) {
    const dir = await cloneEmulated(gh, login)
    await runGit(dir, ['checkout', '-q', '-B', 'advance', 'origin/phasegate/checkout/advance'])
    for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text)
    await runGit(dir, ['add', '-A'])
    await runGit(dir, ['commit', '-q', '--amend', '--no-edit'])
    await runGit(
      dir,
      ['push', '-q', '--force', 'origin', 'HEAD:refs/heads/phasegate/checkout/advance'],
      gh.gitAuthHeader(login)
    )
  }

  test('an advance PR carrying more than the state change is never merged, and says what is foreign', async () => {
    const { gh, workspace, pull } = await withAdvancePullRequest()
    await smuggle(gh, 'bob', {
      'app.js': 'steal()\n',
      'policies/checkout.yaml': CHECKOUT_POLICY.replace('error_rate > 0.05', 'error_rate > 0.9')
    })
    await approve(gh, pull, 'alice')
    const run = await tick(gh, workspace)
    expect(gh.state.issues.get(pull)!.pull!.mergedAt).toBeNull()
    expect(stateOnMain(gh, STATE)).toContain('phase: canary')
    expect(gh.readFile('main', 'app.js')).toBeUndefined()
    expect(run.summary).toContain('app.js, policies/checkout.yaml')
    const [status] = await statusesOf(gh, gh.state.issues.get(pull)!.pull!.headSha)
    expect(status).toMatchObject({ context: 'phasegate/policy', state: 'failure' })
    expect(status!.description).toContain('app.js')
    expect(gh.state.issues.get(pull)!.body).toContain('app.js, policies/checkout.yaml')
    const refused = await check(gh, workspace, pull)
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toContain('app.js, policies/checkout.yaml')
  })
})
