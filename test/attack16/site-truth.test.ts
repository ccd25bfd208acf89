// attack16: what the index says at a glance against what is known: open alert issues on GitHub,
// a hand edit of a state file, and an --out that is the repository itself.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { dashboard } from '../../src/commands/dashboard.js'
import { init } from '../../src/commands/init.js'
import { createGitHubClient } from '../../src/github/client.js'
import { raiseAlertIssue } from '../../src/github/issues.js'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'
import { at } from '../support/policies.js'
import { cli, sh, tempRepo } from '../support/repo.js'

const repo = { owner: 'acme', repo: 'shop' }
const BOT = 'phasegate-app[bot]'
const FEATURE = 'production_deployment'
const open: GitHubEmulator[] = []
afterEach(async () => {
  for (const gh of open.splice(0)) await gh.close()
})

const row = (index: string, feature: string) =>
  new RegExp(`<tr data-feature="${feature}">.*?</tr>`, 's').exec(index)?.[0] ?? ''

describe('attack16: the index at a glance', () => {
  it('an open critical alert issue is counted in "Open alerts" and not shown as healthy', async () => {
    const gh = await startGitHubEmulator({ ...repo, users: [{ login: BOT, type: 'Bot' }] })
    open.push(gh)
    const client = createGitHubClient({
      token: gh.tokenFor(BOT),
      baseUrl: gh.apiUrl,
      writeIntervalMs: 0
    })
    await raiseAlertIssue(
      client,
      repo,
      { feature: FEATURE, alert: 'error_rate' },
      { severity: 'critical', body: 'error_rate is critical' }
    )
    const dir = tempRepo()
    await init({ cwd: dir, policies: [], now: at(0) })
    const { files } = await dashboard({
      cwd: dir,
      policies: [],
      out: join(dir, '..', `${dir.split('/').pop()}-site`),
      now: at(1),
      env: {
        GITHUB_TOKEN: gh.tokenFor(BOT),
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_API_URL: gh.apiUrl
      }
    })
    const page = readFileSync(join(files.dir, 'features', `${FEATURE}.html`), 'utf8')
    expect(page).toContain('Open alert issues') // the feature page lists it
    const cells = row(readFileSync(files.index, 'utf8'), FEATURE)
    // No metrics here: the one thing known about alerts is the open critical issue.
    expect(/data-cell="alerts" class="num">(.*?)<\/td>/.exec(cells)?.[1]).not.toBe('0')
    expect(cells).not.toMatch(/badge healthy/)
  })

  it('a hand edit of the state file (no transition) is flagged on the dashboard as status flags it', async () => {
    const policy = [
      'feature: f',
      'deployment:',
      '  order: [a, b, c]',
      '  phases:',
      '    a: {user_percentage: 10}',
      '    b: {user_percentage: 50}',
      '    c: {user_percentage: 100}',
      ''
    ].join('\n')
    const dir = tempRepo({ 'policies/f.yaml': policy })
    expect((await cli(dir, 'init', '--now', at(0).toISOString())).code).toBe(0)
    const file = join(dir, '.phasegate', 'state', 'f.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('phase: a', 'phase: c'))
    sh(dir, 'git', 'commit', '-qam', 'go to 100% by hand')
    const status = await cli(dir, 'status', '--now', at(2).toISOString())
    expect(status.out).toMatch(/DATAFILE STALE/) // status says what users really get
    const site = join(dir, 'site')
    expect((await cli(dir, 'dashboard', '--out', site, '--now', at(2).toISOString())).code).toBe(0)
    const index = readFileSync(join(site, 'index.html'), 'utf8')
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    // The index shows phase c, 100% and "healthy", with "init a" as the last transition.
    expect(page).toMatch(/datafile/i)
    expect(row(index, 'f')).not.toMatch(/badge healthy/)
  })

  it('--out naming the repository root does not overwrite the repository’s own index.html', async () => {
    const dir = tempRepo()
    writeFileSync(join(dir, 'index.html'), '<h1>our product page</h1>\n')
    sh(dir, 'git', 'add', 'index.html')
    sh(dir, 'git', 'commit', '-qm', 'product page')
    await init({ cwd: dir, policies: [], now: at(0) })
    const run = await cli(dir, 'dashboard', '--out', '.', '--now', at(1).toISOString()).catch(
      (e: unknown) => ({ code: -1, out: '', err: String(e) })
    )
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe('<h1>our product page</h1>\n')
    expect(run.code).not.toBe(0)
  })
  it('a lost rollout (state file deleted, history kept) is shown as lost, not as a kill switch turned off', async () => {
    const dir = tempRepo()
    await init({ cwd: dir, policies: [], now: at(0) })
    sh(dir, 'git', 'rm', '-q', `.phasegate/state/${FEATURE}.yaml`)
    sh(dir, 'git', 'commit', '-qm', 'tidy up')
    const status = await cli(dir, 'status', '--now', at(1).toISOString())
    expect(status.out + status.err).toMatch(/STATE FILE LOST/)
    const site = join(dir, 'site')
    await cli(dir, 'dashboard', '--out', site, '--now', at(1).toISOString())
    const cells = row(readFileSync(join(site, 'index.html'), 'utf8'), FEATURE)
    expect(cells).toMatch(/lost|missing/i)
  })
})
