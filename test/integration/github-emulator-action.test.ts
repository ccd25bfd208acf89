// run-action.ts: a JavaScript action started as a process the way the runner starts it.

import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, test } from 'vitest'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'
import {
  checkoutWorkspace,
  parseOutputFile,
  runAction
} from '../support/github-emulator/run-action.js'

const probe = fileURLToPath(
  new URL('../support/github-emulator/fixtures/probe-action.mjs', import.meta.url)
)

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function setUp(): Promise<{ gh: GitHubEmulator; workspace: string }> {
  const gh = await startGitHubEmulator({
    owner: 'acme',
    repo: 'shop',
    users: [{ login: 'github-actions[bot]', type: 'Bot' }, { login: 'oncall-olga' }]
  })
  cleanup.push(() => gh.close())
  const workspace = await checkoutWorkspace(gh)
  cleanup.push(() => rmSync(workspace, { recursive: true, force: true }))
  return { gh, workspace }
}

test('the action sees inputs, event and actor, reaches the API, pushes, and reports', async () => {
  const { gh, workspace } = await setUp()
  const run = await runAction({
    entry: probe,
    gh,
    workspace,
    inputs: { 'github-token': gh.token, 'dry-run': 'false' },
    event: { name: 'workflow_dispatch', payload: { inputs: { reason: 'error spike' } } },
    actor: 'oncall-olga'
  })
  expect(run.stderr).toBe('')
  expect(run.exitCode).toBe(0)
  expect(run.outputs).toEqual({
    'default-branch': 'main',
    event: 'workflow_dispatch',
    reason: 'error spike',
    actor: 'oncall-olga',
    'dry-run': 'false',
    report: 'line one\nline two'
  })
  expect(run.summary).toContain(`sha ${gh.git.branchSha('main')}`)
  expect(gh.readFile('probe', 'probe.txt')).toBe('workflow_dispatch\n')
  expect(gh.state.requests.map(r => `${r.operationId} ${r.user}`)).toEqual([
    'repos/get github-actions[bot]'
  ])
})

test('a failed action exits 1 with its error annotation', async () => {
  const { gh, workspace } = await setUp()
  const run = await runAction({
    entry: probe,
    gh,
    workspace,
    inputs: { 'github-token': gh.token, 'dry-run': 'false', fail: 'true' },
    event: { name: 'schedule' }
  })
  expect(run.exitCode).toBe(1)
  expect(run.stdout).toContain('::error::asked to fail')
})

test("a bad token fails the action with GitHub's message", async () => {
  const { gh, workspace } = await setUp()
  const run = await runAction({
    entry: probe,
    gh,
    workspace,
    inputs: { 'github-token': 'ghs_revoked', 'dry-run': 'true' },
    event: { name: 'schedule' }
  })
  expect(run.exitCode).toBe(1)
  expect(run.stdout).toMatch(/::error::Bad credentials/)
})

test('output files parse both heredoc and name=value lines', () => {
  expect(
    parseOutputFile('phase<<EOF_1\ncanary\nEOF_1\nflags-json<<D\n{"a":1,\n"b":2}\nD\nlegacy=yes\n')
  ).toEqual({ phase: 'canary', 'flags-json': '{"a":1,\n"b":2}', legacy: 'yes' })
})
