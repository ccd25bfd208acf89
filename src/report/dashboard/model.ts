import type { Decision, MetricReading, Policy, State } from '../../engine/types.js'
import type { ExperimentAnalysis } from '../../experiments/analysis.js'
import type { HistoryRead } from '../../git/history-cache.js'
import type { HistoryEntry, SkippedCommit } from '../../git/transitions.js'
import type { Heartbeat } from '../../engine/heartbeat.js'
import type { Exposure } from '../../engine/exposure.js'
import type { DatafileDrift } from '../../rollout/datafile.js'

// What the dashboard shows, gathered once (src/commands/dashboard.ts) and rendered by pure
// functions (render.ts), so the pages can be tested from data without git or a metrics source.

/** One experiment's analysis, or why there is none (its results could not be read). */
export interface ExperimentView {
  name: string
  analysis?: ExperimentAnalysis
  error?: string
}

/** A feature that could be evaluated: everything its page shows. */
export interface FeatureView {
  feature: string
  /** The policy file, relative to the repository root. */
  policyFile: string
  policy: Policy
  /** The state as written, or the first phase when the rollout has not started. */
  state: State
  started: boolean
  /** This feature's transitions, oldest first. */
  history: HistoryEntry[]
  /** Its datafile refreshes (not transitions, each with the share it put in force), when read. */
  refreshes?: SkippedCommit[]
  /** What `tick` would decide now (gates, alerts, triggers). */
  decision: Decision
  /**
   * What the feature exposes now, the one answer every surface gives (rollout/exposure-raise.ts
   * exposureInForce: not started, kill switch, a disabled phase, a raise waiting for a freeze
   * window or a pause).
   */
  exposure: Exposure
  /** Current values of every metric the policy names, with range data where the provider has it. */
  readings: MetricReading[]
  experiments: ExperimentView[]
  /** Its open alert issues on GitHub (label phasegate:<feature>); unset when GitHub was not asked. */
  issues?: AlertIssueView[]
  /**
   * The action's last evaluation (heartbeat record, as fetched into the clone) judged at build
   * time; unset only for models built without reading one.
   */
  heartbeat?: Heartbeat
  /**
   * Set when the state file is missing though the history has transitions (status: STATE FILE
   * LOST; `state.lost` is set too): rollout/load.ts lostStateError, formatted with how to restore it.
   */
  lost?: string
  /**
   * How the committed datafile differs from what the feature exposes (status: DATAFILE STALE),
   * rollout/datafile.ts staleDatafile; unset when it agrees or only holds back a raise that waits.
   */
  datafile?: DatafileDrift
}

/** An open alert issue, as the alerts panel lists it. */
export interface AlertIssueView {
  number: number
  title: string
  url: string
  /** ISO-8601 instant it was opened. */
  createdAt: string
  /** From its labels `alert:<type>` and `severity:<level>`; '' when it has none. */
  alert: string
  severity: string
}

/** A policy that could not be loaded or evaluated: shown as an error card, the rest builds. */
export interface FeatureFailure {
  policyFile: string
  /** Known when the policy itself loaded and a later step failed. */
  feature?: string
  message: string
  hint?: string
}

export interface DashboardModel {
  /** ISO-8601 instant the metrics and decisions were evaluated at. */
  generatedAt: string
  /** The repository's web address (https://github.com/owner/name), when it could be derived. */
  repositoryUrl?: string
  /** The commit the dashboard was built from. */
  head?: string
  /** How the audit trail was read: from git whole, or from the history cache and newer commits. */
  historyRead?: HistoryRead
  /**
   * The repository is a shallow clone: the audit trail holds only the commits it has, so older
   * transitions (all of them, for a rollout started before the cut) may be missing.
   */
  historyShallow?: boolean
  features: FeatureView[]
  failures: FeatureFailure[]
  /** Why the open alert issues could not be listed, when GitHub was asked and did not answer. */
  issuesError?: string
}

/** The web page of a commit, or undefined when the repository's address is unknown. */
export function commitUrl(
  model: Pick<DashboardModel, 'repositoryUrl'>,
  sha: string
): string | undefined {
  return model.repositoryUrl ? `${model.repositoryUrl}/commit/${sha}` : undefined
}

/**
 * "owner/repo" from a remote's path: git accepts slashes around it and a ".git" in any case
 * ("/acme/shop.git/", "acme/shop.GIT"); undefined when it has no owner part.
 */
function repositoryPath(path: string): string | undefined {
  const trimmed = path
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '')
  return trimmed.includes('/') ? trimmed : undefined
}

/**
 * The repository's web address from the Actions environment (GITHUB_SERVER_URL + GITHUB_REPOSITORY)
 * or from the origin remote's URL (https, ssh or scp-like); undefined when neither says.
 * Credentials, an ssh port, a query and a fragment in a remote URL are dropped.
 */
export function repositoryUrlFrom(
  env: Record<string, string | undefined>,
  originUrl: string | undefined
): string | undefined {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY) {
    return `${env.GITHUB_SERVER_URL.replace(/\/+$/, '')}/${env.GITHUB_REPOSITORY}`
  }
  if (!originUrl) return undefined
  const url = originUrl.trim()
  const scp = /^(?:[^@/]+@)?([^:/]{2,}):([^?#]+)/.exec(url)
  if (!url.includes('://')) {
    const path = scp ? repositoryPath(scp[2]!) : undefined
    return scp && path ? `https://${scp[1]}/${path}` : undefined
  }
  try {
    const parsed = new URL(url)
    if (!['https:', 'http:', 'ssh:', 'git:'].includes(parsed.protocol)) return undefined
    const path = repositoryPath(parsed.pathname)
    if (!path) return undefined
    // An ssh remote's port is sshd's, not the web server's.
    const host = parsed.protocol.startsWith('http') ? parsed.host : parsed.hostname
    return `${parsed.protocol === 'http:' ? 'http' : 'https'}://${host}/${path}`
  } catch {
    return undefined
  }
}
