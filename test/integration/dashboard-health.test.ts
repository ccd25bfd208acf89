// The dashboard's health at a glance says what `phasegate status` flags: missing data, a breached
// trigger, a pause, a lost state file, a stale datafile and open alert issues are never "healthy".
// On real git repositories; alert issues from the GitHub emulator. (attack16 findings 1, 2, 8, 9,
// 12, 13.)
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { recordEvaluations } from '../../src/action/liveness.js'
import { dashboard } from '../../src/commands/dashboard.js'
import { init } from '../../src/commands/init.js'
import { createGitHubClient } from '../../src/github/client.js'
import { raiseAlertIssue } from '../../src/github/issues.js'
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator/index.js'
import { at } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'
import { abcPolicy, hourOf } from '../support/rollouts.js'

const POLICY = abcPolicy('rollback:', '  automatic_triggers:', '    - error_rate > 0.02')
const T = hourOf

const open: GitHubEmulator[] = []
afterEach(async () => {
  for (const gh of open.splice(0)) await gh.close()
})

/** A repository with policies/f.yaml started at a, and an origin the heartbeat is pushed to. */
async function started(policy = POLICY, now = T(0)): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': policy })
  const origin = mkdtempSync(join(tmpdir(), 'phasegate-origin-'))
  sh(origin, 'git', 'init', '-q', '--bare')
  sh(dir, 'git', 'remote', 'add', 'origin', origin)
  expect((await cli(dir, 'init', '--now', now)).code).toBe(0)
  return dir
}

/** Records the action's evaluation of f at `when`, so the heartbeat is fresh at build time. */
async function evaluatedAt(dir: string, when: string, feature = 'f'): Promise<void> {
  const result = await recordEvaluations(
    dir,
    new Map([[feature, { evaluatedAt: when, outcome: 'hold' }]]),
    new Date(when)
  )
  expect(result.status).toBe('pushed')
}

function row(index: string, feature = 'f'): string {
  return new RegExp(`<tr data-feature="${feature}">.*?</tr>`, 's').exec(index)?.[0] ?? ''
}
const cell = (cells: string, name: string) =>
  new RegExp(`data-cell="${name}"[^>]*>(.*?)</td>`, 's').exec(cells)?.[1] ?? ''
/** The health badge's word (data-health) in a row or page. */
const badge = (html: string) => /class="badge [^"]*" data-health="([^"]+)"/.exec(html)?.[1]
/** The health flags listed, as [flag, text] pairs. */
const flags = (html: string) =>
  [...html.matchAll(/<li data-flag="([^"]+)">(.*?)<\/li>/gs)].map(m => [m[1]!, m[2]!] as const)

async function build(dir: string, now: string) {
  const site = join(dir, 'site')
  const built = await cli(dir, 'dashboard', '--out', site, '--now', now)
  expect(built.code, built.err).toBe(0)
  return {
    index: readFileSync(join(site, 'index.html'), 'utf8'),
    page: (feature = 'f') => readFileSync(join(site, 'features', `${feature}.html`), 'utf8')
  }
}

describe('dashboard health: missing data and danger are never "healthy"', () => {
  it('a rollback trigger with no data (no metrics at all) shows "no data", not healthy', async () => {
    const dir = await started()
    await evaluatedAt(dir, T(2))
    const site = await build(dir, T(2))
    const cells = row(site.index)
    expect(cells).not.toMatch(/class="badge healthy/)
    expect(badge(cell(cells, 'health'))).toBe('no-data')
    expect(flags(cells)).toContainEqual([
      'no-data',
      expect.stringContaining('rollback trigger error_rate &gt; 0.02: no data')
    ])
    // The feature page's header says the same.
    expect(badge(site.page())).toBe('no-data')
  })

  it('a rollback trigger breached but not yet sustained shows "breached", not healthy', async () => {
    const policy = POLICY.replace(
      '    - error_rate > 0.02',
      '    - {when: error_rate > 0.02, for: 30m}'
    )
    const M = (m: number) => new Date(Date.UTC(2026, 2, 1, 0, m)).toISOString()
    const dir = await started(policy, M(0))
    const points = [60, 70, 80, 90, 100, 110, 120].map(m => [M(m), m >= 110 ? 0.05 : 0.001])
    writeMetrics(dir, { error_rate: { value: 0.05, series: points } }, 'f')
    await evaluatedAt(dir, M(120))
    const site = await build(dir, M(120))
    expect(site.page()).toContain('breached, not fired')
    const cells = row(site.index)
    expect(badge(cell(cells, 'health'))).toBe('breached')
    expect(cell(cells, 'health')).toContain('level-warn')
    expect(flags(cells).map(f => f[0])).toContain('breached')
  })

  it('a paused rollout shows "paused" with who paused it and why', async () => {
    const dir = await started()
    writeMetrics(dir, { error_rate: 0.001 }, 'f')
    const paused = await cli(
      dir,
      'pause',
      '--reason',
      'incident 42',
      '--operator',
      'alice',
      '--now',
      T(1)
    )
    expect(paused.code, paused.err).toBe(0)
    await evaluatedAt(dir, T(2))
    const site = await build(dir, T(2))
    const cells = row(site.index)
    expect(badge(cell(cells, 'health'))).toBe('paused')
    const [, text] = flags(cells).find(f => f[0] === 'paused')!
    expect(text).toContain('incident 42')
    expect(text).toContain('alice')
    expect(text).toContain('2026-03-01 01:00 UTC')
  })

  it('a lost rollout (state file deleted, history kept) is shown as lost, not as a kill switch turned off', async () => {
    const dir = await started()
    sh(dir, 'git', 'rm', '-q', '.phasegate/state/f.yaml')
    sh(dir, 'git', 'commit', '-qm', 'tidy up')
    const status = await cli(dir, 'status', '--now', T(1))
    expect(status.out + status.err).toMatch(/STATE FILE LOST/)
    const site = await build(dir, T(1))
    const cells = row(site.index)
    expect(badge(cell(cells, 'health'))).toBe('lost')
    expect(cell(cells, 'health')).not.toContain('kill switch off')
    expect(cell(cells, 'kill-switch')).toContain('state file lost')
    // status's LOST line: what is missing and how to restore it.
    expect(flags(cells)[0]![1]).toContain('.phasegate/state/f.yaml')
    expect(flags(cells)[0]![1]).toContain('git checkout')
    const page = site.page()
    expect(/<p class="lede">(.*?)<\/p>/s.exec(page)?.[1]).not.toMatch(/kill switch|resume/)
    expect(/data-stat="kill_switch"><dt>[^<]*<\/dt><dd>(.*?)<\/dd>/.exec(page)?.[1]).toContain(
      'state file lost'
    )
  })

  it('a hand edit of the state file (no transition) is flagged as a stale datafile, as status flags it', async () => {
    const dir = await started(POLICY.split('rollback:')[0])
    const file = join(dir, '.phasegate', 'state', 'f.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('phase: a', 'phase: c'))
    sh(dir, 'git', 'commit', '-qam', 'go to 100% by hand')
    const status = await cli(dir, 'status', '--now', T(2))
    expect(status.out).toMatch(/DATAFILE STALE/)
    await evaluatedAt(dir, T(2))
    const site = await build(dir, T(2))
    const cells = row(site.index)
    expect(badge(cell(cells, 'health'))).toBe('datafile')
    expect(cell(cells, 'health')).toContain('level-bad')
    const [, text] = flags(site.page()).find(f => f[0] === 'datafile')!
    expect(text).toContain('.phasegate/state/f.datafile.json')
    expect(text).toContain('phasegate tick')
  })
})

describe('dashboard health: open alert issues on GitHub', () => {
  it('an open critical alert issue is counted in "Open alerts" and shown as a critical alert', async () => {
    const repo = { owner: 'acme', repo: 'shop' }
    const BOT = 'phasegate-app[bot]'
    const FEATURE = 'production_deployment'
    const gh = await startGitHubEmulator({ ...repo, users: [{ login: BOT, type: 'Bot' }] })
    open.push(gh)
    const client = createGitHubClient({
      token: gh.tokenFor(BOT),
      baseUrl: gh.apiUrl,
      writeIntervalMs: 0
    })
    const issue = await raiseAlertIssue(
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
    expect(page).toContain('Open alert issues')
    const cells = row(readFileSync(files.index, 'utf8'), FEATURE)
    // No metrics here: the one thing known about alerts is the open critical issue.
    expect(cell(cells, 'alerts')).toMatch(/^1 \(worst: critical\)/)
    expect(cells).not.toMatch(/class="badge healthy/)
    expect(badge(cell(cells, 'health'))).toBe('critical')
    expect(flags(cells)).toContainEqual([
      'critical',
      expect.stringContaining(`open alert issue #${issue.number} (error_rate), critical`)
    ])
  })
})
