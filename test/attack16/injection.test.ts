/// <reference lib="dom" />
// attack16: what a policy author writes must reach the dashboard's HTML as text. An alert rule's
// metric name (monitoring.alerts keys are free strings) goes unescaped into a chart's id="…".
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchBrowser } from '../support/browser.js'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'

const EVIL = 'm"><img src=x onerror="document.title=`pwned`">'
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

const POLICY = [
  'feature: f',
  'deployment:',
  '  order: [a, b]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 100}',
  'monitoring:',
  '  alerts:',
  `    ${JSON.stringify(EVIL)}: {warning: 1, critical: 2}`,
  'metrics:',
  '  definitions:',
  `    ${JSON.stringify(EVIL)}: {direction: higher_is_worse}`,
  ''
].join('\n')

let browser: Browser | undefined
afterAll(async () => {
  await browser?.close()
})

describe('attack16: injection through a metric name', () => {
  it('an alert metric name with markup stays text in the alerts panel (chart id attribute)', async () => {
    const dir = tempRepo({ 'policies/f.yaml': POLICY })
    const init = await cli(dir, 'init', '--now', T(0))
    expect(init.code, init.err + init.out).toBe(0)
    const points = [0, 30, 60, 90, 120].map(m => [
      new Date(Date.UTC(2026, 2, 1, 0, m)).toISOString(),
      0.5
    ])
    writeMetrics(dir, { [EVIL]: { value: 0.5, series: points } }, 'f')
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    expect(page).toContain('readings past the alert thresholds') // the trend chart was drawn

    browser = await launchBrowser()
    const tab = await browser.newPage()
    await tab.goto(pathToFileURL(join(site, 'features', 'f.html')).href, { waitUntil: 'load' })
    await tab.waitForTimeout(300)
    expect(await tab.title()).not.toBe('pwned')
    expect(await tab.locator('img').count()).toBe(0)
    expect(page).not.toContain('<img src=x')
  })
})
