// attack16: the dashboard's index must not lie to an on-call engineer, and the command must give a
// new user a clear error. Each test shows one defect on 688439c (see /work/notes/attack16.md).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'

const POLICY = [
  'feature: f',
  'deployment:',
  '  order: [a, b, c]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 50}',
  '    c: {user_percentage: 100}',
  'rollback:',
  '  automatic_triggers:',
  '    - error_rate > 0.02',
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

async function started(policy = POLICY): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': policy })
  expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
  return dir
}

function indexRow(site: string): string {
  const index = readFileSync(join(site, 'index.html'), 'utf8')
  return /<tr data-feature="f">.*?<\/tr>/s.exec(index)?.[0] ?? ''
}

describe('attack16: the index tells the truth', () => {
  it('no metrics at all is not shown as a healthy feature', async () => {
    const dir = await started()
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const health = /data-cell="health">(.*?)<\/td>/s.exec(indexRow(site))?.[1] ?? ''
    // Its only rollback trigger has no data: nothing watches this rollout.
    expect(health).not.toMatch(/class="badge healthy"/)
  })

  it('a paused rollout is visible on the index', async () => {
    const dir = await started()
    const paused = await cli(dir, 'pause', '--reason', 'incident 42', '--now', T(1))
    expect(paused.code, paused.err).toBe(0)
    const site = join(dir, 'site')
    expect((await cli(dir, 'dashboard', '--out', site, '--now', T(2))).code).toBe(0)
    const row = indexRow(site)
    // The last-transition cell may name the pause; the health must say it too, not "healthy".
    const health = /data-cell="health">(.*?)<\/td>/s.exec(row)?.[1] ?? ''
    expect(health).toMatch(/paused/i)
  })
})

describe('attack16: a new user gets a clear error', () => {
  it('dashboard without --out says --out is needed, exit 2-ish, no TypeError', async () => {
    const dir = await started()
    const run = await cli(dir, 'dashboard').catch((e: unknown) => ({
      code: -1,
      out: '',
      err: `threw ${String(e)}`
    }))
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/--out/)
    expect(run.err).not.toMatch(/TypeError|ERR_INVALID_ARG_TYPE|argument must be of type/)
  })

  it('--out naming an existing file is a clear error naming it', async () => {
    const dir = await started()
    writeFileSync(join(dir, 'site.txt'), 'not a directory\n')
    const run = await cli(dir, 'dashboard', '--out', 'site.txt', '--now', T(2)).catch(
      (e: unknown) => ({ code: -1, out: '', err: `threw ${String(e)}` })
    )
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/site\.txt/)
    expect(run.err).not.toMatch(/threw|ENOTDIR|EEXIST/)
  })
})

describe('attack16: a breached rollback trigger at a glance', () => {
  it('a rollback trigger breached (not yet sustained) is not shown as healthy on the index', async () => {
    const policy = POLICY.replace(
      '    - error_rate > 0.02',
      '    - {when: error_rate > 0.02, for: 30m}'
    )
    const dir = tempRepo({ 'policies/f.yaml': policy })
    const M = (m: number) => new Date(Date.UTC(2026, 2, 1, 0, m)).toISOString()
    expect((await cli(dir, 'init', '--now', M(0))).code).toBe(0)
    const points = [60, 70, 80, 90, 100, 110, 120].map(m => [M(m), m >= 110 ? 0.05 : 0.001])
    writeMetrics(dir, { error_rate: { value: 0.05, series: points } }, 'f')
    const site = join(dir, 'site')
    expect((await cli(dir, 'dashboard', '--out', site, '--now', M(120))).code).toBe(0)
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    expect(page).toContain('breached, not fired') // the feature page knows
    const health = /data-cell="health">(.*?)<\/td>/s.exec(indexRow(site))?.[1] ?? ''
    // error_rate is 2.5x the rollback threshold: at a glance this is not "healthy" green.
    expect(health).not.toMatch(/class="badge healthy"/)
  })
})
