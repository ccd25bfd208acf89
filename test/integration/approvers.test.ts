// Who counts as an approver (issue 10, kind 1): GitHub's collaborator permission decides, as in
// GitHub's own review rules; listed users need write too; teams count by membership; a lookup
// GitHub refuses never counts, and the gate says why.

import { afterEach, describe, expect, test } from 'vitest'
import { evaluateGate } from '../../src/engine/index.js'
import type { ManualApprovalGate, State } from '../../src/engine/types.js'
import { createGitHubClient, type GitHubClient } from '../../src/github/client.js'
import { upsertStandingPullRequest } from '../../src/github/pulls.js'
import { collectApprovals } from '../../src/github/reviews.js'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'

const repo = { owner: 'acme', repo: 'shop' }
const HEAD = 'phasegate/checkout/advance'
const BOT = 'github-actions[bot]'

const open: GitHubEmulator[] = []
afterEach(async () => {
  for (const gh of open.splice(0)) await gh.close()
})

async function emulator(): Promise<GitHubEmulator> {
  const gh = await startGitHubEmulator({
    ...repo,
    users: [
      { login: BOT, type: 'Bot', permission: 'write' },
      { login: 'alice', permission: 'write' },
      { login: 'mona', permission: 'maintain' },
      { login: 'ada', permission: 'admin' },
      { login: 'tess', permission: 'triage' },
      { login: 'rita', permission: 'read' },
      { login: 'carol', permission: 'read' },
      { login: 'mallory', permission: 'none' }
    ],
    teams: { sre: ['carol'] }
  })
  open.push(gh)
  return gh
}

function clientFor(gh: GitHubEmulator, login = BOT): GitHubClient {
  return createGitHubClient({
    token: gh.tokenFor(login),
    baseUrl: gh.apiUrl,
    retryUnitMs: 5,
    writeIntervalMs: 0
  })
}

const state: State = {
  feature: 'checkout',
  phase: 'canary',
  enteredAt: '2026-01-01T00:00:00Z',
  enabled: true,
  experiments: {}
}

async function judged(gh: GitHubEmulator, approvers: string[], reviewers: string[]) {
  gh.commitFiles(HEAD, { 'state.yaml': 'phase: full\n' }, 'advance')
  const pull = await upsertStandingPullRequest(clientFor(gh), repo, {
    head: HEAD,
    base: 'main',
    title: 'advance',
    body: '',
    reviewers: []
  })
  for (const login of reviewers) gh.plantReview({ pull: pull.number, user: login })
  const approvals = await collectApprovals(clientFor(gh), repo, pull, approvers)
  const gate: ManualApprovalGate = {
    type: 'manual_approval',
    name: 'sign-off',
    required: 1,
    approvers
  }
  return evaluateGate(gate, state, { readings: [], approvals, checks: [] }, new Date())
}

describe('with no approvers listed, only people who can push count', () => {
  test.each(['rita', 'tess', 'mallory'])(
    '%s (read, triage or none) does not count',
    async login => {
      const gh = await emulator()
      const result = await judged(gh, [], [login])
      expect(result.outcome).toBe('pending')
      expect(result.reason).toMatch(new RegExp(`${login} \\(has \\w+ permission`))
    }
  )

  test.each(['alice', 'mona', 'ada'])('%s (write, maintain or admin) counts', async login => {
    const gh = await emulator()
    const result = await judged(gh, [], [login])
    expect(result.outcome).toBe('pass')
  })
})

describe('listed approvers', () => {
  test('a listed user without write access does not count', async () => {
    const gh = await emulator()
    const result = await judged(gh, ['rita', 'alice'], ['rita'])
    expect(result.outcome).toBe('pending')
    expect(result.reason).toContain('rita (has read permission')
  })

  test('a listed login nobody owns on the repository does not count', async () => {
    const gh = await emulator()
    const result = await judged(gh, ['mallory'], ['mallory'])
    expect(result.outcome).toBe('pending')
  })

  test('a listed team counts by membership', async () => {
    const gh = await emulator()
    expect((await judged(gh, ['@acme/sre'], ['carol'])).outcome).toBe('pass')
  })

  test('a listed user with write access counts', async () => {
    const gh = await emulator()
    expect((await judged(gh, ['alice'], ['alice'])).outcome).toBe('pass')
  })
})

describe('an approval that cannot be verified', () => {
  test('a 403 on the permission lookup does not count, and the reason says so', async () => {
    const gh = await emulator()
    gh.inject({
      path: /\/collaborators\/alice\/permission$/,
      status: 403,
      times: 10,
      message: 'Resource not accessible by integration'
    })
    const result = await judged(gh, [], ['alice'])
    expect(result.outcome).toBe('pending')
    expect(result.reason).toContain('alice (could not be verified')
    expect(result.reason).toContain('403')
  })

  test('a 403 on the team membership lookup does not count', async () => {
    const gh = await emulator()
    gh.inject({
      path: /\/teams\/sre\/memberships\/carol$/,
      status: 403,
      times: 10,
      message: 'Resource not accessible by integration'
    })
    const result = await judged(gh, ['@acme/sre'], ['carol'])
    expect(result.outcome).toBe('pending')
    expect(result.reason).toContain('carol (could not be verified')
  })
})
