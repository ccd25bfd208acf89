import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { createGitHubClient } from '../../src/github/client.js'
import { cloneEmulated, runGit } from '../support/github-emulator/git-client.js'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function emulator(
  options: Partial<Parameters<typeof startGitHubEmulator>[0]> = {}
): Promise<GitHubEmulator> {
  const gh = await startGitHubEmulator({
    owner: 'acme',
    repo: 'shop',
    users: [{ login: 'phasegate-app[bot]', type: 'Bot' }, { login: 'alice' }, { login: 'bob' }],
    teams: { sre: ['alice'] },
    ...options
  })
  cleanup.push(() => gh.close())
  return gh
}

async function clone(gh: GitHubEmulator, login?: string): Promise<string> {
  const dir = await cloneEmulated(gh, login)
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A raw API call, so tests see exactly what GitHub would answer (no client-side retries). */
async function api(
  gh: GitHubEmulator,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {}
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- GitHub's JSON, asserted field by field
): Promise<{ status: number; headers: Headers; body: any }> {
  const token = options.token === undefined ? gh.token : options.token
  const response = await fetch(`${gh.apiUrl}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' })
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body)
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined
  }
}

async function pushBranch(gh: GitHubEmulator, branch: string, file: string, content: string) {
  const dir = await clone(gh)
  await runGit(dir, ['checkout', '-q', '-b', branch])
  writeFileSync(join(dir, file), content)
  await runGit(dir, ['add', file])
  await runGit(dir, ['commit', '-q', '-m', `change ${file}`])
  await runGit(dir, ['push', '-q', 'origin', branch], gh.gitAuthHeader())
  return (await runGit(dir, ['rev-parse', 'HEAD'])).stdout
}

describe('GitHub contract', () => {
  test('a request GitHub would reject is answered 500 with the violation and fails close()', async () => {
    const gh = await startGitHubEmulator({ owner: 'acme', repo: 'shop' })
    const answer = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 7, base: 'main' }
    })
    expect(answer.status).toBe(500)
    expect(answer.body.message).toMatch(/pulls\/create\) request: .*body\/title must be string/)
    await expect(gh.close()).rejects.toThrow(
      /contract violations:\n- POST \/repos\/acme\/shop\/pulls/
    )
  })

  test('a response that drifts from the published schema is caught', async () => {
    const gh = await startGitHubEmulator({
      owner: 'acme',
      repo: 'shop',
      users: [{ login: 'alice' }]
    })
    const head = gh.commitFiles('feature', { 'a.txt': 'a\n' }, 'a')
    const pull = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 'A', head: 'feature', base: 'main' }
    })
    expect(pull.status).toBe(201)
    gh.plantReview({ pull: pull.body.number, user: 'alice', commitId: head })
    // Corrupt the emulator's own state: GitHub's review ids are integers.
    Object.assign(gh.state.reviews[0]!, { id: 'review-1' })
    const answer = await api(gh, 'GET', `/repos/acme/shop/pulls/${pull.body.number}/reviews`)
    expect(answer.status).toBe(500)
    expect(answer.body.message).toMatch(/response 200\/0\/id must be integer/)
    await expect(gh.close()).rejects.toThrow(/pulls\/list-reviews\) response/)
  })

  test('an endpoint the emulator does not serve is a violation, not a silent 404', async () => {
    const gh = await startGitHubEmulator({ owner: 'acme', repo: 'shop' })
    const answer = await api(gh, 'GET', '/repos/acme/shop/releases')
    expect(answer.status).toBe(404)
    await expect(gh.close()).rejects.toThrow(
      /GET \/repos\/acme\/shop\/releases: no emulated operation/
    )
  })

  test('query parameters outside the operation are violations', async () => {
    const gh = await startGitHubEmulator({ owner: 'acme', repo: 'shop' })
    const answer = await api(gh, 'GET', '/repos/acme/shop/pulls?status=open')
    expect(answer.status).toBe(500)
    await expect(gh.close()).rejects.toThrow(/query parameter "status" is not in the contract/)
  })
})

describe('authentication', () => {
  test('unknown and missing tokens get 401; each known token acts as its user', async () => {
    const gh = await emulator()
    expect((await api(gh, 'GET', '/repos/acme/shop', { token: 'ghp_nope' })).body).toMatchObject({
      message: 'Bad credentials'
    })
    expect((await api(gh, 'GET', '/repos/acme/shop', { token: null })).status).toBe(401)
    const issue = await api(gh, 'POST', '/repos/acme/shop/issues', {
      body: { title: 'hello' },
      token: gh.tokenFor('phasegate-app[bot]')
    })
    expect(issue.body.user).toMatchObject({ login: 'phasegate-app[bot]', type: 'Bot' })
    expect((await api(gh, 'GET', '/users/alice')).body).toMatchObject({
      login: 'alice',
      type: 'User'
    })
  })
})

describe('git over smart HTTP and the API see one repository', () => {
  test('a pushed branch is a ref the API reads, and a merged PR is a real merge commit', async () => {
    const gh = await emulator()
    const head = await pushBranch(gh, 'phasegate/checkout/advance', 'state.yaml', 'phase: canary\n')
    expect(
      (await api(gh, 'GET', '/repos/acme/shop/git/ref/heads/phasegate/checkout/advance')).body
        .object.sha
    ).toBe(head)

    const pull = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 'Advance checkout', head: 'phasegate/checkout/advance', base: 'main' }
    })
    expect(pull.body).toMatchObject({ head: { sha: head }, mergeable: true, changed_files: 1 })
    const files = await api(gh, 'GET', `/repos/acme/shop/pulls/${pull.body.number}/files`)
    expect(files.body).toMatchObject([{ filename: 'state.yaml', status: 'added', additions: 1 }])

    const merged = await api(gh, 'PUT', `/repos/acme/shop/pulls/${pull.body.number}/merge`, {
      body: { sha: head },
      token: gh.tokenFor('alice')
    })
    expect(merged.body.merged).toBe(true)
    const dir = await clone(gh)
    const parents = (await runGit(dir, ['log', '-1', '--format=%P', 'origin/main'])).stdout.split(
      ' '
    )
    expect(parents).toHaveLength(2)
    expect(parents[1]).toBe(head)
    expect((await runGit(dir, ['show', 'origin/main:state.yaml'])).stdout).toBe('phase: canary')
    expect((await api(gh, 'GET', `/repos/acme/shop/pulls/${pull.body.number}`)).body).toMatchObject(
      {
        state: 'closed',
        merged: true,
        merge_commit_sha: merged.body.sha,
        merged_by: { login: 'alice' }
      }
    )
  })

  test('a squash merge is one commit on the default branch; a stale sha is refused with 409', async () => {
    const gh = await emulator()
    const head = gh.commitFiles('feature', { 'a.txt': 'a\n' }, 'a')
    const pull = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 'A', head: 'feature', base: 'main' }
    })
    const newer = gh.commitFiles('feature', { 'a.txt': 'b\n' }, 'b')
    const stale = await api(gh, 'PUT', `/repos/acme/shop/pulls/${pull.body.number}/merge`, {
      body: { sha: head }
    })
    expect(stale.status).toBe(409)
    const squashed = await api(gh, 'PUT', `/repos/acme/shop/pulls/${pull.body.number}/merge`, {
      body: { sha: newer, merge_method: 'squash' }
    })
    expect(squashed.status).toBe(200)
    expect(gh.git.git(['log', '-1', '--format=%P %s', 'main'])).toBe(
      `${gh.git.resolve('main~1')} A (#${pull.body.number})`
    )
    expect(gh.readFile('main', 'a.txt')).toBe('b\n')
  })

  test('a PR that conflicts with the default branch is unmergeable and merging it is refused', async () => {
    const gh = await emulator()
    gh.commitFiles('first', { 'state.yaml': 'phase: staging\n' }, 'first')
    gh.commitFiles('second', { 'state.yaml': 'phase: canary\n' }, 'second')
    const first = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: '1', head: 'first', base: 'main' }
    })
    const second = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: '2', head: 'second', base: 'main' }
    })
    expect(second.body.mergeable).toBe(true)
    await api(gh, 'PUT', `/repos/acme/shop/pulls/${first.body.number}/merge`)
    const stale = await api(gh, 'GET', `/repos/acme/shop/pulls/${second.body.number}`)
    expect(stale.body).toMatchObject({ mergeable: false, mergeable_state: 'dirty' })
    const refused = await api(gh, 'PUT', `/repos/acme/shop/pulls/${second.body.number}/merge`)
    expect(refused).toMatchObject({
      status: 405,
      body: { message: 'Pull Request is not mergeable' }
    })
    expect(gh.readFile('main', 'state.yaml')).toBe('phase: staging\n')
  })

  test("pushes move an open PR's head; deleting its branch closes it", async () => {
    const gh = await emulator()
    const dir = await clone(gh)
    const first = await pushBranch(gh, 'feature', 'a.txt', 'a\n')
    const pull = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 'A', head: 'feature', base: 'main' }
    })
    expect(pull.body.head.sha).toBe(first)
    await runGit(dir, ['fetch', '-q', 'origin', 'feature'], gh.gitAuthHeader())
    await runGit(dir, ['checkout', '-q', 'FETCH_HEAD'])
    await runGit(dir, ['commit', '-q', '--allow-empty', '-m', 'second'])
    await runGit(dir, ['push', '-q', 'origin', 'HEAD:feature'], gh.gitAuthHeader())
    const second = (await runGit(dir, ['rev-parse', 'HEAD'])).stdout
    expect((await api(gh, 'GET', `/repos/acme/shop/pulls/${pull.body.number}`)).body.head.sha).toBe(
      second
    )
    await runGit(dir, ['push', '-q', 'origin', ':feature'], gh.gitAuthHeader())
    expect((await api(gh, 'GET', `/repos/acme/shop/pulls/${pull.body.number}`)).body).toMatchObject(
      {
        state: 'closed',
        merged: false,
        head: { sha: second }
      }
    )
  })

  test("branch protection refuses direct pushes to the default branch with GitHub's words", async () => {
    const gh = await emulator({ protectDefaultBranch: true })
    const dir = await clone(gh)
    writeFileSync(join(dir, 'state.yaml'), 'phase: staging\n')
    await runGit(dir, ['add', 'state.yaml'])
    await runGit(dir, ['commit', '-q', '-m', 'direct change'])
    const refused = runGit(dir, ['push', 'origin', 'HEAD:main'], gh.gitAuthHeader())
    await expect(refused).rejects.toThrow(
      /GH006: Protected branch update failed for refs\/heads\/main/
    )
    await expect(refused).rejects.toThrow(/Changes must be made through a pull request/)
    await runGit(dir, ['push', '-q', 'origin', 'HEAD:refs/heads/rollback'], gh.gitAuthHeader())
    expect(gh.git.branchSha('rollback')).toBe((await runGit(dir, ['rev-parse', 'HEAD'])).stdout)
    const update = await api(gh, 'PATCH', '/repos/acme/shop/git/refs/heads/main', {
      body: { sha: gh.git.branchSha('rollback'), force: false }
    })
    expect(update.status).toBe(422)

    gh.setBranchProtection(false)
    await runGit(dir, ['push', '-q', 'origin', 'HEAD:main'], gh.gitAuthHeader())
    expect(gh.readFile('main', 'state.yaml')).toBe('phase: staging\n')
  })

  test('git without credentials is refused instead of prompting', async () => {
    const gh = await emulator()
    const dir = await clone(gh)
    await expect(runGit(dir, ['ls-remote', gh.gitUrl])).rejects.toThrow(
      /Authentication failed|could not read Username|terminal prompts disabled/
    )
  })

  test('every PR head is served at refs/pull/N/head; a fork PR has its head only there', async () => {
    const gh = await emulator({ users: [{ login: 'alice' }, { login: 'mallory' }] })
    const sha = await pushBranch(gh, 'feature', 'a.txt', 'a\n')
    const created = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 'same repository', head: 'feature', base: 'main' }
    })
    expect(gh.git.resolve(`refs/pull/${created.body.number}/head`)).toBe(sha)
    const forked = await pushBranch(gh, 'from-fork', 'b.txt', 'b\n')
    gh.git.deleteRef('refs/heads/from-fork')
    const number = gh.openForkPullRequest({ user: 'mallory', branch: 'main', sha: forked })
    const pull = await api(gh, 'GET', `/repos/acme/shop/pulls/${number}`)
    expect(pull.status).toBe(200)
    expect(pull.body.state).toBe('open')
    expect(pull.body.head).toMatchObject({
      label: 'mallory:main',
      ref: 'main',
      sha: forked,
      repo: { full_name: 'mallory/shop', fork: true }
    })
    const dir = await clone(gh)
    await runGit(
      dir,
      ['fetch', '-q', 'origin', `refs/pull/${number}/head:refs/remotes/pr`],
      gh.gitAuthHeader()
    )
    expect((await runGit(dir, ['rev-parse', 'refs/remotes/pr'])).stdout).toBe(forked)
  })

  test('a push that lost a race is rejected as non-fast-forward', async () => {
    const gh = await emulator()
    const dir = await clone(gh)
    gh.commitFiles('main', { 'other.txt': 'someone else\n' }, 'concurrent change')
    writeFileSync(join(dir, 'mine.txt'), 'mine\n')
    await runGit(dir, ['add', 'mine.txt'])
    await runGit(dir, ['commit', '-q', '-m', 'mine'])
    await expect(runGit(dir, ['push', 'origin', 'main'], gh.gitAuthHeader())).rejects.toThrow(
      /rejected|fetch first/
    )
  })
})

describe('pull requests', () => {
  test("a second PR for the same head is refused with GitHub's 422 message", async () => {
    const gh = await emulator()
    gh.commitFiles('phasegate/checkout/advance', { 'a.txt': 'a\n' }, 'a')
    const body = { title: 'A', head: 'phasegate/checkout/advance', base: 'main' }
    expect((await api(gh, 'POST', '/repos/acme/shop/pulls', { body })).status).toBe(201)
    const again = await api(gh, 'POST', '/repos/acme/shop/pulls', { body })
    expect(again.status).toBe(422)
    expect(again.body.errors[0].message).toBe(
      'A pull request already exists for acme:phasegate/checkout/advance.'
    )
  })

  test('list filters by head, base and state; a head without "owner:" is ignored like GitHub does', async () => {
    const gh = await emulator()
    gh.commitFiles('one', { 'a.txt': 'a\n' }, 'a')
    gh.commitFiles('two', { 'b.txt': 'b\n' }, 'b')
    const one = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: '1', head: 'one', base: 'main' }
    })
    await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: '2', head: 'two', base: 'main' }
    })
    await api(gh, 'PATCH', `/repos/acme/shop/pulls/${one.body.number}`, {
      body: { state: 'closed' }
    })
    const titles = async (query: string) =>
      (await api(gh, 'GET', `/repos/acme/shop/pulls?${query}`)).body.map(
        (p: { title: string }) => p.title
      )
    expect(await titles('head=acme:one')).toEqual([])
    expect(await titles('head=acme:one&state=closed')).toEqual(['1'])
    expect(await titles('head=acme:two&base=main')).toEqual(['2'])
    expect(await titles('head=acme:two&base=other')).toEqual([])
    expect(await titles('head=one&state=all')).toEqual(['2', '1'])
  })

  test('reviews: commit_id defaults to the head, the author cannot approve, bots are "Bot"', async () => {
    const gh = await emulator()
    const head = gh.commitFiles('feature', { 'a.txt': 'a\n' }, 'a')
    const pull = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 'A', head: 'feature', base: 'main' },
      token: gh.tokenFor('bob')
    })
    const path = `/repos/acme/shop/pulls/${pull.body.number}/reviews`
    const own = await api(gh, 'POST', path, {
      body: { event: 'APPROVE' },
      token: gh.tokenFor('bob')
    })
    expect(own.status).toBe(422)
    expect(own.body.errors).toEqual(['Can not approve your own pull request'])
    const approval = await api(gh, 'POST', path, {
      body: { event: 'APPROVE' },
      token: gh.tokenFor('alice')
    })
    expect(approval.body).toMatchObject({
      state: 'APPROVED',
      commit_id: head,
      user: { login: 'alice' }
    })
    await api(gh, 'POST', path, {
      body: { event: 'APPROVE' },
      token: gh.tokenFor('phasegate-app[bot]')
    })
    const reviews = (await api(gh, 'GET', path)).body
    expect(
      reviews.map(
        (r: { user: { login: string; type: string } }) => `${r.user.login}:${r.user.type}`
      )
    ).toEqual(['alice:User', 'phasegate-app[bot]:Bot'])
  })
})

describe('pagination', () => {
  test("list operations page with GitHub's Link header, which octokit follows", async () => {
    const gh = await emulator()
    for (const title of ['a', 'b', 'c', 'd', 'e']) {
      await api(gh, 'POST', '/repos/acme/shop/issues', { body: { title } })
    }
    const page = await api(gh, 'GET', '/repos/acme/shop/issues?per_page=2&page=2')
    expect(page.body.map((issue: { title: string }) => issue.title)).toEqual(['c', 'b'])
    expect(page.headers.get('link')).toBe(
      [
        `<${gh.apiUrl}/repos/acme/shop/issues?per_page=2&page=3>; rel="next"`,
        `<${gh.apiUrl}/repos/acme/shop/issues?per_page=2&page=3>; rel="last"`,
        `<${gh.apiUrl}/repos/acme/shop/issues?per_page=2&page=1>; rel="first"`,
        `<${gh.apiUrl}/repos/acme/shop/issues?per_page=2&page=1>; rel="prev"`
      ].join(', ')
    )
    const client = createGitHubClient({ token: gh.token, baseUrl: gh.apiUrl })
    const all = await client.paginate(client.rest.issues.listForRepo, {
      owner: 'acme',
      repo: 'shop',
      per_page: 2
    })
    expect(all.map(issue => issue.title)).toEqual(['e', 'd', 'c', 'b', 'a'])
  })
})

describe('statuses, checks, workflow runs, teams', () => {
  test("the combined status takes each context's latest state", async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    const post = (state: string, context: string) =>
      api(gh, 'POST', `/repos/acme/shop/statuses/${sha}`, { body: { state, context } })
    await post('failure', 'phasegate/policy')
    await post('success', 'ci')
    expect((await api(gh, 'GET', '/repos/acme/shop/commits/main/status')).body).toMatchObject({
      state: 'failure',
      total_count: 2
    })
    await post('success', 'phasegate/policy')
    expect((await api(gh, 'GET', `/repos/acme/shop/commits/${sha}/status`)).body.state).toBe(
      'success'
    )
    expect(
      (
        await api(gh, 'POST', `/repos/acme/shop/statuses/${'0'.repeat(40)}`, {
          body: { state: 'success' }
        })
      ).status
    ).toBe(422)
  })

  test('check runs filter to the latest per name; workflow runs filter by head_sha', async () => {
    const gh = await emulator()
    const sha = gh.git.branchSha('main')!
    await api(gh, 'POST', '/repos/acme/shop/check-runs', {
      body: { name: 'e2e', head_sha: sha, conclusion: 'failure' }
    })
    await api(gh, 'POST', '/repos/acme/shop/check-runs', {
      body: { name: 'e2e', head_sha: sha, conclusion: 'success' }
    })
    const latest = (await api(gh, 'GET', `/repos/acme/shop/commits/${sha}/check-runs`)).body
    expect(latest.check_runs.map((c: { conclusion: string }) => c.conclusion)).toEqual(['success'])
    const all = (await api(gh, 'GET', `/repos/acme/shop/commits/${sha}/check-runs?filter=all`)).body
    expect(all.total_count).toBe(2)
    gh.addWorkflowRun({ name: 'Load test', headSha: sha, conclusion: null })
    gh.addWorkflowRun({ name: 'Load test', headSha: 'f'.repeat(40) })
    const runs = (await api(gh, 'GET', `/repos/acme/shop/actions/runs?head_sha=${sha}`)).body
    expect(runs.workflow_runs).toMatchObject([
      { name: 'Load test', status: 'in_progress', conclusion: null }
    ])
  })

  test('team membership answers 200 for members and 404 otherwise', async () => {
    const gh = await emulator()
    expect((await api(gh, 'GET', '/orgs/acme/teams/sre/memberships/alice')).body).toMatchObject({
      state: 'active'
    })
    expect((await api(gh, 'GET', '/orgs/acme/teams/sre/memberships/bob')).status).toBe(404)
    expect(
      (await api(gh, 'GET', '/repos/acme/shop/collaborators/acme/permission')).body.permission
    ).toBe('admin')
  })
})

describe('fault injection', () => {
  test('faults hit matching requests the given number of times, then the API answers again', async () => {
    const gh = await emulator()
    gh.inject({ method: 'GET', path: /^\/repos\/acme\/shop$/, status: 502, times: 2 })
    expect((await api(gh, 'GET', '/repos/acme/shop')).status).toBe(502)
    expect((await api(gh, 'GET', '/repos/acme/shop')).status).toBe(502)
    expect((await api(gh, 'GET', '/repos/acme/shop')).status).toBe(200)
  })

  test("403 and 429 carry GitHub's secondary rate limit message and retry-after", async () => {
    const gh = await emulator()
    gh.inject({ path: /\/issues$/, status: 429, retryAfter: 1 })
    gh.inject({ path: /\/issues$/, status: 403, retryAfter: 0 })
    const first = await api(gh, 'GET', '/repos/acme/shop/issues')
    expect(first.status).toBe(429)
    expect(first.headers.get('retry-after')).toBe('1')
    expect(first.body.message).toMatch(/secondary rate limit/)
    const second = await api(gh, 'GET', '/repos/acme/shop/issues')
    expect(second.status).toBe(403)
    expect(second.headers.get('retry-after')).toBe('0')
  })

  test('an "after handling" fault loses the answer but keeps the effect', async () => {
    const gh = await emulator()
    gh.commitFiles('feature', { 'a.txt': 'a\n' }, 'a')
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 502, afterHandling: true })
    const body = { title: 'A', head: 'feature', base: 'main' }
    expect((await api(gh, 'POST', '/repos/acme/shop/pulls', { body })).status).toBe(502)
    expect(gh.state.pulls()).toHaveLength(1)
  })

  test('an injected 422 has the "already exists" shape', async () => {
    const gh = await emulator()
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 422 })
    const answer = await api(gh, 'POST', '/repos/acme/shop/pulls', {
      body: { title: 'A', head: 'acme:feature', base: 'main' }
    })
    expect(answer.body.errors[0].message).toBe('A pull request already exists for acme:feature.')
  })
})
