// Issue 16: the dashboard built in the action (a token and a repository in the environment)
// lists each feature's open alert issues from GitHub, found in one listing by their labels; a
// listing that fails is said on the page and the rest of the site builds.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { dashboard } from '../../src/commands/dashboard.js'
import { init } from '../../src/commands/init.js'
import { createGitHubClient } from '../../src/github/client.js'
import { raiseAlertIssue, resolveAlertIssue } from '../../src/github/issues.js'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'
import { at } from '../support/policies.js'
import { tempRepo } from '../support/repo.js'

const repo = { owner: 'acme', repo: 'shop' }
const BOT = 'phasegate-app[bot]'
const FEATURE = 'production_deployment'

const open: GitHubEmulator[] = []
afterEach(async () => {
  for (const gh of open.splice(0)) await gh.close()
})

test('each feature page lists its open alert issues, linked, with alert and severity', async () => {
  const gh = await startGitHubEmulator({ ...repo, users: [{ login: BOT, type: 'Bot' }] })
  open.push(gh)
  const client = createGitHubClient({
    token: gh.tokenFor(BOT),
    baseUrl: gh.apiUrl,
    writeIntervalMs: 0
  })
  const raised = await raiseAlertIssue(
    client,
    repo,
    { feature: FEATURE, alert: 'error_rate' },
    { severity: 'critical', body: 'error_rate is critical' }
  )
  const other = await raiseAlertIssue(
    client,
    repo,
    { feature: 'elsewhere', alert: 'latency' },
    { severity: 'high', body: 'latency' }
  )
  await raiseAlertIssue(
    client,
    repo,
    { feature: FEATURE, alert: 'latency' },
    { severity: 'high', body: 'x' }
  )
  await resolveAlertIssue(client, repo, { feature: FEATURE, alert: 'latency' }, 'recovered')

  const dir = tempRepo()
  await init({ cwd: dir, policies: [], now: at(0) })
  const before = gh.requestCount()
  const { model, files } = await dashboard({
    cwd: dir,
    policies: [],
    out: join(dir, 'site'),
    now: at(1),
    env: {
      GITHUB_TOKEN: gh.tokenFor(BOT),
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_API_URL: gh.apiUrl
    }
  })
  // One listing for the whole site, whatever the number of features.
  expect(gh.requestCount() - before).toBe(1)
  const [feature] = model.features
  expect(feature!.issues!.map(i => [i.number, i.alert, i.severity])).toEqual([
    [raised.number, 'error_rate', 'critical']
  ])
  expect(feature!.issues![0]!.url).toMatch(new RegExp(`/acme/shop/issues/${raised.number}$`))
  const page = readFileSync(join(files.dir, 'features', `${FEATURE}.html`), 'utf8')
  expect(page).toContain('Open alert issues')
  expect(page).toContain(`>#${raised.number}</a>`)
  expect(page).not.toContain(`>#${other.number}</a>`)
})

test('a listing that fails is said on the page; the site still builds', async () => {
  const dir = tempRepo()
  await init({ cwd: dir, policies: [], now: at(0) })
  const { model, files } = await dashboard({
    cwd: dir,
    policies: [],
    out: join(dir, 'site'),
    now: at(1),
    env: { GITHUB_TOKEN: 'x', GITHUB_REPOSITORY: 'acme/shop', GITHUB_API_URL: 'http://127.0.0.1:9' }
  })
  expect(model.failures).toEqual([])
  expect(model.issuesError).toMatch(/^the open alert issues could not be listed/)
  const page = readFileSync(join(files.dir, 'features', `${FEATURE}.html`), 'utf8')
  expect(page).toContain('the open alert issues could not be listed')
})

test('without a token the site has no issues section and asks nothing', async () => {
  const dir = tempRepo()
  await init({ cwd: dir, policies: [], now: at(0) })
  const { model, files } = await dashboard({
    cwd: dir,
    policies: [],
    out: join(dir, 'site'),
    now: at(1),
    env: { GITHUB_REPOSITORY: 'acme/shop' }
  })
  expect(model.features[0]!.issues).toBeUndefined()
  expect(readFileSync(join(files.dir, 'features', `${FEATURE}.html`), 'utf8')).not.toContain(
    'alert issues'
  )
})
