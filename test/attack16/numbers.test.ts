// attack16: the numbers on a feature's page must be the ones in force, now and in the past.
import { readFileSync } from 'node:fs'
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
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

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
