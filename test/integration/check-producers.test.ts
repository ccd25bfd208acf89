// Which checks pass an automated_test gate (issue 10, kind 5): only runs from the producer the
// gate trusts (GitHub Actions unless it names an app), on the exact commit being promoted; a
// failure from the trusted producer is not overridden by another producer's success.

import { afterEach, describe, expect, test } from 'vitest'
import { evaluateGate } from '../../src/engine/index.js'
import type { AutomatedTestGate, State } from '../../src/engine/types.js'
import { observeChecks } from '../../src/github/checks.js'
import { createGitHubClient, type GitHubClient } from '../../src/github/client.js'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'
import { policy } from '../support/policies.js'
import type { PhasegateError } from '../../src/errors.js'

const repo = { owner: 'acme', repo: 'shop' }
const ACTIONS = 'github-actions[bot]'

const open: GitHubEmulator[] = []
afterEach(async () => {
  for (const gh of open.splice(0)) await gh.close()
})

async function emulator(): Promise<GitHubEmulator> {
  const gh = await startGitHubEmulator({
    ...repo,
    users: [
      { login: ACTIONS, type: 'Bot' },
      { login: 'evil-ci[bot]', type: 'Bot' },
      { login: 'buildkite[bot]', type: 'Bot' },
      { login: 'mallory', permission: 'write' }
    ]
  })
  open.push(gh)
  return gh
}

const clientFor = (gh: GitHubEmulator, login = ACTIONS): GitHubClient =>
  createGitHubClient({
    token: gh.tokenFor(login),
    baseUrl: gh.apiUrl,
    retryUnitMs: 5,
    writeIntervalMs: 0
  })

async function post(gh: GitHubEmulator, app: string, sha: string, conclusion: string) {
  await clientFor(gh, app).rest.checks.create({
    ...repo,
    name: 'e2e',
    head_sha: sha,
    conclusion: conclusion as 'success'
  })
}

const state: State = {
  feature: 'f',
  phase: 'canary',
  enteredAt: '2026-01-01T00:00:00Z',
  enabled: true,
  experiments: {}
}

async function outcome(gh: GitHubEmulator, sha: string, gate: AutomatedTestGate) {
  const checks = await observeChecks(clientFor(gh), repo, sha, [
    { name: 'e2e', app: gate.app, ...(gate.workflow ? { workflow: gate.workflow } : {}) }
  ])
  return evaluateGate(gate, state, { readings: [], approvals: [], checks }, new Date())
}

const gate: AutomatedTestGate = {
  type: 'automated_test',
  name: 'tests',
  checks: ['e2e'],
  app: 'github-actions'
}

describe('automated_test trusts one producer', () => {
  test("another app's success after GitHub Actions' failure does not pass", async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    await post(gh, ACTIONS, sha, 'failure')
    await post(gh, 'evil-ci[bot]', sha, 'success')
    const result = await outcome(gh, sha, gate)
    expect(result.outcome).toBe('fail')
  })

  test("another app's success alone does not pass", async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    await post(gh, 'evil-ci[bot]', sha, 'success')
    expect((await outcome(gh, sha, gate)).outcome).toBe('pending')
  })

  test('a gate naming an app trusts that app only', async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    await post(gh, ACTIONS, sha, 'success')
    const buildkite = { ...gate, app: 'buildkite' }
    expect((await outcome(gh, sha, buildkite)).outcome).toBe('pending')
    await post(gh, 'buildkite[bot]', sha, 'success')
    expect((await outcome(gh, sha, buildkite)).outcome).toBe('pass')
  })

  test('a success on another commit does not count', async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    const later = gh.commitFiles('main', { 'x.txt': 'x' }, 'later')
    await post(gh, ACTIONS, later, 'success')
    expect((await outcome(gh, sha, gate)).outcome).toBe('pending')
  })

  test('GitHub Actions success passes (control)', async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    await post(gh, ACTIONS, sha, 'success')
    expect((await outcome(gh, sha, gate)).outcome).toBe('pass')
  })

  test('the emulator refuses check runs from a user token, as GitHub does', async () => {
    const gh = await emulator()
    await expect(post(gh, 'mallory', gh.git.branchSha('main')!, 'success')).rejects.toThrow(
      /GitHub App/
    )
  })
})

describe('automated_test can trust one workflow file', () => {
  const ci = { ...gate, workflow: '.github/workflows/ci.yml' }

  test("only runs of the named workflow file count: another workflow's run or job of the same name does not", async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    // a workflow anyone with write access can add, named like the real one, and its job's check run
    gh.addWorkflowRun({
      name: 'e2e',
      headSha: sha,
      conclusion: 'success',
      path: '.github/workflows/fake.yml'
    })
    await post(gh, ACTIONS, sha, 'success')
    expect((await outcome(gh, sha, ci)).outcome).toBe('pending')
    gh.addWorkflowRun({
      name: 'e2e',
      headSha: sha,
      conclusion: 'failure',
      path: '.github/workflows/ci.yml'
    })
    expect((await outcome(gh, sha, ci)).outcome).toBe('fail')
    gh.addWorkflowRun({
      name: 'e2e',
      headSha: sha,
      conclusion: 'success',
      path: '.github/workflows/fake.yml'
    })
    expect((await outcome(gh, sha, ci)).outcome).toBe('fail')
    gh.addWorkflowRun({
      name: 'e2e',
      headSha: sha,
      conclusion: 'success',
      path: '.github/workflows/ci.yml'
    })
    expect((await outcome(gh, sha, ci)).outcome).toBe('pass')
  })

  test('the policy names a workflow file under .github/workflows, for GitHub Actions only', () => {
    const phase = (extra: string) =>
      `feature: f\ndeployment:\n  order: [a, b]\n  phases:\n    a:\n      user_percentage: 5\n      gates:\n        - type: automated_test\n          name: t\n          checks: [e2e]\n${extra}    b: { user_percentage: 100 }\n`
    expect(
      policy(phase('          workflow: .github/workflows/ci.yml\n')).phases[0]!.gates
    ).toContainEqual(expect.objectContaining({ workflow: '.github/workflows/ci.yml' }))
    const refusal = (extra: string) => {
      try {
        policy(phase(extra))
        return 'accepted'
      } catch (error) {
        return (error as PhasegateError).format()
      }
    }
    expect(refusal('          workflow: ci.yml\n')).toMatch(/test\.yaml:\d+:\d+: .*workflow/)
    expect(
      refusal('          app: buildkite\n          workflow: .github/workflows/ci.yml\n')
    ).toMatch(/test\.yaml:\d+:\d+: .*app: must be github-actions/)
  })
})
