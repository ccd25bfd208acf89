import { sep } from 'node:path'
import { decide } from '../engine/decide.js'
import { assessHeartbeat, scheduleIntervalOf } from '../engine/heartbeat.js'
import { requiredReadings } from '../engine/requests.js'
import type { MetricReading, Policy, State } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { headSha, isShallowRepository, repoRoot, runGit } from '../git/git.js'
import { readHistoryCached, type HistoryRead } from '../git/history-cache.js'
import {
  readHistory,
  transitionsOf,
  type HistoryEntry,
  type SkippedCommit
} from '../git/transitions.js'
import { createProvider } from '../metrics/index.js'
import { DEFAULT_WINDOW } from '../policy/normalize.js'
import {
  insideRepository,
  previousSite,
  refuseRepositoryFiles,
  sitePaths,
  writeDashboard,
  type DashboardFiles
} from '../report/dashboard/build.js'
import {
  repositoryUrlFrom,
  type AlertIssueView,
  type DashboardModel,
  type ExperimentView,
  type FeatureFailure,
  type FeatureView
} from '../report/dashboard/model.js'
import { inForce, staleDatafile } from '../rollout/datafile.js'
import { readHeartbeats, type HeartbeatEntries } from '../rollout/heartbeat.js'
import {
  currentState,
  loadRolloutsSettled,
  lostStateError,
  relativeTo,
  type Rollout
} from '../rollout/load.js'
import { analyzeRolloutExperiment, metricsConfigFor, observe } from '../rollout/observe.js'

export interface DashboardOptions {
  cwd: string
  policies: string[]
  /** Directory to write the site into (created; files phasegate writes there are replaced). */
  out: string
  now: Date
  metricsFile?: string
  env?: Record<string, string | undefined>
  /**
   * Keep the history read in this file and read only newer commits from git next time
   * (git/history-cache.ts); `version` is phasegate's, part of what the cache is valid for.
   * Without it the whole history is read.
   */
  historyCache?: { file: string; version: string }
}

/** How far back metric series reach: the rollout's whole history, within these bounds. */
const MIN_SERIES_MS = 24 * 3_600_000
const MAX_SERIES_MS = 30 * 24 * 3_600_000

/**
 * Builds the static dashboard: every policy's feature, its history, current metrics (and series
 * where the provider has range data), the decision `tick` would make now, and its experiments.
 * A policy that cannot be loaded or evaluated becomes an error card; the others still build.
 */
export async function dashboard(
  options: DashboardOptions
): Promise<{ model: DashboardModel; files: DashboardFiles }> {
  const model = await collectDashboard(options)
  await refuseOverRepository(model, options)
  const files = writeDashboard(model, options.out)
  return { model, files }
}

/**
 * Throws a PhasegateError naming --out when the site would be written over the repository's own
 * files: its root, or a file git tracks that the build would write or delete.
 */
async function refuseOverRepository(
  model: DashboardModel,
  options: DashboardOptions
): Promise<void> {
  const root = await repoRoot(options.cwd)
  const rel = insideRepository(options.out, root)
  let tracked: string[] = []
  if (rel) {
    const paths = [...new Set([...sitePaths(model), ...previousSite(model, options.out)])]
    const listed = await runGit(
      root,
      ['ls-files', '-z', '--', ...paths.map(p => [...rel.split(sep), p].join('/'))],
      { env: { GIT_LITERAL_PATHSPECS: '1' } }
    )
    tracked = listed.stdout
      .split('\0')
      .filter(Boolean)
      .map(p => p.slice(rel.split(sep).join('/').length + 1))
  }
  refuseRepositoryFiles(options.out, root, tracked)
}

export async function collectDashboard(options: DashboardOptions): Promise<DashboardModel> {
  const env = options.env ?? process.env
  const root = await repoRoot(options.cwd)
  const settled = await loadRolloutsSettled(options.cwd, options.policies)
  const failures = settled.failures.map(f => failureOf(relativeTo(root, f.policyFile), f.error))
  const loaded = settled.rollouts
  const sources = loaded.map(r => r.policy)
  const [{ history, read }, head, origin, issues, heartbeats, shallow] = await Promise.all([
    options.historyCache
      ? readHistoryCached(root, sources, options.historyCache.file, options.historyCache.version)
      : readHistory(root, sources, ['HEAD'], { exposure: true }).then(
          (h): { history: typeof h; read: HistoryRead } => ({
            history: h,
            read: { from: 'git', commits: h.length }
          })
        ),
    headSha(root),
    runGit(root, ['remote', 'get-url', 'origin'], { allowFailure: true }),
    openAlertIssues(env),
    readHeartbeats(root),
    isShallowRepository(root)
  ])
  const byFeature = new Map<string, HistoryEntry[]>()
  for (const entry of transitionsOf(history)) {
    const list = byFeature.get(entry.feature) ?? []
    if (list.length === 0) byFeature.set(entry.feature, list)
    list.push(entry)
  }
  for (const [feature, list] of byFeature) byFeature.set(feature, newestFirst(list))
  const refreshes = new Map<string, SkippedCommit[]>()
  for (const entry of history) {
    if (!('skipped' in entry) || entry.kind !== 'refresh') continue
    const list = refreshes.get(entry.feature) ?? []
    if (list.length === 0) refreshes.set(entry.feature, list)
    list.push(entry)
  }
  const evaluated = await Promise.all(
    loaded.map(rollout =>
      evaluateFeature(
        rollout,
        byFeature.get(rollout.policy.feature) ?? [],
        heartbeats,
        options,
        env
      )
        .then(view => {
          const refreshed = refreshes.get(view.feature)
          return refreshed ? { ...view, refreshes: refreshed } : view
        })
        .then(view =>
          'issues' in issues
            ? {
                ...view,
                issues: issues.issues.filter(i => i.feature === view.feature).map(i => i.view)
              }
            : view
        )
        .catch((error: unknown) =>
          failureOf(relativeTo(root, rollout.policyFile), error, rollout.policy.feature)
        )
    )
  )
  return {
    generatedAt: options.now.toISOString(),
    repositoryUrl: repositoryUrlFrom(env, origin.code === 0 ? origin.stdout : undefined),
    ...(head ? { head } : {}),
    historyRead: read,
    ...(shallow ? { historyShallow: true } : {}),
    features: evaluated.filter((f): f is FeatureView => 'decision' in f),
    ...('error' in issues ? { issuesError: issues.error } : {}),
    failures: [...failures, ...evaluated.filter((f): f is FeatureFailure => 'message' in f)]
  }
}

/**
 * A feature's transitions newest first by commit time (ties in the order given). git log's order
 * is that already unless committer clocks disagree, or commits of a merged branch came after the
 * cached part of a history (readHistoryCached); the timeline is drawn in time order either way.
 */
function newestFirst(entries: HistoryEntry[]): HistoryEntry[] {
  const times = entries.map(e => Date.parse(e.at))
  if (times.every((t, i) => i === 0 || !(t > times[i - 1]!))) return entries
  return entries
    .map((entry, i) => ({ entry, t: times[i]!, i }))
    .sort((x, y) => y.t - x.t || x.i - y.i)
    .map(x => x.entry)
}

/**
 * The repository's open alert issues, in one paginated listing, when the environment names a
 * repository and a token (GITHUB_REPOSITORY, GITHUB_TOKEN; GITHUB_API_URL for GitHub Enterprise),
 * as in the action; nothing when it does not. A listing that fails is reported on the site, not
 * fatal: the rest of the dashboard does not depend on it.
 */
async function openAlertIssues(
  env: Record<string, string | undefined>
): Promise<
  { issues: Array<{ feature: string; view: AlertIssueView }> } | { error: string } | { none: true }
> {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
  if (!env.GITHUB_TOKEN || !owner || !repo) return { none: true }
  try {
    const listed = await listOpenAlertIssues(
      env.GITHUB_API_URL || 'https://api.github.com',
      env.GITHUB_TOKEN,
      `${owner}/${repo}`
    )
    return {
      issues: listed.flatMap(issue => {
        const label = (prefix: string) =>
          issue.labels.find(l => l.startsWith(prefix))?.slice(prefix.length) ?? ''
        const feature = label('phasegate:')
        if (!feature) return []
        return [
          {
            feature,
            view: {
              number: issue.number,
              title: issue.title ?? '',
              url: issue.url ?? '',
              createdAt: issue.createdAt ?? '',
              alert: label('alert:'),
              severity: label('severity:')
            }
          }
        ]
      })
    }
  } catch (error) {
    return {
      error: `the open alert issues could not be listed: ${String(error instanceof Error ? error.message : error)}`
    }
  }
}

function failureOf(policyFile: string, error: unknown, feature?: string): FeatureFailure {
  if (error instanceof PhasegateError) {
    const where = error.location
      ? [error.location.file, error.location.line, error.location.col].filter(Boolean).join(':')
      : ''
    return {
      policyFile,
      ...(feature ? { feature } : {}),
      message: where ? `${where}: ${error.message}` : error.message,
      ...(error.hint ? { hint: error.hint } : {})
    }
  }
  throw error
}

async function evaluateFeature(
  rollout: Rollout,
  newestFirst: HistoryEntry[],
  heartbeats: HeartbeatEntries,
  options: DashboardOptions,
  env: Record<string, string | undefined>
): Promise<FeatureView> {
  const { policy } = rollout
  const state = currentState(rollout, options.now)
  const datafile = staleDatafile(rollout, options.now)
  const history = [...newestFirst].reverse()
  const since = history[0] ? options.now.getTime() - Date.parse(history[0].at) : 0
  const rangeMs = Math.min(MAX_SERIES_MS, Math.max(MIN_SERIES_MS, since))
  const [observations, readings, experiments] = await Promise.all([
    observe(rollout, state, {
      now: options.now,
      approvals: [],
      checks: [],
      env,
      transitions: newestFirst,
      ...(options.metricsFile ? { metricsFile: options.metricsFile } : {})
    }),
    readSeries(rollout, state, rangeMs, options, env),
    Promise.all(
      policy.experiments
        .filter(e => e.enabled)
        .map(async (experiment): Promise<ExperimentView> => {
          try {
            const analysis = await analyzeRolloutExperiment(rollout, experiment, {
              now: options.now,
              env,
              ...(options.metricsFile ? { metricsFile: options.metricsFile } : {})
            })
            return { name: experiment.name, analysis }
          } catch (error) {
            return { name: experiment.name, error: failureOf('', error).message }
          }
        })
    )
  ])
  return {
    feature: policy.feature,
    policyFile: relativeTo(rollout.root, rollout.policyFile),
    policy,
    state,
    started: rollout.state !== null,
    history,
    decision: decide(policy, state, observations, options.now),
    exposure: inForce(rollout, options.now).exposure,
    readings,
    experiments,
    heartbeat: assessHeartbeat(
      heartbeats.get(policy.feature),
      scheduleIntervalOf(policy),
      options.now
    ),
    ...(rollout.lost ? { lost: lostStateError(rollout).format() } : {}),
    ...(datafile ? { datafile } : {})
  }
}

/** Every metric the policy names: gates, alerts, triggers, trends, all phases' criteria. */
export function dashboardMetrics(policy: Policy, state: State): string[] {
  const names = new Set(requiredReadings(policy, state).map(r => r.metric))
  for (const phase of policy.phases) Object.keys(phase.successCriteria).forEach(m => names.add(m))
  for (const rule of policy.alerts) names.add(rule.metric)
  for (const t of policy.triggers) if (t.kind === 'metric') names.add(t.metric)
  names.delete('system_failure')
  return [...names]
}

async function readSeries(
  rollout: Rollout,
  state: State,
  rangeMs: number,
  options: DashboardOptions,
  env: Record<string, string | undefined>
): Promise<MetricReading[]> {
  const { policy } = rollout
  const provider = createProvider(metricsConfigFor(policy, options.metricsFile))
  return provider.read(
    dashboardMetrics(policy, state).map(metric => ({ metric, rangeMs })),
    {
      feature: policy.feature,
      phase: state.phase,
      now: options.now,
      baseDir: rollout.root,
      window: policy.metrics.window ?? DEFAULT_WINDOW,
      env
    }
  )
}

interface ListedIssue {
  number: number
  title: string
  html_url: string
  created_at: string
  labels: Array<string | { name?: string }>
  pull_request?: unknown
}

/**
 * The repository's open issues labelled `phasegate` (alert issues), every page, with GitHub's
 * REST API (GET /repos/{owner}/{repo}/issues) through plain fetch: the CLI carries no GitHub
 * client (that is the action's, in dist/). Throws on a non-2xx answer.
 */
async function listOpenAlertIssues(
  apiUrl: string,
  token: string,
  repository: string
): Promise<
  Array<{ number: number; title: string; url: string; createdAt: string; labels: string[] }>
> {
  const issues: ListedIssue[] = []
  let url: string | undefined =
    `${apiUrl.replace(/\/$/, '')}/repos/${repository}/issues?state=open&labels=phasegate&per_page=100`
  for (let page = 0; url && page < 100; page++) {
    const response: Response = await fetch(url, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'phasegate-dashboard'
      },
      signal: AbortSignal.timeout(30_000)
    })
    if (!response.ok) throw new Error(`GitHub answered ${response.status} ${response.statusText}`)
    issues.push(...((await response.json()) as ListedIssue[]))
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1]
  }
  // The issues API lists pull requests too.
  return issues
    .filter(issue => !issue.pull_request)
    .map(issue => ({
      number: issue.number,
      title: issue.title,
      url: issue.html_url,
      createdAt: issue.created_at,
      labels: issue.labels.map(label => (typeof label === 'string' ? label : (label.name ?? '')))
    }))
}
