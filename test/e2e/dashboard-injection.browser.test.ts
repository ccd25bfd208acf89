/// <reference lib="dom" />
// Issue 16: what a policy author or a committer writes reaches the dashboard as text, in a real
// browser: an alert rule's metric name (monitoring.alerts keys are free strings) is in a chart's
// id, its caption, its legend and its data table; a reason is in the audit trail and the timeline.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchBrowser } from '../support/browser.js'
import { policyAlertingOn } from '../support/policies.js'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'

const EVIL = 'm"><img src=x onerror="document.title=`pwned`">'
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

const POLICY = policyAlertingOn(EVIL)

let browser: Browser | undefined
afterAll(async () => {
  await browser?.close()
})

describe('dashboard: markup written by people stays text in the browser', () => {
  it('an alert metric name and a rollback reason with markup run nothing and read as written', async () => {
    const dir = tempRepo({ 'policies/f.yaml': POLICY })
    const init = await cli(dir, 'init', '--now', T(0))
    expect(init.code, init.err + init.out).toBe(0)
    const off = await cli(dir, 'rollback', '--emergency', '--reason', EVIL, '--now', T(1))
    expect(off.code, off.err + off.out).toBe(0)
    const points = [0, 30, 60, 90, 120].map(m => [
      new Date(Date.UTC(2026, 2, 1, 0, m)).toISOString(),
      1.5
    ])
    writeMetrics(dir, { [EVIL]: { value: 1.5, series: points } }, 'f')
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    expect(page).toContain('readings past the alert thresholds') // the trend chart was drawn
    expect(page).not.toContain('<img src=x')

    browser = await launchBrowser()
    const tab = await browser.newPage()
    await tab.goto(pathToFileURL(join(site, 'features', 'f.html')).href, { waitUntil: 'load' })
    await tab.locator('#alert_summary .chart[data-drawn="true"]').first().waitFor()
    expect(await tab.title()).not.toBe('pwned')
    expect(await tab.locator('img').count()).toBe(0)
    // Read as written: the alert chart's caption, the metric's legend in its chart, the reason.
    expect(await tab.locator('#alert_summary figcaption').first().innerText()).toContain(EVIL)
    expect(await tab.locator('.u-legend .u-label', { hasText: EVIL }).count()).toBeGreaterThan(0)
    expect(await tab.locator('table.transitions tbody tr').first().innerText()).toContain(EVIL)
  })
})
