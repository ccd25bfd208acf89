/// <reference lib="dom" />
// attack16: the dashboard in a real Chromium, as a reader elsewhere in the world sees it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser } from '../support/browser.js'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'

const POLICY = [
  'feature: f',
  'deployment:',
  '  order: [a, b]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 100}',
  'rollback:',
  '  automatic_triggers:',
  '    - error_rate > 0.02',
  ''
].join('\n')
const M = (m: number) => new Date(Date.UTC(2026, 2, 1, 0, m)).toISOString()

let browser: Browser
let site: string
beforeAll(async () => {
  const dir = tempRepo({ 'policies/f.yaml': POLICY })
  expect((await cli(dir, 'init', '--now', M(0))).code).toBe(0)
  writeMetrics(
    dir,
    { error_rate: { value: 0.01, series: [0, 30, 60, 90, 120].map(m => [M(m), 0.01]) } },
    'f'
  )
  site = join(dir, 'site')
  const built = await cli(dir, 'dashboard', '--out', site, '--now', M(120))
  expect(built.code, built.err).toBe(0)
  browser = await launchBrowser()
}, 60_000)
afterAll(async () => {
  await browser?.close()
})

describe('attack16: one time zone on every surface', () => {
  it('a chart read in New York gives the same time as its data table (UTC), or names its zone', async () => {
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    expect(page).toContain('2026-03-01 00:00 UTC') // the table's first row
    const context = await browser.newContext({
      timezoneId: 'America/New_York',
      viewport: { width: 1200, height: 900 }
    })
    const tab = await context.newPage()
    await tab.goto(pathToFileURL(join(site, 'features', 'f.html')).href, { waitUntil: 'load' })
    const over = tab.locator('[data-metric="error_rate"] .u-over')
    await over.scrollIntoViewIfNeeded()
    const at = (await over.boundingBox())!
    await tab.mouse.move(at.x + at.width / 2, at.y + at.height / 2)
    await tab.mouse.move(at.x + 1, at.y + at.height / 2, { steps: 5 }) // the first point: 00:00 UTC
    await tab.waitForTimeout(100)
    const legend = (
      await tab.locator('[data-metric="error_rate"] .u-legend tr').first().innerText()
    ).trim()
    await context.close()
    // 00:00 UTC on 1 March is 19:00 on 28 February in New York; the table says UTC.
    expect(legend).toMatch(/UTC|\b00:00\b|12:00\s*am/i)
  })
})

describe('attack16: no JavaScript, dark scheme (holds)', () => {
  it('without JavaScript the audit trail and a chart data table are readable; dark scheme is dark', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false })
    const tab = await plain.newPage()
    await tab.goto(pathToFileURL(join(site, 'features', 'f.html')).href, { waitUntil: 'load' })
    expect(await tab.locator('table.transitions tbody tr').count()).toBe(1)
    await tab.locator('[data-metric="error_rate"] details summary').click()
    expect(await tab.locator('[data-metric="error_rate"] details tbody tr').count()).toBe(5)
    await plain.close()
    const dark = await browser.newContext({ colorScheme: 'dark' })
    const page = await dark.newPage()
    await page.goto(pathToFileURL(join(site, 'index.html')).href, { waitUntil: 'load' })
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    expect(bg).toBe('rgb(13, 17, 23)')
    await dark.close()
  })
})
