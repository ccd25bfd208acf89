/// <reference lib="dom" />
// The page functions below run in the browser, so this file alone sees the DOM types.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { dashboard } from '../../src/commands/dashboard.js'
import { runDemo } from '../../src/commands/demo.js'
import { rollback } from '../../src/commands/rollback.js'
import { git } from '../../src/git/git.js'
import { launchBrowser } from '../support/browser.js'

// The dashboard in a real browser: the demo's rollout (two advances, an automatic rollback),
// then an emergency rollback, an experiment with per-group data, metric series, a second feature
// that shows only some panels and a broken policy. Every expected number below comes from this
// scenario, never from the page.

const SHOTS = join(process.cwd(), 'test-output', 'dashboard')
const START = Date.parse('2026-03-02T09:00:00Z')
const hours = (h: number) => new Date(START + h * 3_600_000)
const NOW = hours(12)
const REPO = 'https://github.com/acme/shop'

// Final readings: error_rate 0.031 is past critical (0.02) by more than the warning-to-critical
// gap (0.01) again: severity "critical"; response time fine.
const FINAL = {
  error_rate: 0.031,
  performance_degradation: 0.04,
  response_time: 870,
  user_satisfaction: 0.965
}
const USERS = { control: 5040, treatment: 4960 }

function snapshot(): Record<string, unknown> {
  const steps = Array.from({ length: 48 }, (_, i) => i * 0.25)
  const series = (metric: keyof typeof FINAL, healthy: number) =>
    steps.map(h => [hours(h).toISOString(), h >= 11 ? FINAL[metric] : healthy])
  const group = (n: number, responseTime: number, accuracy: number) => ({
    accuracy: { value: accuracy, samples: n },
    response_time: { value: responseTime, samples: n },
    response_time_stddev: 300,
    cost_per_request: { value: 0.002, samples: n },
    cost_per_request_stddev: 0.0008,
    user_satisfaction: { value: 0.96, samples: n }
  })
  return {
    error_rate: { value: FINAL.error_rate, series: series('error_rate', 0.004) },
    performance_degradation: {
      value: FINAL.performance_degradation,
      series: series('performance_degradation', 0.03)
    },
    response_time: { value: FINAL.response_time, series: series('response_time', 850) },
    user_satisfaction: {
      value: FINAL.user_satisfaction,
      series: series('user_satisfaction', 0.97)
    },
    system_failure: 0,
    groups: {
      control: group(USERS.control, 900, 0.88),
      treatment: group(USERS.treatment, 840, 0.905)
    }
  }
}

let dir: string
let site: string
let browser: Browser
let shas: Array<{ sha: string; kind: string }>

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phasegate-dashboard-'))
  await runDemo({ io: { out: () => {} }, keep: dir })
  await rollback({
    cwd: dir,
    policies: [],
    reason: 'pager: checkout errors',
    emergency: true,
    operator: 'oncall-dana',
    now: hours(11.5)
  })
  await git(dir, 'remote', 'add', 'origin', 'git@github.com:acme/shop.git')
  writeFileSync(
    join(dir, '.phasegate', 'metrics', 'production_deployment.yaml'),
    stringify(snapshot())
  )
  const seed = readFileSync(join(dir, 'policies', 'production_deployment.yaml'), 'utf8')
  writeFileSync(
    join(dir, 'policies', 'search_ranking.yaml'),
    seed.replace(/ {2}dashboards:\n(?: {4}- .*\n)+/, '  dashboards:\n    - alert_summary\n')
  )
  writeFileSync(
    join(dir, 'policies', 'broken.yaml'),
    seed.replace('    - alert_summary\n', '    - alert_sumary\n')
  )
  const log = await git(
    dir,
    'log',
    '--format=%H %(trailers:key=Phasegate-Kind,valueonly,separator=)',
    '--grep=^Phasegate-Feature: '
  )
  shas = log
    .split('\n')
    .filter(Boolean)
    .map(line => ({ sha: line.slice(0, 40), kind: line.slice(41).trim() }))
  site = join(dir, 'site')
  await dashboard({ cwd: dir, policies: [], out: site, now: NOW, env: {} })
  mkdirSync(SHOTS, { recursive: true })
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
})

/** Opens a page of the site, failing on any console error, page error or failed request. */
async function open(path: string, options: { dark?: boolean; javaScript?: boolean } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1200, height: 900 },
    colorScheme: options.dark ? 'dark' : 'light',
    javaScriptEnabled: options.javaScript ?? true
  })
  const page = await context.newPage()
  const problems: string[] = []
  const requests: string[] = []
  page.on('console', m => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`console ${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', e => problems.push(`page error: ${e.message}`))
  page.on('requestfailed', r =>
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`)
  )
  page.on('request', r => requests.push(r.url()))
  await page.goto(pathToFileURL(join(site, path)).href, { waitUntil: 'load' })
  return { page, problems, requests, close: () => context.close() }
}

const text = (page: Page, selector: string) => page.locator(selector).first().innerText()

/** Non-transparent pixels drawn on every canvas inside the element. */
function drawnPixels(page: Page, id: string): Promise<number> {
  return page.evaluate(chartId => {
    let n = 0
    for (const canvas of document.getElementById(chartId)!.querySelectorAll('canvas')) {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++
    }
    return n
  }, id)
}

describe('the dashboard in Chromium', { timeout: 180_000 }, () => {
  it('index: every feature with phase, users, kill switch, last transition, alerts, health; broken policy as an error card', async () => {
    const { page, problems, requests, close } = await open('index.html')
    const emergency = shas[0]!
    expect(shas.map(s => s.kind)).toEqual(['emergency', 'rollback', 'advance', 'advance', 'init'])
    const row = page.locator('tr[data-feature="production_deployment"]')
    expect(await row.locator('[data-cell="phase"]').innerText()).toBe('development')
    expect(await row.locator('[data-cell="users"]').innerText()).toBe('0%')
    expect(await row.locator('[data-cell="kill-switch"]').innerText()).toBe('OFF')
    expect(await row.locator('[data-cell="last-transition"]').innerText()).toContain(
      'emergency staging → development'
    )
    expect(await row.locator('[data-cell="last-transition"] a').getAttribute('href')).toBe(
      `${REPO}/commit/${emergency.sha}`
    )
    expect(await row.locator('[data-cell="alerts"]').innerText()).toBe('1 (worst: critical)')
    // The worst as the badge; every flag in force listed under it (the kill switch too).
    expect(await row.locator('[data-cell="health"] .badge').innerText()).toBe('critical alert')
    expect(await row.locator('[data-cell="health"] li[data-flag="off"]').innerText()).toContain(
      'kill switch off'
    )
    const other = page.locator('tr[data-feature="search_ranking"]')
    expect(await other.locator('[data-cell="phase"]').innerText()).toBe('development')
    expect(await other.locator('[data-cell="health"] .badge').innerText()).toBe('not started')
    const card = page.locator('.card.error[data-policy="policies/broken.yaml"]')
    expect(await card.innerText()).toMatch(/broken\.yaml:\d+:\d+/)
    expect(await card.innerText()).toContain('alert_sumary')
    await page.screenshot({ path: join(SHOTS, 'index.png'), fullPage: true })
    expect(requests.every(u => u.startsWith('file://'))).toBe(true)
    expect(problems).toEqual([])
    await close()
  })

  it('feature page: five panels with the scenario numbers, charts drawn, commits linked', async () => {
    const { page, problems, requests, close } = await open('features/production_deployment.html')
    for (const panel of [
      'production_overview',
      'performance_comparison',
      'experiment_results',
      'alert_summary',
      'deployment'
    ])
      expect(await page.locator(`section[data-panel="${panel}"]`).count()).toBe(1)

    const stat = (panel: string, name: string) => text(page, `#${panel} [data-stat="${name}"] dd`)
    const total = USERS.control + USERS.treatment
    expect(await stat('production_overview', 'total_executions')).toBe(
      total.toLocaleString('en-US')
    )
    expect(await stat('production_overview', 'new_path_executions')).toBe(
      USERS.treatment.toLocaleString('en-US')
    )
    expect(await stat('production_overview', 'traditional_executions')).toBe(
      USERS.control.toLocaleString('en-US')
    )
    expect(await stat('production_overview', 'success_rate')).toBe(
      `${((1 - FINAL.error_rate) * 100).toFixed(2)}%`
    )
    expect(await stat('production_overview', 'response_time')).toBe(`${FINAL.response_time} ms`)

    const perf = page.locator('#performance_comparison tr[data-metric="response_time"]')
    expect(await perf.locator('[data-cell="traditional"]').innerText()).toBe('900')
    expect(await perf.locator('[data-cell="new"]').innerText()).toBe('840')
    expect(await perf.locator('[data-cell="change"]').innerText()).toBe(
      `${((840 / 900 - 1) * 100).toFixed(1)}%`
    )
    expect(await stat('performance_comparison', 'performance_improvement')).toContain(
      `+${((1 - 840 / 900) * 100).toFixed(1)}%`
    )

    expect(await stat('experiment_results', 'participants')).toBe(total.toLocaleString('en-US'))
    expect(await stat('experiment_results', 'status')).toBe('running')
    expect(
      await page
        .locator('#experiment_results tr[data-metric="response_time"] [data-cell="significant"]')
        .innerText()
    ).toBe('yes')

    const active = page.locator('#alert_summary .alerts-active tr[data-alert="error_rate"]')
    expect(await active.innerText()).toContain('critical')
    expect(await active.innerText()).toContain(String(FINAL.error_rate))
    expect(await page.locator('#alert_summary .alerts-recent tbody tr').count()).toBe(2)

    expect(await stat('deployment', 'phase')).toBe('development')
    expect(await stat('deployment', 'rollout_percentage')).toBe('0%')
    expect(await stat('deployment', 'kill_switch')).toBe('OFF')

    // The audit trail: one row per transition commit, newest first, each linked to its commit.
    const rows = page.locator('#deployment table.transitions tbody tr')
    expect(await rows.count()).toBe(shas.length)
    for (const [i, { sha }] of shas.entries()) {
      expect(await rows.nth(i).getAttribute('data-sha')).toBe(sha)
      expect(await rows.nth(i).locator('a.sha').getAttribute('href')).toBe(`${REPO}/commit/${sha}`)
    }
    const csvLink = page.locator('#deployment a[download]')
    expect(await csvLink.getAttribute('href')).toBe('production_deployment.history.csv')
    const csv = readFileSync(join(site, 'features', 'production_deployment.history.csv'), 'utf8')
    expect(
      csv
        .trim()
        .split('\n')
        .slice(1)
        .map(line => line.split(',').at(-2))
    ).toEqual(shas.map(s => s.sha).reverse())
    expect(await rows.nth(0).innerText()).toContain('emergency')
    expect(await rows.nth(1).innerText()).toContain('rollback')

    // Every chart drawn, with a text alternative beside it.
    const charts = await page.locator('.chart').evaluateAll(els => els.map(e => e.id))
    expect(charts).toEqual(
      expect.arrayContaining(['timeline', 'intervals-0', 'alerts-0', 'metric-0'])
    )
    expect(charts.length).toBe(1 + 1 + 3 + 4)
    for (const id of charts) {
      expect(await drawnPixels(page, id), id).toBeGreaterThan(500)
      expect(await page.locator(`#${id}`).getAttribute('aria-label'), id).toBeTruthy()
    }
    expect(await page.locator('#timeline').getAttribute('aria-label')).toBe(
      `${shas.length} transitions: 2 advances, 1 rollback, 1 emergency; now in development at 0% of users`
    )

    await page.screenshot({ path: join(SHOTS, 'feature.png'), fullPage: true })
    await page.locator('#deployment').screenshot({ path: join(SHOTS, 'deployment.png') })
    // The README's picture (docs/dashboard.png is a copy): the deployment panel's top, one screen.
    await page.evaluate(() => document.getElementById('deployment')!.scrollIntoView())
    await page.screenshot({ path: join(SHOTS, 'readme.png') })
    expect(requests.every(u => u.startsWith('file://'))).toBe(true)
    expect(problems).toEqual([])
    await close()
  })

  it('monitoring.dashboards chooses the panels: alert_summary and deployment only', async () => {
    const { page, problems, close } = await open('features/search_ranking.html')
    const panels = await page
      .locator('section[data-panel]')
      .evaluateAll(els => els.map(e => e.getAttribute('data-panel')))
    expect(panels).toEqual(['alert_summary', 'deployment'])
    expect(problems).toEqual([])
    await close()
  })

  it('dark scheme and no JavaScript: the tables are all there', async () => {
    const dark = await open('features/production_deployment.html', { dark: true })
    const background = await dark.page.evaluate(
      () => getComputedStyle(document.body).backgroundColor
    )
    expect(background).toBe('rgb(13, 17, 23)')
    await dark.page.screenshot({ path: join(SHOTS, 'feature-dark.png'), fullPage: true })
    expect(dark.problems).toEqual([])
    await dark.close()

    const plain = await open('features/production_deployment.html', { javaScript: false })
    expect(await plain.page.locator('#deployment table.transitions tbody tr').count()).toBe(
      shas.length
    )
    expect(await plain.page.locator('.chart canvas').count()).toBe(0)
    expect(await plain.page.locator('.chart-figure .summary').count()).toBeGreaterThan(0)
    await plain.close()
  })
})
