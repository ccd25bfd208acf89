// src/github/* against the emulator: every helper through the real octokit client (retry and
// throttling plugins included), with injected faults.

import { afterEach, describe, expect, test } from 'vitest'
import { evaluateGate } from '../../src/engine/index.js'
import type { ManualApprovalGate } from '../../src/engine/types.js'
import { observeChecks } from '../../src/github/checks.js'
import { createGitHubClient, type GitHubClient } from '../../src/github/client.js'
import { raiseAlertIssue, resolveAlertIssue } from '../../src/github/issues.js'
import { operatorStanding } from '../../src/github/operators.js'
import {
  closeStandingPullRequest,
  findOpenPullRequest,
  listChangedFiles,
  upsertStandingPullRequest
} from '../../src/github/pulls.js'
import { collectApprovals } from '../../src/github/reviews.js'
import { setCommitStatus } from '../../src/github/statuses.js'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'

const repo = { owner: 'acme', repo: 'shop' }
const HEAD = 'phasegate/checkout/advance'
const BOT = 'phasegate-app[bot]'

const open: GitHubEmulator[] = []
afterEach(async () => {
  for (const gh of open.splice(0)) await gh.close()
})

async function emulator(): Promise<GitHubEmulator> {
  const gh = await startGitHubEmulator({
    ...repo,
    users: [
      { login: BOT, type: 'Bot' },
      { login: 'alice', permission: 'write' },
      { login: 'bob', permission: 'write' },
      { login: 'carol', permission: 'write' },
      { login: 'mallory', permission: 'write' },
      { login: 'renovate[bot]', type: 'Bot' }
    ],
    teams: { sre: ['carol'] }
  })
  open.push(gh)
  return gh
}

function clientFor(gh: GitHubEmulator, login = BOT, warnings: string[] = []): GitHubClient {
  return createGitHubClient({
    token: gh.tokenFor(login),
    baseUrl: gh.apiUrl,
    retryUnitMs: 5,
    writeIntervalMs: 0,
    warn: message => warnings.push(message)
  })
}

function operations(gh: GitHubEmulator): string[] {
  return gh.state.requests.map(request => `${request.operationId}:${request.status}`)
}

const advance = {
  head: HEAD,
  base: 'main',
  title: 'phasegate: advance checkout to canary',
  body: 'gates: all pass',
  reviewers: ['alice', '@acme/sre', '@other-org/team', BOT]
}

describe('the standing pull request', () => {
  test('is created once and updated in place on later ticks', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    const first = await upsertStandingPullRequest(client, repo, advance)
    expect(first).toMatchObject({ created: true, author: BOT })
    const second = await upsertStandingPullRequest(client, repo, {
      ...advance,
      body: 'gates: still pass'
    })
    expect(second).toMatchObject({ created: false, number: first.number })
    expect(gh.state.pulls()).toHaveLength(1)
    expect(gh.state.issues.get(first.number)).toMatchObject({ body: 'gates: still pass' })
    // The bot is the author and may not be requested; teams of other organisations cannot review.
    expect(gh.state.issues.get(first.number)?.pull).toMatchObject({
      requestedReviewers: ['alice'],
      requestedTeams: ['sre']
    })
  })

  test('a create that GitHub carried out but answered 502 is not duplicated on retry', async () => {
    const gh = await emulator()
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 502, afterHandling: true })
    const standing = await upsertStandingPullRequest(clientFor(gh), repo, advance)
    expect(standing.created).toBe(false)
    expect(gh.state.pulls()).toHaveLength(1)
    expect(operations(gh)).toEqual([
      'pulls/list:200',
      'pulls/create:502',
      'pulls/create:422',
      'pulls/list:200',
      'pulls/update:200',
      'pulls/request-reviewers:201'
    ])
  })

  test('a 422 "already exists" for a PR that cannot be found is not swallowed', async () => {
    const gh = await emulator()
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 422 })
    await expect(upsertStandingPullRequest(clientFor(gh), repo, advance)).rejects.toMatchObject({
      status: 422
    })
  })

  test('server errors are retried a bounded number of times', async () => {
    const gh = await emulator()
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    gh.inject({ method: 'GET', path: /\/pulls$/, status: 500, times: 2 })
    await upsertStandingPullRequest(clientFor(gh), repo, advance)
    expect(gh.state.pulls()).toHaveLength(1)

    gh.inject({ method: 'GET', path: /\/pulls$/, status: 503, times: 10 })
    await expect(findOpenPullRequest(clientFor(gh), repo, HEAD)).rejects.toMatchObject({
      status: 503
    })
    // One request and three retries.
    expect(operations(gh).filter(op => op === 'pulls/list:503')).toHaveLength(4)
  })

  test('secondary rate limits (403 and 429) are retried after retry-after, then given up', async () => {
    const gh = await emulator()
    const warnings: string[] = []
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 429, retryAfter: 1 })
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 403, retryAfter: 0 })
    await upsertStandingPullRequest(clientFor(gh, BOT, warnings), repo, advance)
    expect(gh.state.pulls()).toHaveLength(1)
    expect(operations(gh).filter(op => op.startsWith('pulls/create'))).toEqual([
      'pulls/create:429',
      'pulls/create:403',
      'pulls/create:201'
    ])
    expect(warnings[0]).toMatch(/secondary rate limit on POST .*retrying after 1s \(retry 1 of 3\)/)

    gh.inject({ method: 'GET', path: /\/pulls$/, status: 429, retryAfter: 1, times: 10 })
    await expect(
      findOpenPullRequest(clientFor(gh, BOT, warnings), repo, HEAD)
    ).rejects.toMatchObject({ status: 429 })
    expect(operations(gh).filter(op => op === 'pulls/list:429')).toHaveLength(4)
    expect(warnings.at(-1)).toMatch(/giving up/)
  })

  test('is closed with a comment, and a later advance opens a fresh one', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    const first = await upsertStandingPullRequest(client, repo, advance)
    expect(
      await closeStandingPullRequest(client, repo, HEAD, 'Rolled back: error_rate > 0.02')
    ).toBe(first.number)
    expect(gh.state.issues.get(first.number)?.state).toBe('closed')
    expect(gh.state.comments.map(c => c.body)).toEqual(['Rolled back: error_rate > 0.02'])
    expect(await closeStandingPullRequest(client, repo, HEAD, 'again')).toBeUndefined()
    const second = await upsertStandingPullRequest(client, repo, advance)
    expect(second.created).toBe(true)
    expect(second.number).not.toBe(first.number)
  })

  test('lists the files a pull request changes', async () => {
    const gh = await emulator()
    gh.commitFiles(
      'main',
      { 'rollouts/checkout.state.yaml': 'phase: staging\n', 'old.txt': 'x' },
      'seed'
    )
    gh.commitFiles(
      'hand-edit',
      {
        'rollouts/checkout.state.yaml': 'phase: limited_production\n',
        'old.txt': null,
        'notes.md': 'skip canary\n'
      },
      'skip a phase'
    )
    const { data } = await clientFor(gh, 'alice').rest.pulls.create({
      ...repo,
      head: 'hand-edit',
      base: 'main',
      title: 'Skip canary'
    })
    expect(await listChangedFiles(clientFor(gh), repo, data.number)).toEqual([
      { path: 'notes.md', status: 'added' },
      { path: 'old.txt', status: 'removed' },
      { path: 'rollouts/checkout.state.yaml', status: 'modified' }
    ])
  })
})

describe('approvals', () => {
  async function standingPull(gh: GitHubEmulator) {
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    return upsertStandingPullRequest(clientFor(gh), repo, { ...advance, reviewers: [] })
  }

  async function review(
    gh: GitHubEmulator,
    login: string,
    number: number,
    event: string,
    body = ''
  ) {
    await clientFor(gh, login).rest.pulls.createReview({
      ...repo,
      pull_number: number,
      event: event as 'APPROVE',
      ...(body ? { body } : {})
    })
  }

  test("each reviewer's latest verdict counts; comments do not change it", async () => {
    const gh = await emulator()
    const pull = await standingPull(gh)
    await review(gh, 'alice', pull.number, 'APPROVE')
    await review(gh, 'alice', pull.number, 'COMMENT', 'looks fine')
    await review(gh, 'bob', pull.number, 'APPROVE')
    await review(gh, 'bob', pull.number, 'REQUEST_CHANGES', 'error rate is creeping up')
    const approvals = await collectApprovals(clientFor(gh), repo, pull, ['alice', 'bob'])
    expect(approvals).toEqual([
      { user: 'alice', bot: false, author: false, stale: false, permission: 'write' }
    ])
  })

  test('marks the author, bots, approvals of an older commit, and resolves team approvers', async () => {
    const gh = await emulator()
    const pull = await standingPull(gh)
    await review(gh, 'mallory', pull.number, 'APPROVE')
    await review(gh, 'renovate[bot]', pull.number, 'APPROVE')
    await review(gh, 'carol', pull.number, 'APPROVE')
    // GitHub refuses an author's approval; plant one to prove it never counts anyway.
    gh.plantReview({ pull: pull.number, user: BOT })
    await review(gh, 'alice', pull.number, 'APPROVE')
    const newHead = gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary # edited\n' }, 'edit')
    await review(gh, 'bob', pull.number, 'APPROVE')
    const current = (await findOpenPullRequest(clientFor(gh), repo, HEAD))!
    expect(current.headSha).toBe(newHead)

    const approvals = await collectApprovals(clientFor(gh), repo, current, [
      'alice',
      'bob',
      '@acme/sre'
    ])
    const byUser = Object.fromEntries(approvals.map(a => [a.user, a]))
    expect(byUser).toEqual({
      mallory: { user: 'mallory', bot: false, author: false, stale: true, permission: 'write' },
      'renovate[bot]': { user: 'renovate[bot]', bot: true, author: false, stale: true },
      carol: { user: 'carol', teams: ['@acme/sre'], bot: false, author: false, stale: true },
      [BOT]: { user: BOT, bot: true, author: true, stale: true },
      alice: { user: 'alice', bot: false, author: false, stale: true, permission: 'write' },
      bob: { user: 'bob', bot: false, author: false, stale: false, permission: 'write' }
    })
    // Neither author nor bot is looked up; a member of a listed team needs no permission lookup.
    expect(
      operations(gh).filter(op => op.startsWith('teams/') || op.includes('permission'))
    ).toEqual([
      'teams/get-membership-for-user-in-org:404',
      'repos/get-collaborator-permission-level:200',
      'teams/get-membership-for-user-in-org:200',
      'teams/get-membership-for-user-in-org:404',
      'repos/get-collaborator-permission-level:200',
      'teams/get-membership-for-user-in-org:404',
      'repos/get-collaborator-permission-level:200'
    ])
  })
})

describe("approvals through the engine's manual approval gate", () => {
  const gate: ManualApprovalGate = {
    type: 'manual_approval',
    name: 'sre sign-off',
    required: 1,
    approvers: ['alice', 'bob', 'renovate[bot]', BOT]
  }

  async function gateOutcome(gh: GitHubEmulator) {
    const pull = (await findOpenPullRequest(clientFor(gh), repo, HEAD))!
    const approvals = await collectApprovals(clientFor(gh), repo, pull, gate.approvers)
    const state = {
      feature: 'checkout',
      phase: 'canary',
      enteredAt: '2026-01-01T00:00:00Z',
      enabled: true,
      experiments: {}
    }
    return evaluateGate(gate, state, { readings: [], approvals, checks: [] }, new Date()).outcome
  }

  test.each([
    [
      'self-approval by the PR author',
      (gh: GitHubEmulator, n: number) => gh.plantReview({ pull: n, user: BOT })
    ],
    [
      'approval by a bot',
      (gh: GitHubEmulator, n: number) => gh.plantReview({ pull: n, user: 'renovate[bot]' })
    ],
    [
      'approval by a user not listed',
      (gh: GitHubEmulator, n: number) => gh.plantReview({ pull: n, user: 'mallory' })
    ],
    [
      'approval of an older commit than the head',
      (gh: GitHubEmulator, n: number) => {
        gh.plantReview({ pull: n, user: 'alice' })
        gh.commitFiles(HEAD, { 'state.yaml': 'phase: full_production\n' }, 'sneaky edit')
      }
    ]
  ])('%s does not pass the gate', async (_case, approve) => {
    const gh = await emulator()
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    const pull = await upsertStandingPullRequest(clientFor(gh), repo, { ...advance, reviewers: [] })
    approve(gh, pull.number)
    expect(await gateOutcome(gh)).toBe('pending')
    await clientFor(gh, 'bob').rest.pulls.createReview({
      ...repo,
      pull_number: pull.number,
      event: 'APPROVE'
    })
    expect(await gateOutcome(gh)).toBe('pass')
  })
})

describe('operators', () => {
  test('listed users and members of listed teams may dispatch; others are refused with a reason', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    const operators = ['alice', '@acme/sre']
    expect(await operatorStanding(client, repo, 'alice', operators)).toEqual({
      allowed: true,
      reason: 'alice is listed as an operator'
    })
    expect(await operatorStanding(client, repo, 'carol', operators)).toEqual({
      allowed: true,
      reason: 'carol is a member of @acme/sre'
    })
    expect(await operatorStanding(client, repo, 'mallory', operators)).toEqual({
      allowed: false,
      reason: "mallory is not among the policy's operators (alice, @acme/sre)"
    })
  })

  test('without operators in the policy, write permission on the repository is required', async () => {
    const gh = await startGitHubEmulator({
      ...repo,
      users: [
        { login: 'dev', permission: 'write' },
        { login: 'viewer', permission: 'read' }
      ]
    })
    open.push(gh)
    const client = clientFor(gh, 'dev')
    expect(await operatorStanding(client, repo, 'dev', [])).toMatchObject({ allowed: true })
    expect(await operatorStanding(client, repo, 'viewer', [])).toEqual({
      allowed: false,
      reason:
        'viewer has read permission; without operators in the policy, rollbacks need write permission'
    })
    expect(await operatorStanding(client, repo, 'ghost', [])).toMatchObject({ allowed: false })
  })
})

describe('automated test observations', () => {
  test('the latest check run or workflow run of each name on the commit', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    const sha = gh.git.branchSha('main')!
    await client.rest.checks.create({ ...repo, name: 'unit', head_sha: sha, conclusion: 'failure' })
    await client.rest.checks.create({ ...repo, name: 'unit', head_sha: sha, conclusion: 'success' })
    await client.rest.checks.create({ ...repo, name: 'e2e', head_sha: sha, status: 'in_progress' })
    gh.addWorkflowRun({ name: 'Load test', headSha: sha, conclusion: 'failure' })
    gh.addWorkflowRun({ name: 'Smoke', headSha: sha, conclusion: 'success' })
    gh.addWorkflowRun({ name: 'Smoke', headSha: gh.commitFiles('main', { x: 'y' }, 'later') })
    const app = 'phasegate-app'
    const actions = 'github-actions'
    expect(
      await observeChecks(client, repo, sha, [
        { name: 'unit', app },
        { name: 'e2e', app },
        { name: 'Load test', app: actions },
        { name: 'Smoke', app: actions },
        { name: 'security scan', app: actions }
      ])
    ).toEqual([
      { name: 'unit', app, conclusion: 'success' },
      { name: 'e2e', app, conclusion: null },
      { name: 'Load test', app: actions, conclusion: 'failure' },
      { name: 'Smoke', app: actions, conclusion: 'success' }
    ])
  })

  test('workflow runs are only asked for when check runs leave a name unanswered', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    const sha = gh.git.branchSha('main')!
    await client.rest.checks.create({ ...repo, name: 'unit', head_sha: sha, conclusion: 'success' })
    gh.state.requests.length = 0
    expect(
      await observeChecks(client, repo, sha, [{ name: 'unit', app: 'phasegate-app' }])
    ).toEqual([{ name: 'unit', app: 'phasegate-app', conclusion: 'success' }])
    expect(operations(gh)).toEqual(['checks/list-for-ref:200'])
  })

  test('no named checks costs no requests', async () => {
    const gh = await emulator()
    expect(await observeChecks(clientFor(gh), repo, gh.git.branchSha('main')!, [])).toEqual([])
    expect(gh.requestCount()).toBe(0)
  })
})

describe('alert issues', () => {
  const key = { feature: 'checkout', alert: 'error_rate' }

  test('opened once, commented only when severity changes, closed on recovery', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    const raise = (severity: string) =>
      raiseAlertIssue(client, repo, key, { severity, body: `error_rate is ${severity}` })
    const opened = await raise('medium')
    expect(opened.action).toBe('opened')
    expect(await raise('medium')).toEqual({ number: opened.number, action: 'unchanged' })
    expect(await raise('critical')).toEqual({ number: opened.number, action: 'commented' })
    expect(await raise('critical')).toEqual({ number: opened.number, action: 'unchanged' })
    expect(gh.state.issues.get(opened.number)?.labels).toEqual([
      'phasegate',
      'phasegate:checkout',
      'alert:error_rate',
      'severity:critical'
    ])
    expect(await resolveAlertIssue(client, repo, key, 'recovered')).toBe(opened.number)
    expect(gh.state.issues.get(opened.number)).toMatchObject({ state: 'closed' })
    expect(gh.state.comments.map(c => c.body)).toEqual(['error_rate is critical', 'recovered'])
    expect(await resolveAlertIssue(client, repo, key, 'recovered')).toBeUndefined()
    expect((await raise('low')).number).not.toBe(opened.number)
  })

  test('other features, other alerts and pull requests with the same labels are not confused', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    await raiseAlertIssue(
      client,
      repo,
      { feature: 'search', alert: 'error_rate' },
      { severity: 'low', body: 'x' }
    )
    await raiseAlertIssue(
      client,
      repo,
      { feature: 'checkout', alert: 'response_time' },
      { severity: 'low', body: 'x' }
    )
    gh.commitFiles('labelled', { a: 'a' }, 'a')
    const { data: pull } = await client.rest.pulls.create({
      ...repo,
      head: 'labelled',
      base: 'main',
      title: 'p'
    })
    await client.rest.issues.addLabels({
      ...repo,
      issue_number: pull.number,
      labels: ['phasegate', 'phasegate:checkout', 'alert:error_rate', 'severity:low']
    })
    expect((await raiseAlertIssue(client, repo, key, { severity: 'low', body: 'x' })).action).toBe(
      'opened'
    )
  })

  test('a create that GitHub carried out but answered 502 opens exactly one issue', async () => {
    const gh = await emulator()
    gh.inject({ method: 'POST', path: /\/issues$/, status: 502, afterHandling: true })
    const outcome = await raiseAlertIssue(clientFor(gh), repo, key, { severity: 'high', body: 'x' })
    expect(outcome.action).toBe('opened')
    expect(gh.state.issues.size).toBe(1)
    expect(operations(gh)).toEqual([
      'issues/list-for-repo:200',
      'issues/create:502',
      'issues/list-for-repo:200'
    ])
  })

  test('a create that failed before GitHub acted is tried again', async () => {
    const gh = await emulator()
    gh.inject({ method: 'POST', path: /\/issues$/, status: 500 })
    await raiseAlertIssue(clientFor(gh), repo, key, { severity: 'high', body: 'x' })
    expect(gh.state.issues.size).toBe(1)
  })
})

describe('observations under transient faults', () => {
  test('approvals, checks and statuses come through 5xx and rate limits unchanged', async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    gh.commitFiles(HEAD, { 'state.yaml': 'phase: canary\n' }, 'advance')
    const pull = await upsertStandingPullRequest(client, repo, { ...advance, reviewers: [] })
    await clientFor(gh, 'carol').rest.pulls.createReview({
      ...repo,
      pull_number: pull.number,
      event: 'APPROVE'
    })
    gh.addWorkflowRun({ name: 'e2e', headSha: pull.headSha })
    gh.inject({ path: /\/reviews$/, status: 502 })
    gh.inject({ path: /\/memberships\//, status: 429, retryAfter: 1 })
    gh.inject({ path: /\/check-runs$/, status: 500 })
    gh.inject({ path: /\/actions\/runs$/, status: 403, retryAfter: 1 })
    gh.inject({ path: /\/statuses\//, status: 503 })
    expect(await collectApprovals(client, repo, pull, ['@acme/sre'])).toEqual([
      { user: 'carol', teams: ['@acme/sre'], bot: false, author: false, stale: false }
    ])
    expect(
      await observeChecks(client, repo, pull.headSha, [{ name: 'e2e', app: 'github-actions' }])
    ).toEqual([{ name: 'e2e', app: 'github-actions', conclusion: 'success' }])
    await setCommitStatus(client, repo, pull.headSha, { state: 'success', description: 'ok' })
    expect(gh.state.statuses).toHaveLength(1)
    // Check runs and workflow runs are fetched concurrently: compare without order.
    expect(
      operations(gh)
        .filter(op => /:(5|4)\d\d$/.test(op))
        .sort()
    ).toEqual([
      'actions/list-workflow-runs-for-repo:403',
      'checks/list-for-ref:500',
      'pulls/list-reviews:502',
      'repos/create-commit-status:503',
      'teams/get-membership-for-user-in-org:429'
    ])
  })
})

describe('commit statuses', () => {
  test("the policy check's status lands on the commit, its description cut to GitHub's limit", async () => {
    const gh = await emulator()
    const client = clientFor(gh)
    const sha = gh.git.branchSha('main')!
    await setCommitStatus(client, repo, sha, {
      state: 'failure',
      description: `skipped phase: staging -> limited_production ${'x'.repeat(200)}`
    })
    const { data } = await client.rest.repos.getCombinedStatusForRef({ ...repo, ref: sha })
    expect(data.state).toBe('failure')
    expect(data.statuses[0]).toMatchObject({ context: 'phasegate/policy' })
    expect(data.statuses[0]?.description).toHaveLength(140)
  })
})
