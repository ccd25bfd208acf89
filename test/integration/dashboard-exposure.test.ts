// The dashboard answers "what does this feature expose" as every other surface does
// (exposureInForce): a phase switched off by the policy exposes nobody, and a raise by a policy
// edit that waits for a freeze window shows the exposure in force, not the raised one. The audit
// trail (timeline, its table, the CSV) gives each past transition the share its commit recorded
// in the datafile, never today's policy's figure, and "unknown" where nothing recorded it.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, sh, tempRepo } from '../support/repo.js'

const FROZEN = [
  'feature: f',
  'deployment:',
  '  freeze:',
  '    time_zone: UTC',
  '    windows:',
  '      - dates: { from: 2026-02-25, to: 2026-03-10 }',
  '  order: [a, b]',
  '  phases:',
  '    a: {user_percentage: 1}',
  '    b: {user_percentage: 100}',
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

/** The index row's users cell and the feature page's "Users exposed" value. */
function shown(site: string): { index: string; page: string } {
  const index = readFileSync(join(site, 'index.html'), 'utf8')
  const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
  return {
    index: /data-cell="users"[^>]*>([^<]*)</.exec(index)![1]!,
    page: /Users exposed<\/dt>\s*<dd[^>]*>([^<]*)</.exec(page)?.[1] ?? page
  }
}

describe('the dashboard shows the exposure in force', () => {
  it('a raise waiting for a freeze window shows 1%, not the policy edit’s 100%', async () => {
    const dir = tempRepo({ 'policies/f.yaml': FROZEN })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    writeFileSync(
      join(dir, 'policies/f.yaml'),
      FROZEN.replace('user_percentage: 1}', 'user_percentage: 100}')
    )
    sh(dir, 'git', 'commit', '-q', '-am', 'policy edit')
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(1))
    expect(built.code, built.err).toBe(0)
    expect(shown(site)).toEqual({ index: '1%', page: '1%' })
  })

  it('a phase the policy switches off exposes nobody', async () => {
    const dir = tempRepo({
      'policies/f.yaml': FROZEN.replace(
        'a: {user_percentage: 1}',
        'a: {user_percentage: 40, enabled: false}'
      ).replace(/ {2}freeze:\n(.*\n){3}/, '')
    })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(1))
    expect(built.code, built.err).toBe(0)
    expect(shown(site)).toEqual({ index: '0%', page: '0%' })
  })
})

const LADDER = [
  'feature: f',
  'deployment:',
  '  order: [a, b, c]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 50}',
  '    c: {user_percentage: 100}',
  ''
].join('\n')

/** Raises phase a's user_percentage from 10 to 30 in a plain commit (a policy edit, no transition). */
function raiseA(dir: string): void {
  const file = join(dir, 'policies', 'f.yaml')
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace('a: {user_percentage: 10}', 'a: {user_percentage: 30}')
  )
  sh(dir, 'git', 'commit', '-qam', 'raise a to 30%')
}

async function built(
  dir: string,
  ...extra: string[]
): Promise<{ page: string; csv: string; index: string }> {
  const site = join(dir, 'site')
  const result = await cli(dir, 'dashboard', '--out', site, '--now', T(3), ...extra)
  expect(result.code, result.err).toBe(0)
  return {
    page: readFileSync(join(site, 'features', 'f.html'), 'utf8'),
    csv: readFileSync(join(site, 'features', 'f.history.csv'), 'utf8'),
    index: readFileSync(join(site, 'index.html'), 'utf8')
  }
}

/** The CSV's users_percent per transition kind, oldest first. */
const csvPercents = (csv: string) =>
  csv
    .trim()
    .split('\n')
    .slice(1)
    .map(line => line.split(','))
    .map(cells => `${cells[1]} ${cells[4]}`)

/** The timeline chart's data as the page carries it. */
function timelineData(page: string): { percent: Array<number | null> } {
  const json = /<script[^>]*id="phasegate-charts">(.*?)<\/script>/s.exec(page)?.[1]
  const charts = JSON.parse(json ?? '[]') as Array<{ type: string; percent?: number[] }>
  return charts.find(c => c.type === 'timeline') as { percent: Array<number | null> }
}

describe('the audit trail shows the exposure of its time', () => {
  it('during a held raise (paused), the timeline ends at the percentage in force, as the tiles do', async () => {
    const dir = tempRepo({ 'policies/f.yaml': LADDER })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    const paused = await cli(dir, 'pause', '--reason', 'hold', '--now', T(1))
    expect(paused.code, paused.err).toBe(0)
    raiseA(dir)
    const { page, index } = await built(dir)
    expect(/data-cell="users" class="num">(.*?)</.exec(index)?.[1]).toBe('10%')
    expect(page).toMatch(/data-stat="rollout_percentage"><dt>[^<]*<\/dt><dd>10%<\/dd>/)
    const summary = /<p class="summary">(\d+ transitions:[^<]*)<\/p>/.exec(page)?.[1] ?? ''
    expect(summary).toMatch(/now in a at 10% of users/)
    expect(timelineData(page).percent).toEqual([10, 10, 10])
  })

  it("a past transition's users_percent is what its commit recorded, not today's policy (cached or not)", async () => {
    const dir = tempRepo({ 'policies/f.yaml': LADDER })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    raiseA(dir) // the init at T0 exposed 10%; today's policy says 30% for a
    const paused = await cli(dir, 'pause', '--reason', 'hold', '--now', T(2))
    expect(paused.code, paused.err).toBe(0)
    // What the pause's commit put in force, as applications read it.
    const recorded = (
      JSON.parse(sh(dir, 'git', 'show', 'HEAD:.phasegate/state/f.datafile.json')) as {
        user_percentage: number
      }
    ).user_percentage
    const expected = ['init 10', `pause ${recorded}`]
    const plain = await built(dir, '--no-history-cache')
    expect(csvPercents(plain.csv)).toEqual(expected)
    expect(plain.page).toMatch(/<td>init<\/td><td>[^]*?<\/td><td class="num">10%<\/td>/)
    // The history cache holds the recorded share too: a first and a second cached build agree.
    expect(csvPercents((await built(dir)).csv)).toEqual(expected)
    expect(csvPercents((await built(dir)).csv)).toEqual(expected)
  })

  it('a datafile refresh between two transitions (a policy edit landing) is a step of its own on the line', async () => {
    const dir = tempRepo({ 'policies/f.yaml': LADDER })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    raiseA(dir)
    const tick = await cli(dir, 'tick', '--now', T(2))
    expect(tick.out).toMatch(/refreshed .phasegate\/state\/f.datafile.json/)
    for (const extra of [['--no-history-cache'], []]) {
      const { page, csv } = await built(dir, ...extra)
      // 10% from the init on, 30% from the refresh at T2 (no transition, no marker), 30% now.
      expect(timelineData(page).percent).toEqual([10, 30, 30])
      expect(csvPercents(csv)).toEqual(['init 10'])
    }
  })

  it('a transition whose commit recorded no datafile shows its share as unknown, not a guess', async () => {
    const dir = tempRepo({ 'policies/f.yaml': LADDER })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    // A history from before datafiles: the init commit carries the state file alone.
    sh(dir, 'git', 'rm', '-q', '--cached', '.phasegate/state/f.datafile.json')
    execFileSync('git', ['commit', '-q', '--amend', '--no-edit'], {
      cwd: dir,
      env: { ...process.env, GIT_COMMITTER_DATE: T(0) }
    })
    const { csv, page } = await built(dir, '--no-history-cache')
    expect(csvPercents(csv)).toEqual(['init '])
    expect(page).toMatch(/<td>init<\/td><td>[^]*?<\/td><td class="num">unknown<\/td>/)
    // No point on the chart's users line for that step; the present is known (10%).
    expect(timelineData(page).percent).toEqual([null, 10])
  })
})
