import { metricSpec } from '../../engine/metric-spec.js'
import { formatSpan } from '../../engine/time.js'
import type { Decision, MetricReading } from '../../engine/types.js'
import type { ExperimentAnalysis, MetricComparison } from '../../experiments/analysis.js'
import type { HistoryEntry } from '../../git/transitions.js'
import {
  alertTrendChart,
  intervalChart,
  seriesChart,
  thresholdLines,
  timelineChart,
  timelinePoints,
  type AlertTrendChart,
  type ChartSpec,
  type IntervalChart,
  type SeriesChart,
  type TimelinePoint
} from './charts.js'
import {
  HEALTH,
  healthFlags,
  healthOf,
  openAlertsOf,
  type Health,
  type HealthFlag
} from './health.js'
import { commitUrl, type DashboardModel, type FeatureFailure, type FeatureView } from './model.js'
import { csvField } from '../escape/csv.js'
import { describeHeartbeat } from '../heartbeat.js'
import { onFireSummary } from '../triggers.js'

// The dashboard's HTML: plain pages whose tables need no JavaScript; charts are <div>s that
// assets/dashboard.js fills from the JSON in the page, each beside a text alternative.

/** The panels `monitoring.dashboards` chooses from, in the seed's order. */
export const PANELS = [
  { name: 'production_overview', title: 'Overview' },
  { name: 'performance_comparison', title: 'Performance: new vs traditional' },
  { name: 'experiment_results', title: 'Experiments' },
  { name: 'alert_summary', title: 'Alerts' },
  { name: 'deployment', title: 'Deployment' }
] as const

export type PanelName = (typeof PANELS)[number]['name']

/**
 * The panels a feature's page shows: the ones its policy lists, all when it lists none. The
 * deployment panel (phase, percentage, timeline) is phasegate's own and always shown.
 */
export function panelsFor(dashboards: string[]): PanelName[] {
  return PANELS.map(p => p.name).filter(
    name => dashboards.length === 0 || name === 'deployment' || dashboards.includes(name)
  )
}

/** The file a feature's page is written to, relative to the site's root. */
export function featurePath(feature: string): string {
  return `features/${encodeURIComponent(feature)}.html`
}

/** The feature's whole audit trail as CSV, beside its page. */
export function historyPath(feature: string): string {
  return `features/${encodeURIComponent(feature)}.history.csv`
}

/**
 * Transitions listed in the page's audit-trail table, newest first; older ones are in the CSV.
 * The timeline chart draws them all. A page of thousands of rows is read by nobody and would make
 * the site's build time grow with every feature's age.
 */
export const TRAIL_ROWS = 100

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }

export function esc(text: string | number): string {
  return String(text).replace(/[&<>"]/g, c => ENTITIES[c]!)
}

/** A number for people: at most 4 significant digits, no exponent for everyday magnitudes. */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  if (Number.isInteger(value)) return value.toLocaleString('en-US')
  return Number(value.toPrecision(4)).toString()
}

const pct = (ratio: number | null | undefined, digits = 2) =>
  ratio === null || ratio === undefined || !Number.isFinite(ratio)
    ? '—'
    : `${(ratio * 100).toFixed(digits)}%`

/** An instant as people read it, in UTC whatever offset git wrote it with. */
const time = (iso: string) => {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

interface Page {
  /** Path relative to the site root. */
  path: string
  html: string
}

/**
 * Every page of the site, as paths relative to its root and their HTML, one at a time: a writer
 * that writes each before the next is rendered holds one feature's pages in memory, not the site.
 */
export function* renderPages(model: DashboardModel): Generator<Page> {
  yield { path: 'index.html', html: renderIndex(model) }
  for (const f of model.features) {
    yield { path: featurePath(f.feature), html: renderFeature(model, f) }
    yield { path: historyPath(f.feature), html: historyCsv(model, f) }
  }
}

function layout(title: string, depth: number, body: string, charts: ChartSpec[]): string {
  const up = depth > 0 ? '../'.repeat(depth) : ''
  const scripts = charts.length
    ? [
        `<script type="application/json" id="phasegate-charts">${JSON.stringify(charts).replace(/</g, '\\u003c')}</script>`,
        `<script src="${up}assets/uPlot.iife.min.js"></script>`,
        `<script src="${up}assets/dashboard.js"></script>`
      ].join('\n')
    : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${up}assets/uPlot.min.css">
<link rel="stylesheet" href="${up}assets/dashboard.css">
</head>
<body>
<header class="top"><a href="${up}index.html" class="brand">phasegate</a><span>rollout dashboard</span></header>
<main>
${body}
</main>
${scripts}
</body>
</html>
`
}

function footer(model: DashboardModel): string {
  const head = model.head ? ` from commit ${commitLink(model, model.head)}` : ''
  return `<footer><p>Built at ${esc(time(model.generatedAt))}${head}. Metrics and decisions as of that time; the audit trail is the git history of the state files${historyReadText(model.historyRead)}.${model.historyShallow ? ` ${SHALLOW_NOTE}` : ''}</p></footer>`
}

/**
 * What a shallow clone does to the audit trail, wherever missing history would otherwise read as
 * "nothing happened" (no transition, no rollback).
 */
const SHALLOW_NOTE =
  'The history is incomplete: this is a shallow clone, so older transitions are missing (check out with <code>fetch-depth: 0</code>, or run <code>git fetch --unshallow</code>).'

/** How the audit trail was read, for the footer: whole from git, or through the history cache. */
function historyReadText(read: DashboardModel['historyRead']): string {
  if (!read) return ''
  const n = (count: number, what: string) =>
    `${count.toLocaleString('en-US')} ${what}${count === 1 ? '' : 's'}`
  const how =
    read.from === 'git'
      ? `, read from git (${n(read.commits, 'phasegate commit')})`
      : `, read from the history cache up to commit ${esc(read.tip.slice(0, 7))} (${n(read.cached, 'phasegate commit')}) and git after it (${n(read.newer, 'newer commit')})`
  return `${how}${read.cacheNote ? ` <small>(${esc(read.cacheNote)})</small>` : ''}`
}

/** A link to a web page; the text alone when the address is not http(s) (a `javascript:` one). */
function webLink(url: string, html: string): string {
  return /^https?:\/\//i.test(url) ? `<a href="${esc(url)}">${html}</a>` : html
}

function commitLink(model: DashboardModel, sha: string): string {
  const short = esc(sha.slice(0, 7))
  const url = commitUrl(model, sha)
  return url
    ? `<a class="sha" href="${esc(url)}" data-sha="${esc(sha)}">${short}</a>`
    : `<code class="sha" title="${esc(sha)}" data-sha="${esc(sha)}">${short}</code>`
}

/** "from → to" for a transition; just the phase for the rollout's start. */
function phases(e: Pick<HistoryEntry, 'kind' | 'from' | 'to'>): string {
  return e.kind === 'init' || !e.from ? esc(e.to) : `${esc(e.from)} → ${esc(e.to)}`
}

/** The health word as a badge: its colour (level) says it again, never alone. */
function badge(health: Health): string {
  const { word, level } = HEALTH[health]
  return `<span class="badge ${health} level-${level}" data-health="${health}">${word}</span>`
}

/** The badge and every flag behind it. */
function healthCell(feature: FeatureView): string {
  const flags = healthFlags(feature)
  return `${badge(healthOf(feature, flags))}${flagList(flags)}`
}

/** Every flag in force, worst first, each a line saying what and why ('' when none). */
function flagList(flags: HealthFlag[]): string {
  if (flags.length === 0) return ''
  const items = flags.map(
    f =>
      `<li data-flag="${f.health}"><span class="flag-word">${HEALTH[f.health].word}:</span> ${esc(f.text)}${f.since ? ` <small>(since ${esc(time(f.since))})</small>` : ''}</li>`
  )
  return `<ul class="health-flags">${items.join('')}</ul>`
}

/** Open alerts and alert issues, with the worst severity; unknown (not 0) when no rule read data. */
function openAlerts(feature: FeatureView): string {
  const { count, worst, unread } = openAlertsOf(feature)
  const noData = unread.length ? ` <small>(no data: ${esc(unread.join(', '))})</small>` : ''
  if (count === 0) return unread.length ? `unknown${noData}` : '0'
  return `${count}${worst ? ` (worst: ${worst})` : ''}${noData}`
}

/** The kill switch as the index and tiles show it; a lost state file holds no kill switch. */
function killSwitch(state: FeatureView['state']): string {
  if (state.lost) return '<strong>state file lost</strong> <small>(off everywhere)</small>'
  return state.enabled ? 'on' : '<strong>OFF</strong>'
}

export function renderIndex(model: DashboardModel): string {
  const rows = model.features.map(f => {
    const last = f.history.at(-1)
    const users = f.exposure.userPercentage
    return `<tr data-feature="${esc(f.feature)}">
<th scope="row"><a href="${esc(featurePath(f.feature))}">${esc(f.feature)}</a></th>
<td data-cell="phase">${esc(f.state.phase)}</td>
<td data-cell="users" class="num">${num(users)}%</td>
<td data-cell="kill-switch">${killSwitch(f.state)}</td>
<td data-cell="last-transition">${last ? `${esc(last.kind)} ${phases(last)}<br><small>${esc(time(last.at))} · ${commitLink(model, last.sha)}</small>` : model.historyShallow && f.started ? 'unknown <small>(shallow clone: history incomplete)</small>' : '—'}</td>
<td data-cell="last-evaluation">${lastEvaluation(f)}</td>
<td data-cell="alerts" class="num">${openAlerts(f)}</td>
<td data-cell="health">${healthCell(f)}</td>
</tr>`
  })
  const table = model.features.length
    ? `<table class="features">
<caption>Every feature's rollout at a glance</caption>
<thead><tr><th scope="col">Feature</th><th scope="col">Phase</th><th scope="col">Users</th><th scope="col">Kill switch</th><th scope="col">Last transition</th><th scope="col">Last evaluation</th><th scope="col">Open alerts</th><th scope="col">Health</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
    : '<p>No feature could be evaluated.</p>'
  const body = [
    '<h1>Rollouts</h1>',
    table,
    model.failures.length
      ? `<h2>Could not evaluate</h2>\n${model.failures.map(errorCard).join('\n')}`
      : '',
    footer(model)
  ].join('\n')
  return layout('phasegate: rollouts', 0, body, [])
}

/**
 * When the action last evaluated the feature, with a visible STALE marker past three schedule
 * intervals, or when no heartbeat was recorded (never shown as fresh).
 */
function lastEvaluation(f: FeatureView): string {
  const beat = f.heartbeat
  if (!beat) return '—'
  const marker = beat.stale ? '<span class="badge stale">stale</span>' : ''
  if (beat.evaluatedAt === null) return `${marker} <small>no heartbeat recorded</small>`
  return `${esc(time(beat.evaluatedAt))} <small>${esc(beat.outcome)}</small>${marker ? `<br>${marker}` : ''}`
}

function errorCard(failure: FeatureFailure): string {
  return `<article class="card error" role="alert" data-policy="${esc(failure.policyFile)}">
<h3>${esc(failure.feature ?? failure.policyFile)}</h3>
<p><strong>Could not be evaluated.</strong> ${esc(failure.message)}</p>
${failure.hint ? `<p class="hint">${esc(failure.hint)}</p>` : ''}
<p><small>policy: <code>${esc(failure.policyFile)}</code></small></p>
</article>`
}

export function renderFeature(model: DashboardModel, feature: FeatureView): string {
  const charts: ChartSpec[] = []
  const sections = panelsFor(feature.policy.dashboards).map(panel => {
    const title = PANELS.find(p => p.name === panel)!.title
    const content = PANEL_RENDERERS[panel](model, feature, charts)
    return `<section class="panel" id="${panel}" data-panel="${panel}" aria-labelledby="${panel}-title">
<h2 id="${panel}-title">${esc(title)}</h2>
${content}
</section>`
  })
  const nav = panelsFor(feature.policy.dashboards)
    .map(p => `<a href="#${p}">${esc(PANELS.find(x => x.name === p)!.title)}</a>`)
    .join(' · ')
  const body = [
    `<p class="crumbs"><a href="../index.html">All rollouts</a></p>`,
    `<h1>${esc(feature.feature)} ${badge(healthOf(feature))}</h1>`,
    // A lost rollout's decision is the stand-in's (kill switch off): its flag says what is wrong.
    `<p class="lede">Policy <code>${esc(feature.policyFile)}</code>. ${feature.state.lost ? 'Its state file is lost.' : esc(feature.decision.reason)}</p>`,
    flagList(healthFlags(feature)),
    feature.heartbeat
      ? `<p class="heartbeat${feature.heartbeat.stale ? ' stale' : ''}" data-heartbeat="${feature.heartbeat.stale ? 'stale' : 'fresh'}">${feature.heartbeat.stale ? '<span class="badge stale">stale</span> ' : ''}${esc(describeHeartbeat(feature.heartbeat))}</p>`
      : '',
    `<nav class="panels" aria-label="Panels">${nav}</nav>`,
    ...sections,
    footer(model)
  ].join('\n')
  return layout(`phasegate: ${feature.feature}`, 1, body, charts)
}

type PanelRenderer = (model: DashboardModel, feature: FeatureView, charts: ChartSpec[]) => string

const PANEL_RENDERERS: Record<PanelName, PanelRenderer> = {
  production_overview: overviewPanel,
  performance_comparison: performancePanel,
  experiment_results: experimentsPanel,
  alert_summary: alertsPanel,
  deployment: deploymentPanel
}

function stat(name: string, label: string, value: string): string {
  return `<div class="stat" data-stat="${esc(name)}"><dt>${esc(label)}</dt><dd>${value}</dd></div>`
}

function readingOf(feature: FeatureView, metric: string): MetricReading | undefined {
  return feature.readings.find(r => r.metric === metric && !r.group)
}

/** The first analysed experiment: the seed's "new path" (treatment) vs "traditional" (control). */
function mainAnalysis(feature: FeatureView): ExperimentAnalysis | undefined {
  return feature.experiments.find(e => e.analysis)?.analysis
}

/** "0.87 s": a number in the unit the policy says the metric's readings are in (text, not HTML). */
function withUnit(value: string, unit: string | undefined): string {
  return unit ? `${value} ${unit}` : value
}

function overviewPanel(_model: DashboardModel, feature: FeatureView): string {
  const analysis = mainAnalysis(feature)
  const control = analysis?.groups.find(g => g.name === analysis.control)
  const total = analysis?.groups.reduce((s, g) => s + g.users, 0)
  const treatment = analysis && control ? (total ?? 0) - control.users : undefined
  const errorRate = readingOf(feature, 'error_rate')?.value
  const responseTime = readingOf(feature, 'response_time')?.value
  return `<dl class="stats">
${stat('total_executions', 'Total executions', num(total))}
${stat('new_path_executions', 'New path (treatment)', num(treatment))}
${stat('traditional_executions', 'Traditional (control)', num(control?.users))}
${stat('success_rate', 'Success rate', errorRate === null || errorRate === undefined ? '—' : pct(1 - errorRate))}
${stat('response_time', 'Average response time', responseTime === null || responseTime === undefined ? '—' : esc(withUnit(num(responseTime), metricSpec(feature.policy, 'response_time').unit)))}
${stat('users', 'Users exposed', `${num(feature.exposure.userPercentage)}%`)}
</dl>
<p class="note">Executions are the users counted in ${analysis ? `experiment <code>${esc(analysis.experiment)}</code>` : 'the experiment (none analysed)'}; success rate is 1 − error_rate and response time the current reading, over the policy's window.</p>`
}

/** The seed's three comparisons: which success metric stands for each. */
const COMPARISONS: Array<{ name: string; label: string; pattern: RegExp }> = [
  {
    name: 'performance_improvement',
    label: 'Performance improvement',
    pattern: /response_time|latency/
  },
  { name: 'cost_comparison', label: 'Cost comparison', pattern: /cost/ },
  {
    name: 'quality_improvement',
    label: 'Quality improvement',
    pattern: /accuracy|satisfaction|quality/
  }
]

function performancePanel(_model: DashboardModel, feature: FeatureView): string {
  const analysis = mainAnalysis(feature)
  if (!analysis)
    return '<p>No experiment results: nothing compares the new path with the traditional one yet.</p>'
  const improvement = (metric: string) => {
    const m = analysis.metrics.find(x => x.metric === metric)
    const c = m?.comparisons[0]
    if (!m || !c) return undefined
    // "Improvement" is positive when the treatment moved the way the metric should.
    return m.direction === 'increase' ? c.relativeDifference : -c.relativeDifference
  }
  const tiles = COMPARISONS.map(({ name, label, pattern }) => {
    const metric = analysis.metrics.find(m => pattern.test(m.metric))?.metric
    const value = metric === undefined ? undefined : improvement(metric)
    return stat(
      name,
      label,
      value === undefined
        ? '—'
        : `${value >= 0 ? '+' : ''}${pct(value, 1)}<small> (${esc(metric!)})</small>`
    )
  })
  const rows = analysis.metrics.map(m => {
    const c = m.comparisons[0]
    const mean = (g: string) => m.groups.find(x => x.name === g)?.mean
    const treatment = c?.treatment ?? analysis.groups.find(g => g.name !== analysis.control)?.name
    const interval = c ? (c.sequential ?? c.fixedHorizon).relativeInterval : undefined
    return `<tr data-metric="${esc(m.metric)}"><th scope="row">${esc(m.metric)}</th><td class="num" data-cell="traditional">${num(mean(analysis.control))}</td><td class="num" data-cell="new">${num(treatment ? mean(treatment) : undefined)}</td><td class="num" data-cell="change">${c ? pct(c.relativeDifference, 1) : '—'}</td><td class="num">${interval ? `${pct(interval[0], 1)} … ${pct(interval[1], 1)}${mixedIntervals(analysis) && !c?.sequential ? ' <small>(fixed-horizon)</small>' : ''}` : esc(m.missing ?? '—')}</td><td>${c ? esc(c.outcome.replace(/_/g, ' ')) : '—'}</td></tr>`
  })
  return `<dl class="stats">${tiles.join('\n')}</dl>
<table>
<caption>Traditional (${esc(analysis.control)}) vs new path, experiment <code>${esc(analysis.experiment)}</code></caption>
<thead><tr><th scope="col">Metric</th><th scope="col">Traditional</th><th scope="col">New path</th><th scope="col">Change</th><th scope="col">Interval (${intervalKind(analysis)})</th><th scope="col">Outcome</th></tr></thead>
<tbody>${rows.join('\n')}</tbody>
</table>`
}

function experimentsPanel(
  _model: DashboardModel,
  feature: FeatureView,
  charts: ChartSpec[]
): string {
  if (feature.experiments.length === 0) return '<p>No enabled experiments.</p>'
  return feature.experiments
    .map((view, i) => {
      if (!view.analysis)
        return `<article class="card error" role="alert"><h3>${esc(view.name)}</h3><p>Could not be analysed: ${esc(view.error ?? 'unknown error')}</p></article>`
      const a = view.analysis
      const participants = a.groups.reduce((s, g) => s + g.users, 0)
      const groups = a.groups
        .map(
          g =>
            `<tr><th scope="row">${esc(g.name)}</th><td class="num">${num(g.weight)}</td><td class="num" data-cell="users">${num(g.users)}</td><td class="num">${pct(g.observedShare, 1)}</td><td class="num">${pct(g.expectedShare, 1)}</td></tr>`
        )
        .join('\n')
      const significance = a.metrics
        .flatMap(m =>
          m.comparisons.length === 0
            ? [
                `<tr data-metric="${esc(m.metric)}"><th scope="row">${esc(m.metric)}</th><td colspan="5">No comparison: ${esc(m.missing ?? 'no data')}</td></tr>`
              ]
            : m.comparisons.map(c => {
                const interval = (c.sequential ?? c.fixedHorizon).relativeInterval
                // Where the caption names two kinds, each fixed-horizon row is marked.
                const kind =
                  mixedIntervals(a) && !c.sequential ? ' <small>(fixed-horizon)</small>' : ''
                return `<tr data-metric="${esc(m.metric)}"><th scope="row">${esc(m.metric)}</th><td>${esc(c.treatment)} vs ${esc(a.control)}</td><td class="num">${pct(c.relativeDifference, 1)}</td><td class="num" data-cell="interval">${pct(interval[0], 1)} … ${pct(interval[1], 1)}${kind}</td><td class="num" data-cell="p">${num(c.adjustedPValue)}</td><td data-cell="significant">${significanceOf(c)}</td></tr>`
              })
        )
        .join('\n')
      const chart = intervalChart(`intervals-${i}`, a)
      if (chart) charts.push(chart)
      return `<article class="experiment" data-experiment="${esc(a.experiment)}">
<h3>${esc(a.experiment)}</h3>
<dl class="stats">
${stat('status', 'Status', esc(a.status ?? 'not started'))}
${stat('participants', 'Participants', num(participants))}
${stat('verdict', 'Verdict', esc(a.verdict.replace(/_/g, ' ')))}
${stat('srm', 'Sample ratio', a.sampleRatio.mismatch ? '<strong>mismatch</strong>' : a.sampleRatio.checked ? 'ok' : 'too few users')}
</dl>
${a.reasons.length ? `<ul class="reasons">${a.reasons.map(r => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
${a.warnings.length ? `<ul class="warnings" aria-label="Doubts about the results">${a.warnings.map(w => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<table><caption>Groups</caption><thead><tr><th scope="col">Group</th><th scope="col">Weight</th><th scope="col">Users</th><th scope="col">Observed share</th><th scope="col">Expected share</th></tr></thead><tbody>${groups}</tbody></table>
${chart ? intervalFigure(chart, a) : ''}
<table><caption>Statistical significance (${intervalKind(a)}, α = ${a.alpha}, Holm–Bonferroni)</caption><thead><tr><th scope="col">Metric</th><th scope="col">Comparison</th><th scope="col">Relative change</th><th scope="col">Interval</th><th scope="col">Adjusted p</th><th scope="col">Significant</th></tr></thead><tbody>${significance || '<tr><td colspan="6">No comparison yet.</td></tr>'}</tbody></table>
</article>`
    })
    .join('\n')
}

/**
 * The "Significant" cell: what the analysis concluded (its outcome), not a p-value compared here.
 * Too little data gives no verdict whatever the (Fisher's exact) p-value is.
 */
function significanceOf(c: MetricComparison): string {
  if (c.outcome === 'too_little_data') return 'no verdict (too little data)'
  return c.outcome === 'better' || c.outcome === 'worse' ? 'yes' : 'no'
}

function figure(chartId: string, summary: string, table: string, caption: string): string {
  return `<figure class="chart-figure">
<figcaption>${esc(caption)}</figcaption>
<div class="chart" id="${esc(chartId)}" role="img" aria-label="${esc(summary)}"></div>
<p class="summary">${esc(summary)}</p>
<details><summary>Data</summary>${table}</details>
</figure>`
}

/**
 * The kind of the intervals shown: always-valid where the comparison has a sequential one, else
 * fixed-horizon (sequential testing off, or a rate with too little data: Fisher's exact test).
 */
function intervalKind(a: ExperimentAnalysis): string {
  if (mixedIntervals(a)) return 'always-valid; fixed-horizon where there is too little data'
  return a.metrics.some(m => m.comparisons.some(c => c.sequential))
    ? 'always-valid'
    : 'fixed-horizon'
}

function mixedIntervals(a: ExperimentAnalysis): boolean {
  const comparisons = a.metrics.flatMap(m => m.comparisons)
  return comparisons.some(c => c.sequential) && comparisons.some(c => !c.sequential)
}

function intervalFigure(chart: IntervalChart, a: ExperimentAnalysis): string {
  const summary = chart.labels
    .map((l, i) => `${l}: ${chart.estimate[i]}% (${chart.lower[i]}% to ${chart.upper[i]}%)`)
    .join('; ')
  const rows = chart.labels
    .map(
      (l, i) =>
        `<tr><th scope="row">${esc(l)}</th><td class="num">${chart.estimate[i]}%</td><td class="num">${chart.lower[i]}%</td><td class="num">${chart.upper[i]}%</td></tr>`
    )
    .join('')
  return figure(
    chart.id,
    `Treatment vs control, relative change and interval (${intervalKind(a)}): ${summary}`,
    `<table><thead><tr><th scope="col">Comparison</th><th scope="col">Change</th><th scope="col">Lower</th><th scope="col">Upper</th></tr></thead><tbody>${rows}</tbody></table>`,
    'Control vs treatment: relative change and its interval (0 = no difference)'
  )
}

/** The feature's open alert issues on GitHub, when the build asked GitHub (in the action). */
function issuesTable(model: DashboardModel, feature: FeatureView): string {
  if (model.issuesError)
    return `<h3>Alert issues</h3>\n<p class="note">${esc(model.issuesError)}</p>\n`
  if (!feature.issues) return ''
  const rows = feature.issues.map(
    i =>
      `<tr data-issue="${esc(i.number)}"><td>${webLink(i.url, `#${esc(i.number)}`)}</td><td>${esc(i.title)}</td><td>${esc(i.alert)}</td><td>${i.severity ? `<span class="sev ${esc(i.severity)}">${esc(i.severity)}</span>` : ''}</td><td>${esc(i.createdAt ? time(i.createdAt) : '')}</td></tr>`
  )
  return `<h3>Open alert issues</h3>
<table class="alerts-issues"><thead><tr><th scope="col">Issue</th><th scope="col">Title</th><th scope="col">Alert</th><th scope="col">Severity</th><th scope="col">Opened</th></tr></thead>
<tbody>${rows.join('\n') || '<tr><td colspan="5">No open alert issues.</td></tr>'}</tbody></table>
`
}

function alertsPanel(model: DashboardModel, feature: FeatureView, charts: ChartSpec[]): string {
  const { decision } = feature
  const active = [
    ...decision.alerts.map(
      a =>
        `<tr data-alert="${esc(a.metric)}"><th scope="row">${esc(a.metric)}</th><td><span class="sev ${a.severity}">${a.severity}</span></td><td class="num">${num(a.value)}</td><td class="num">${num(a.warning)} / ${num(a.critical)}</td><td>${esc(a.message)}</td></tr>`
    ),
    ...decision.trends.map(
      t =>
        `<tr data-alert="${esc(t.metric)}"><th scope="row">${esc(t.metric)}</th><td><span class="sev trend">trend</span></td><td class="num">${num(t.current)}</td><td class="num">was ${num(t.previous)}</td><td>${esc(t.message)}</td></tr>`
    ),
    // A rule that read no data has unknown alerts: listed, so "No active alerts" is never a guess.
    ...(decision.alertsUnread ?? []).map(
      m =>
        `<tr data-alert="${esc(m)}"><th scope="row">${esc(m)}</th><td><span class="result no_data">no data</span></td><td class="num">—</td><td class="num">—</td><td>no usable reading: whether it is past a threshold is unknown</td></tr>`
    )
  ]
  const recent = feature.history
    .filter(h => h.kind === 'rollback' || h.kind === 'emergency')
    .slice(-10)
    .reverse()
    .map(
      h =>
        `<tr><td>${esc(time(h.at))}</td><td>${esc(h.kind)}</td><td>${esc(h.from)} → ${esc(h.to)}</td><td>${esc(h.reason)}</td><td>${commitLink(model, h.sha)}</td></tr>`
    )
  const trends = feature.policy.alerts
    .map((rule, i) => {
      // An id from the rule's place, not its metric name: the name is free text in the policy.
      const chart = alertTrendChart(`alerts-${i}`, rule, readingOf(feature, rule.metric))
      if (!chart) return ''
      charts.push(chart)
      return alertTrendFigure(chart)
    })
    .filter(Boolean)
  return `<h3>Active</h3>
<table class="alerts-active"><thead><tr><th scope="col">Metric</th><th scope="col">Severity</th><th scope="col">Value</th><th scope="col">Warning / critical</th><th scope="col">Message</th></tr></thead>
<tbody>${active.join('\n') || '<tr><td colspan="5">No active alerts.</td></tr>'}</tbody></table>
${issuesTable(model, feature)}<h3>Recent rollbacks</h3>
<table class="alerts-recent"><thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Phases</th><th scope="col">Reason</th><th scope="col">Commit</th></tr></thead>
<tbody>${recent.join('\n') || `<tr><td colspan="5">${model.historyShallow ? 'None among the commits this shallow clone has; older ones are missing.' : 'None.'}</td></tr>`}</tbody></table>
<h3>Trends</h3>
${trends.join('\n') || '<p>No range data from the metrics provider: alert trends need metric series.</p>'}`
}

function alertTrendFigure(chart: AlertTrendChart): string {
  const w = chart.warning.reduce((s, n) => s + n, 0)
  const c = chart.critical.reduce((s, n) => s + n, 0)
  const rows = chart.x
    .map((x, i) => ({ x, w: chart.warning[i]!, c: chart.critical[i]! }))
    .filter(r => r.w + r.c > 0)
    .map(
      r =>
        `<tr><td>${esc(time(new Date(r.x * 1000).toISOString()))}</td><td class="num">${r.w}</td><td class="num">${r.c}</td></tr>`
    )
    .join('')
  return figure(
    chart.id,
    `${chart.metric}: ${w} readings at warning and ${c} at critical level over ${chart.x.length} ${chart.bucket}s`,
    `<table><thead><tr><th scope="col">${chart.bucket === 'day' ? 'Day' : 'Hour'}</th><th scope="col">Warning</th><th scope="col">Critical</th></tr></thead><tbody>${rows || '<tr><td colspan="3">No reading past a threshold.</td></tr>'}</tbody></table>`,
    `${chart.metric}: readings past the alert thresholds per ${chart.bucket}`
  )
}

function deploymentPanel(model: DashboardModel, feature: FeatureView, charts: ChartSpec[]): string {
  const { policy, state, decision } = feature
  const ladder = policy.phases
    .map(
      p =>
        `<li${p.name === state.phase ? ' aria-current="step" class="current"' : ''}>${esc(p.name)} <small>${num(p.userPercentage)}%</small></li>`
    )
    .join('')
  const points = pointsOf(model, feature)
  const shallow = model.historyShallow
    ? `<p class="note" data-note="shallow">${SHALLOW_NOTE}</p>\n`
    : ''
  const timeline = points.length
    ? (() => {
        const chart = timelineChart('timeline', policy, points, commitUrl(model, ''))
        charts.push(chart)
        return shallow + timelineFigure(model, feature, points)
      })()
    : shallow ||
      (feature.started
        ? '<p>No transition of this rollout is in the git history: its state file was not written by a phasegate commit here.</p>'
        : '<p>No transitions yet: run <code>phasegate init</code> to start the rollout.</p>')
  const metrics = feature.readings
    .filter(r => !r.group)
    .map((r, i) => metricFigure(r, feature, charts, i))
  return `<dl class="stats">
${stat('phase', 'Current phase', esc(state.phase))}
${stat('rollout_percentage', 'Rollout percentage', `${num(feature.exposure.userPercentage)}%`)}
${stat('kill_switch', 'Kill switch', killSwitch(state))}
${stat('in_phase', 'In phase for', state.lost ? '—' : esc(formatSpan(Math.max(0, Date.parse(model.generatedAt) - Date.parse(state.enteredAt)))))}
${stat('decision', 'Next step', esc(decision.action === 'hold' ? (decision.awaitingApproval ? 'awaiting approval' : 'hold') : `${decision.action} to ${decision.target ?? '?'}`))}
</dl>
<ol class="ladder" aria-label="Phases">${ladder}</ol>
<h3>Rollout timeline</h3>
${timeline}
<h3>${policy.phases.at(-1)?.name === state.phase ? 'Steady-state check (final phase: reported, never acted on)' : 'Phase gates'}</h3>
${gateTable(decision)}
<h3>Canary health: rollback triggers</h3>
${triggerTable(decision)}
<h3>Metrics</h3>
${metrics.join('\n') || '<p>The policy names no metrics.</p>'}`
}

/** The feature's timeline: each transition's recorded exposure, and the exposure in force now. */
function pointsOf(model: DashboardModel, feature: FeatureView): TimelinePoint[] {
  return timelinePoints(
    feature.policy,
    feature.history,
    new Date(model.generatedAt),
    feature.exposure.userPercentage,
    feature.refreshes
  )
}

function timelineFigure(
  model: DashboardModel,
  feature: FeatureView,
  points: TimelinePoint[]
): string {
  const transitions = points.filter(p => p.entry)
  const counts = (kind: string) => transitions.filter(p => p.entry!.kind === kind).length
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`
  const summary = `${n(transitions.length, 'transition', 'transitions')}: ${n(counts('advance'), 'advance', 'advances')}, ${n(counts('rollback'), 'rollback', 'rollbacks')}, ${n(counts('emergency'), 'emergency', 'emergencies')}; now in ${points.at(-1)!.phase} at ${num(feature.exposure.userPercentage)}% of users`
  const rows = transitions
    .slice(-TRAIL_ROWS)
    .reverse()
    .map(p => {
      const e = p.entry!
      return `<tr class="kind-${esc(e.kind)}" data-sha="${esc(e.sha)}"><td>${esc(time(e.at))}</td><td>${esc(e.kind)}</td><td>${phases(e)}</td><td class="num">${p.percent === null ? 'unknown' : `${p.percent}%`}</td><td>${esc(e.reason)}${e.approvers.length ? ` <small>(approved by ${esc(e.approvers.join(', '))})</small>` : ''}${e.operator ? ` <small>(by ${esc(e.operator)})</small>` : ''}</td><td>${commitLink(model, e.sha)}</td></tr>`
    })
    .join('\n')
  return `<figure class="chart-figure">
<figcaption>Phase and share of users over time; markers are transitions (click one to open its commit)</figcaption>
<div class="chart" id="timeline" role="img" aria-label="${esc(summary)}"></div>
<p class="summary">${esc(summary)}</p>
</figure>
<table class="transitions"><caption>Audit trail (newest first)</caption>
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Phases</th><th scope="col">Users</th><th scope="col">Reason</th><th scope="col">Commit</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="note">${transitions.length > TRAIL_ROWS ? `The newest ${TRAIL_ROWS} of ${transitions.length} transitions. ` : ''}The whole audit trail: <a href="${esc(historyPath(feature.feature).slice('features/'.length))}" download>CSV</a>, or <code>phasegate history</code>.</p>`
}

/**
 * Every transition of the feature, oldest first, as CSV (RFC 4180 quoting). users_percent is the
 * share its commit's datafile recorded, empty where unknown (a history from before datafiles). It is a download
 * people open in a spreadsheet, and reasons and operators are free text: formula cells are text.
 */
export function historyCsv(model: DashboardModel, feature: FeatureView): string {
  const lines = ['at,kind,from,to,users_percent,reason,approvers,operator,commit,commit_url']
  for (const p of pointsOf(model, feature)) {
    const e = p.entry
    if (!e) continue
    lines.push(
      [
        e.at,
        e.kind,
        e.from,
        e.to,
        p.percent ?? '',
        e.reason,
        e.approvers.join(' '),
        e.operator ?? '',
        e.sha,
        commitUrl(model, e.sha) ?? ''
      ]
        .map(v => csvField(v, 'spreadsheet'))
        .join(',')
    )
  }
  return lines.join('\n') + '\n'
}

function metricFigure(
  reading: MetricReading,
  feature: FeatureView,
  charts: ChartSpec[],
  i: number
): string {
  const lines = thresholdLines(feature.policy, reading.metric)
  const limits = lines.map(l => `${l.label}`).join(', ')
  const current =
    reading.value === null
      ? `no data (${reading.reason ?? 'unknown'})`
      : withUnit(num(reading.value), metricSpec(feature.policy, reading.metric).unit)
  const head = `<h4>${esc(reading.metric)}</h4>`
  const series = reading.series ?? []
  if (series.length < 2) {
    return `<div class="metric" data-metric="${esc(reading.metric)}">${head}<p>Current: <strong data-cell="current">${esc(current)}</strong>${limits ? ` · ${esc(limits)}` : ''}. <small>No range data from the provider.</small></p></div>`
  }
  const chart: SeriesChart = seriesChart(`metric-${i}`, feature.policy, reading)
  charts.push(chart)
  const values = chart.y
  const past = lines.find(l => l.level === 'warning')
  const rule = feature.policy.alerts.find(a => a.metric === reading.metric)
  const sign = rule && rule.critical < rule.warning ? -1 : 1
  const over = past ? values.filter(v => sign * (v - past.value) >= 0).length : 0
  const summary = `${reading.metric}: ${values.length} readings from ${time(new Date(chart.x[0]! * 1000).toISOString())} to ${time(new Date(chart.x.at(-1)! * 1000).toISOString())}; latest ${num(values.at(-1))}, min ${num(Math.min(...values))}, max ${num(Math.max(...values))}${limits ? `; ${limits}` : ''}${past ? `; ${over} readings past warning` : ''}`
  const rows = chart.x
    .map(
      (x, j) =>
        `<tr><td>${esc(time(new Date(x * 1000).toISOString()))}</td><td class="num">${num(values[j])}</td></tr>`
    )
    .join('')
  return `<div class="metric" data-metric="${esc(reading.metric)}">${head}<p>Current: <strong data-cell="current">${esc(current)}</strong></p>
${figure(chart.id, summary, `<table><thead><tr><th scope="col">Time</th><th scope="col">Value</th></tr></thead><tbody>${rows}</tbody></table>`, `${reading.metric} over time with its thresholds`)}</div>`
}

const RESULT_TEXT = {
  pass: 'pass',
  fail: 'fail',
  pending: 'pending',
  fired: 'fired',
  breached: 'breached, not fired',
  ok: 'ok',
  no_data: 'no data'
} as const

function gateTable(decision: Decision): string {
  if (decision.gates.length === 0) return '<p>No gates: nothing to check here.</p>'
  const rows = decision.gates.flatMap(g =>
    (g.evidence.length ? g.evidence : [undefined]).map(
      e =>
        `<tr data-gate="${esc(g.gate)}"><th scope="row">${esc(g.gate)}</th><td>${esc(e?.metric ?? g.type.replace('_', ' '))}</td><td class="num">${esc(e?.value === undefined || e.value === null ? '—' : typeof e.value === 'number' ? num(e.value) : e.value)}</td><td>${esc(e?.compared ?? e?.threshold ?? '—')}</td><td><span class="result ${e?.result ?? g.outcome}">${RESULT_TEXT[e?.result ?? g.outcome]}</span></td></tr>`
    )
  )
  return `<table class="gates"><thead><tr><th scope="col">Gate</th><th scope="col">Measure</th><th scope="col">Value</th><th scope="col">Threshold</th><th scope="col">Result</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
}

function triggerTable(decision: Decision): string {
  if (decision.triggers.length === 0) return '<p>No rollback triggers.</p>'
  const rows = decision.triggers.map(
    t =>
      `<tr data-trigger="${esc(t.trigger)}"><th scope="row">${esc(t.trigger)}</th><td><span class="result ${t.status}">${RESULT_TEXT[t.status]}</span></td><td>${esc(t.reason)}</td></tr>`
  )
  // What each trigger does when it fires, in the words of every other report.
  const onFire = onFireSummary(decision.triggers)
  return `<table class="triggers"><thead><tr><th scope="col">Trigger</th><th scope="col">State</th><th scope="col">Why</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>${onFire ? `<p class="on-fire">${esc(onFire[0]!.toUpperCase() + onFire.slice(1))}.</p>` : ''}`
}
