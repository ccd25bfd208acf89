import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { startGitHubEmulator } from '../support/github-emulator/index.js'
import { createGitHubClient } from '../../src/github/client.js'

const run = promisify(execFile)

test('smoke', async () => {
  const gh = await startGitHubEmulator({ owner: 'acme', repo: 'shop', users: [{ login: 'phasegate[bot]', type: 'Bot' }, { login: 'alice' }], teams: { sre: ['alice'] } })
  const client = createGitHubClient({ token: gh.token, baseUrl: gh.apiUrl, retryUnitMs: 1, writeIntervalMs: 0 })
  const r = { owner: 'acme', repo: 'shop' }
  try {
    await client.rest.repos.get(r)
    const head = gh.commitFiles('phasegate/checkout/advance', { 'state.yaml': 'phase: canary\n' }, 'advance')
    const pr = await client.rest.pulls.create({ ...r, head: 'phasegate/checkout/advance', base: 'main', title: 't', body: 'b' })
    await client.rest.pulls.list({ ...r, head: 'acme:phasegate/checkout/advance' })
    await client.rest.pulls.get({ ...r, pull_number: pr.data.number })
    await client.rest.pulls.requestReviewers({ ...r, pull_number: pr.data.number, reviewers: ['alice'], team_reviewers: ['sre'] })
    await client.rest.pulls.listFiles({ ...r, pull_number: pr.data.number })
    const alice = createGitHubClient({ token: gh.tokenFor('alice'), baseUrl: gh.apiUrl, retryUnitMs: 1, writeIntervalMs: 0 })
    await alice.rest.pulls.createReview({ ...r, pull_number: pr.data.number, event: 'APPROVE' })
    await client.rest.pulls.listReviews({ ...r, pull_number: pr.data.number })
    await client.rest.pulls.update({ ...r, pull_number: pr.data.number, body: 'x' })
    await client.rest.repos.createCommitStatus({ ...r, sha: head, state: 'success', context: 'phasegate/policy' })
    await client.rest.repos.getCombinedStatusForRef({ ...r, ref: head })
    await client.rest.checks.create({ ...r, name: 'ci', head_sha: head, conclusion: 'success' })
    await client.rest.checks.listForRef({ ...r, ref: head })
    gh.addWorkflowRun({ name: 'CI', headSha: head })
    await client.rest.actions.listWorkflowRunsForRepo({ ...r, head_sha: head })
    const issue = await client.rest.issues.create({ ...r, title: 'alert', labels: ['phasegate'] })
    await client.rest.issues.createComment({ ...r, issue_number: issue.data.number, body: 'hi' })
    await client.rest.issues.listComments({ ...r, issue_number: issue.data.number })
    await client.rest.issues.addLabels({ ...r, issue_number: issue.data.number, labels: ['x'] })
    await client.rest.issues.update({ ...r, issue_number: issue.data.number, state: 'closed' })
    await client.rest.issues.get({ ...r, issue_number: issue.data.number })
    await client.rest.issues.listForRepo({ ...r, labels: 'phasegate', state: 'all' })
    await client.rest.git.getRef({ ...r, ref: 'heads/main' })
    await client.rest.git.createRef({ ...r, ref: 'refs/heads/x', sha: head })
    await client.rest.git.updateRef({ ...r, ref: 'heads/x', sha: head })
    await client.rest.git.deleteRef({ ...r, ref: 'heads/x' })
    await client.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'sre', username: 'alice' })
    await client.rest.users.getByUsername({ username: 'phasegate[bot]' })
    await client.rest.repos.getCollaboratorPermissionLevel({ ...r, username: 'alice' })
    await client.rest.pulls.merge({ ...r, pull_number: pr.data.number })
    const dir = mkdtempSync(join(tmpdir(), 'clone-'))
    await run('git', ['-c', `http.extraHeader=${gh.gitAuthHeader()}`, 'clone', gh.gitUrl, dir], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })
    console.log((await run('git', ['log', '--oneline'], { cwd: dir })).stdout)
  } finally {
    console.log(gh.state.violations.join('\n'))
    await gh.close()
  }
})
