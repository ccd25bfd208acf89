// attack16: the numbers on a feature's page must be the ones in force, now and in the past.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

const POLICY = [
  'feature: f',
  'deployment:',
  '  order: [a, b, c]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 50}',
  '    c: {user_percentage: 100}',
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

async function startedAtA(): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': POLICY })
  const init = await cli(dir, 'init', '--now', T(0))
  expect(init.code, init.err).toBe(0)
  return dir
}

/** Raises phase a's user_percentage from 10 to 30 in a plain commit (a policy edit, no transition). */
function raiseA(dir: string): void {
  const file = join(dir, 'policies', 'f.yaml')
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace('a: {user_percentage: 10}', 'a: {user_percentage: 30}')
  )
  sh(dir, 'git', 'commit', '-qam', 'raise a to 30%')
}

async function build(dir: string): Promise<{ page: string; csv: string; index: string }> {
  const site = join(dir, 'site')
  const built = await cli(dir, 'dashboard', '--out', site, '--now', T(3))
  expect(built.code, built.err).toBe(0)
  return {
    page: readFileSync(join(site, 'features', 'f.html'), 'utf8'),
    csv: readFileSync(join(site, 'features', 'f.history.csv'), 'utf8'),
    index: readFileSync(join(site, 'index.html'), 'utf8')
  }
}

describe('attack16: percentages in force', () => {
  it('during a held raise (paused), the timeline says the percentage in force, as the tiles do', async () => {
    const dir = await startedAtA()
    const paused = await cli(dir, 'pause', '--reason', 'hold', '--now', T(1))
    expect(paused.code, paused.err).toBe(0)
    raiseA(dir)
    const { page, index } = await build(dir)
    // The tiles and the index agree: 10% is in force while the raise waits.
    expect(/data-cell="users" class="num">(.*?)</.exec(index)?.[1]).toBe('10%')
    expect(page).toMatch(/data-stat="rollout_percentage"><dt>[^<]*<\/dt><dd>10%<\/dd>/)
    // The timeline's text alternative must not say otherwise.
    const summary = /<p class="summary">(\d+ transitions:[^<]*)<\/p>/.exec(page)?.[1] ?? ''
    expect(summary).toMatch(/now in a at 10% of users/)
  })

  it("the audit trail's users_percent of a past transition is what was in force then, not today's policy", async () => {
    const dir = await startedAtA()
    raiseA(dir) // at a later commit; the init at T0 exposed 10%
    const { csv } = await build(dir)
    const init = csv.split('\n').find(l => l.includes(',init,')) ?? ''
    expect(init.split(',')[4]).toBe('10')
  })
})

describe('attack16: units', () => {
  it('the overview states a response time in the unit the policy says the readings are in', async () => {
    const policy = [
      ...POLICY.trimEnd().split('\n'),
      'rollback:',
      '  automatic_triggers:',
      '    - response_time > 2s',
      'metrics:',
      '  definitions:',
      '    response_time: {unit: s}',
      ''
    ].join('\n')
    const dir = tempRepo({ 'policies/f.yaml': policy })
    const init = await cli(dir, 'init', '--now', T(0))
    expect(init.code, init.err).toBe(0)
    writeMetrics(dir, { response_time: 0.87 }, 'f') // seconds, as the definition says
    const { page } = await build(dir)
    const tile = /data-stat="response_time"><dt>[^<]*<\/dt><dd>(.*?)<\/dd>/.exec(page)?.[1]
    // 0.87 s is 870 ms; the tile must not call it 0.87 ms.
    expect(tile).toMatch(/^(0\.87 s|870 ms)$/)
  })
})
