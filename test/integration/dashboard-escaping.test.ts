// Issue 16: text a policy, a commit, a file name, the origin remote or GitHub controls reaches the
// dashboard's HTML as text. Every page is checked as a whole: each `<` opens a well-formed tag of
// ours, no event-handler attribute, no tag that loads or runs anything but our own scripts, and
// every link is relative, in-page or http(s).

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { dashboard } from '../../src/commands/dashboard.js'
import { renderPages, esc } from '../../src/report/dashboard/render.js'
import { policyAlertingOn } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

const EVIL = `m"><img src=x onerror="document.title='pwned'"><script>alert(1)</script>`
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

const POLICY = policyAlertingOn(EVIL)

const TAG =
  /^<(?:!doctype html|\/[a-z][a-z0-9]*|[a-z][a-z0-9]*(?:\s+[a-z][a-z0-9-]*(?:="[^"<>]*")?)*\s*\/?)>/
const FORBIDDEN = /^<(?:img|svg|iframe|object|embed|style|base|form|input|math|video|audio)\b/

/** Problems of one page: a `<` that is not a tag of ours, a handler, a foreign script, a link out. */
function htmlProblems(html: string): string[] {
  const problems: string[] = []
  for (let i = html.indexOf('<'); i >= 0; i = html.indexOf('<', i + 1)) {
    const tag = TAG.exec(html.slice(i))?.[0]
    if (!tag) {
      problems.push(`stray "<" at ${i}: ${html.slice(i, i + 60)}`)
      continue
    }
    if (FORBIDDEN.test(tag)) problems.push(`forbidden tag ${tag}`)
    if (/\son[a-z]+=/i.test(tag.replace(/="[^"]*"/g, '=""')))
      problems.push(`event handler in ${tag}`)
    if (
      tag.startsWith('<script') &&
      !/^<script (?:type="application\/json" id="phasegate-charts"|src="(?:\.\.\/)*assets\/[\w.]+\.js")>$/.test(
        tag
      )
    )
      problems.push(`foreign script ${tag}`)
    for (const [, url] of tag.matchAll(/\s(?:href|src)="([^"]*)"/g))
      if (/^[a-z][a-z0-9+.-]*:/i.test(url!) && !/^https?:\/\//i.test(url!))
        problems.push(`link to ${url}`)
  }
  return problems
}

test('markup in metric names, a reason, a policy file name, the origin remote and alert issues stays text', async () => {
  const dir = tempRepo({
    'policies/f.yaml': POLICY,
    // a policy that does not load, under a file name that is markup: an error card names it
    [`policies/${EVIL.replace(/\//g, '')}.yaml`]: 'feature: [\n'
  })
  sh(
    dir,
    'git',
    'remote',
    'add',
    'origin',
    `https://github.com/acme/${EVIL.replace(/\//g, '')}.git`
  )
  expect((await cli(dir, 'init', '--policy', 'policies/f.yaml', '--now', T(0))).code).toBe(0)
  const rollback = await cli(
    dir,
    'rollback',
    '--policy',
    'policies/f.yaml',
    '--emergency',
    '--reason',
    EVIL,
    '--now',
    T(1)
  )
  expect(rollback.code, rollback.err).toBe(0)
  const series = [0, 30, 60, 90].map(m => [new Date(Date.UTC(2026, 2, 1, 1, m)).toISOString(), 1.5])
  writeMetrics(dir, { [EVIL]: { value: 1.5, series } }, 'f')

  const { model, files } = await dashboard({
    cwd: dir,
    policies: [],
    out: join(dir, '..', `${dir.split('/').pop()}-site`),
    now: new Date(T(3))
  })
  expect(model.failures).toHaveLength(1)
  // Alert issues come from GitHub: a title, an alert name and an address it says.
  model.features[0]!.issues = [
    {
      number: 7,
      title: EVIL,
      url: 'javascript:alert(1)',
      alert: EVIL,
      severity: EVIL,
      createdAt: T(2)
    },
    {
      number: 8,
      title: 'ok',
      url: 'https://github.com/acme/shop/issues/8',
      alert: 'x',
      severity: 'high',
      createdAt: T(2)
    }
  ] as (typeof model.features)[0]['issues']

  const pages = [...renderPages(model)]
  for (const page of pages.filter(p => p.path.endsWith('.html'))) {
    expect(htmlProblems(page.html), page.path).toEqual([])
  }
  const feature = pages.find(p => p.path === 'features/f.html')!.html
  expect(feature).toContain('readings past the alert thresholds') // the alert trend chart is drawn
  expect(feature).toContain(esc(EVIL)) // said, as text
  expect(feature).toContain('href="https://github.com/acme/shop/issues/8"')
  expect(feature).not.toContain('javascript:')
  const index = pages.find(p => p.path === 'index.html')!.html
  expect(index).toContain(`data-policy="policies/${esc(EVIL.replace(/\//g, ''))}.yaml"`)

  // The written site too (the same pages, and the CSV keeps a formula-looking reason as text).
  for (const file of readdirSync(join(files.dir, 'features')).filter(f => f.endsWith('.html')))
    expect(htmlProblems(readFileSync(join(files.dir, 'features', file), 'utf8')), file).toEqual([])
})

test('markup in experiment, group and success-metric names stays text in every panel', async () => {
  const dir = tempRepo()
  expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
  writeMetrics(dir, {
    error_rate: 0.001,
    response_time: 120,
    groups: {
      control: { accuracy: { value: 0.8, samples: 500 } },
      treatment: { accuracy: { value: 0.9, samples: 500 } }
    }
  })
  const { model } = await dashboard({
    cwd: dir,
    policies: [],
    out: join(dir, 'site'),
    now: new Date(T(1)),
    env: {}
  })
  const feature = model.features[0]!
  expect(feature.experiments[0]!.error, feature.experiments[0]!.error).toBeUndefined()
  const analysis = feature.experiments[0]!.analysis!
  expect(analysis.metrics.length).toBeGreaterThan(0)
  // Names the schema allows today are plain; the pages must not rely on that.
  feature.experiments[0]!.name = EVIL
  analysis.experiment = EVIL
  for (const g of analysis.groups) g.name = `${g.name}${EVIL}`
  analysis.control = `${analysis.control}${EVIL}`
  for (const m of analysis.metrics) {
    for (const g of m.groups) g.name = `${g.name}${EVIL}`
    m.metric = `${m.metric}${EVIL}`
    for (const c of m.comparisons) c.treatment = EVIL
  }
  feature.experiments.push({ ...feature.experiments[0]!, analysis: undefined, error: EVIL })
  const page = [...renderPages(model)].find(p => p.path === 'features/production_deployment.html')!
  expect(page.html).toContain('id="experiment_results"')
  expect(htmlProblems(page.html)).toEqual([])
  expect(page.html).toContain(esc(EVIL))
})
