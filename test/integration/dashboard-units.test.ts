// Issue 16: numbers on the dashboard are said in the unit the policy says the readings are in
// (metrics.definitions.<metric>.unit, else what the metric's name implies), never a fixed one.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'

const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()
const policy = (definitions: string[]) =>
  [
    'feature: f',
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    '    a: {user_percentage: 10}',
    '    b: {user_percentage: 100}',
    'rollback:',
    '  automatic_triggers:',
    '    - response_time > 2s',
    ...(definitions.length ? ['metrics:', '  definitions:', ...definitions] : []),
    ''
  ].join('\n')

async function page(definitions: string[], readings: Record<string, unknown>): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': policy(definitions) })
  const init = await cli(dir, 'init', '--now', T(0))
  expect(init.code, init.err).toBe(0)
  writeMetrics(dir, readings, 'f')
  const site = join(dir, 'site')
  const built = await cli(dir, 'dashboard', '--out', site, '--now', T(1))
  expect(built.code, built.err).toBe(0)
  return readFileSync(join(site, 'features', 'f.html'), 'utf8')
}
const tile = (html: string) =>
  /data-stat="response_time"><dt>[^<]*<\/dt><dd>(.*?)<\/dd>/.exec(html)?.[1]
const current = (html: string, metric: string) =>
  new RegExp(
    `data-metric="${metric}"><h4>[^<]*</h4><p>Current: <strong data-cell="current">(.*?)</strong>`
  ).exec(html)?.[1]

it('the overview and the metric say a response time in the unit the policy declares', async () => {
  const html = await page(['    response_time: {unit: s}'], { response_time: 0.87 })
  expect(tile(html)).toBe('0.87 s') // was "0.87 ms"
  expect(current(html, 'response_time')).toBe('0.87 s')
})

it('without a declared unit, a response time is in ms (what its name implies)', async () => {
  const html = await page([], { response_time: 870 })
  expect(tile(html)).toBe('870 ms')
  expect(current(html, 'response_time')).toBe('870 ms')
})
