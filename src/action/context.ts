import { readFileSync } from 'node:fs'
import * as core from '@actions/core'
import type { RepoRef } from '../github/client.js'
import { PhasegateError } from '../errors.js'
import { INSTANT_FORM, parseInstant } from '../engine/time.js'
import type { ResumeLift } from '../rollout/manual.js'
import { readSecretLines, warnSecretLines, whyUnset } from './secret-lines.js'

/** Everything a flow needs from the runner: inputs, the event, and where the repository is. */
export interface ActionContext {
  workspace: string
  repo: RepoRef
  eventName: string
  payload: EventPayload
  /** Who triggered the run: the dispatching user for workflow_dispatch. */
  actor: string
  apiUrl: string
  token: string
  now: Date
  dryRun: boolean
  policies: string[]
  /** Act on this feature only (input `feature`, or named by a repository_dispatch payload). */
  feature?: string
  reason: string
  mode: 'emergency' | 'graceful'
  /** resume: what it lifts (input `lift`); unset: whichever of the pause and the kill switch is in force. */
  lift?: ResumeLift
  /**
   * The environment metrics providers read credentials from: the process's, plus the
   * `metrics-secrets` input's NAME=value lines (masked in the log).
   */
  metricsEnv: Record<string, string | undefined>
  /**
   * Where notification targets' url_secret and signing_secret NAMEs are looked up: the process's
   * environment plus the `notification-secrets` input's NAME=value lines (masked in the log).
   * Unset: the process's environment.
   */
  notificationEnv?: Record<string, string | undefined>
  /** Why a NAME is missing from notificationEnv when the input had a malformed line for it. */
  notificationWhyUnset?: (name: string) => string | undefined
  /**
   * Set the `phasegate/heartbeat` commit status on the default branch after each tick (input
   * `heartbeat`): one more API request per run, whatever the number of features.
   */
  heartbeat?: boolean
  /** Record each landed transition as a GitHub deployment to `phasegate/<feature>` (input `deployments`). */
  deployments?: boolean
  /** The published dashboard's address (input `dashboard-url`): the job summary links to it. */
  dashboardUrl?: string
}

export interface EventPayload {
  sender?: { login?: string }
  repository?: { default_branch?: string }
  action?: string
  inputs?: Record<string, unknown>
  client_payload?: unknown
  pull_request?: {
    number: number
    html_url?: string
    user?: { login?: string } | null
    head: { sha: string; ref: string; repo?: { full_name?: string } | null }
    base: { ref: string }
  }
}

function readPayload(path: string | undefined): EventPayload {
  if (!path) return {}
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EventPayload
  } catch (error) {
    throw new PhasegateError(`cannot read the event payload ${path}: ${(error as Error).message}`)
  }
}

function parseNow(text: string): Date {
  if (!text) return new Date()
  const parsed = parseInstant(text)
  if ('reason' in parsed)
    throw new PhasegateError(`input now "${text}" is not a time: ${parsed.reason}`, {
      hint: `use ${INSTANT_FORM}, or leave it empty for the current time`
    })
  return parsed.date
}

/** The `lift` input: undefined when empty; anything but pause, kill-switch or both is an error. */
function parseLift(text: string): ResumeLift | undefined {
  if (!text) return undefined
  if (text === 'pause' || text === 'kill-switch' || text === 'both') return text
  throw new PhasegateError(`lift "${text}" is none of pause, kill-switch, both`, {
    hint: 'resume: pause lifts the pause, kill-switch turns the kill switch back on, both does both'
  })
}

/** A workflow_dispatch input wins over the action input of the same name. */
function dispatchInput(payload: EventPayload, name: string): string | undefined {
  const value = payload.inputs?.[name]
  return typeof value === 'string' && value.trim() ? value.trim() : undefined
}

/**
 * The `metrics-secrets` input: NAME=value lines that a policy's bearer_token_env, basic_auth and
 * headers refer to by NAME, as they would to the step's `env:`. Values are masked in the log and
 * never repeated in a message. An empty value (a secret that is not set, as in runs from forks)
 * leaves NAME unset, so a policy that needs it says which variable is missing when it reads. A
 * malformed line never throws (see secret-lines.ts): it is a warning, and the NAME it most likely
 * belongs to is left unset, so only the metrics that need it have no data.
 */
export function parseMetricsSecrets(text: string): Record<string, string> {
  const read = readSecretLines(text, 'metrics-secrets')
  warnSecretLines(read)
  return read.values
}

export function readContext(env: NodeJS.ProcessEnv = process.env): ActionContext {
  const repository = env.GITHUB_REPOSITORY ?? ''
  const [owner, repo] = repository.split('/')
  if (!owner || !repo)
    throw new PhasegateError(`GITHUB_REPOSITORY "${repository}" is not "owner/repo"`, {
      hint: 'phasegate runs as a step of a GitHub Actions workflow'
    })
  const token = core.getInput('github-token')
  if (!token)
    throw new PhasegateError('the github-token input is empty', {
      hint: 'pass github-token: ${{ secrets.GITHUB_TOKEN }} or a GitHub App token'
    })
  const payload = readPayload(env.GITHUB_EVENT_PATH)
  const mode = dispatchInput(payload, 'mode') ?? (core.getInput('mode') || 'emergency')
  if (mode !== 'emergency' && mode !== 'graceful')
    throw new PhasegateError(`mode "${mode}" is neither emergency nor graceful`, {
      hint: 'emergency turns the feature off and steps back at once; graceful opens a rollback PR'
    })
  const feature = dispatchInput(payload, 'feature') ?? core.getInput('feature')
  const lift = parseLift(dispatchInput(payload, 'lift') ?? core.getInput('lift'))
  const dashboardUrl = auxiliary(() => parseDashboardUrl(core.getInput('dashboard-url')), undefined)
  // Read, never refused here: a bad line fails only the notifications that need it, at the end.
  const notificationSecrets = readSecretLines(
    core.getInput('notification-secrets'),
    'notification-secrets'
  )
  warnSecretLines(notificationSecrets)
  return {
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    repo: { owner, repo },
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload,
    actor: payload.sender?.login ?? env.GITHUB_ACTOR ?? '',
    apiUrl: core.getInput('github-api-url') || env.GITHUB_API_URL || 'https://api.github.com',
    token,
    now: parseNow(core.getInput('now')),
    dryRun: core.getBooleanInput('dry-run'),
    policies: core
      .getMultilineInput('policies')
      .flatMap(line => line.split(','))
      .map(p => p.trim())
      .filter(Boolean),
    ...(feature ? { feature } : {}),
    reason: dispatchInput(payload, 'reason') ?? core.getInput('reason'),
    mode,
    ...(lift ? { lift } : {}),
    metricsEnv: { ...env, ...parseMetricsSecrets(core.getInput('metrics-secrets')) },
    notificationEnv: { ...env, ...notificationSecrets.values },
    notificationWhyUnset: name => whyUnset(notificationSecrets, name),
    deployments: switchInput('deployments'),
    ...(dashboardUrl ? { dashboardUrl } : {}),
    heartbeat: switchInput('heartbeat')
  }
}

/**
 * An auxiliary input (a link, a switch for deployments or the heartbeat) written wrong: a warning
 * naming it and `fallback`, never a failure before the run acts — a rollback must not wait for a
 * link in the summary.
 */
function auxiliary<T>(read: () => T, fallback: T): T {
  try {
    return read()
  } catch (error) {
    const message = error instanceof PhasegateError ? error.format() : (error as Error).message
    core.warning(`${message}; the run goes on without it`)
    return fallback
  }
}

/** A true/false input (YAML 1.2 core schema, as core.getBooleanInput reads it); empty is off. */
function switchInput(name: 'deployments' | 'heartbeat'): boolean {
  const text = core.getInput(name)
  if (text === '') return false
  return auxiliary(() => {
    if (/^(true|True|TRUE)$/.test(text)) return true
    if (/^(false|False|FALSE)$/.test(text)) return false
    throw new PhasegateError(`input ${name} "${text}" is neither true nor false`, {
      hint: `write ${name}: true or ${name}: false (off)`
    })
  }, false)
}

/**
 * The `dashboard-url` input: an absolute http(s) address, or undefined when empty. Anything else
 * throws (readContext turns it into a warning and no link: never a broken or unsafe link).
 */
export function parseDashboardUrl(text: string): string | undefined {
  const value = text.trim()
  if (!value) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw new PhasegateError(`input dashboard-url "${value}" is not an http(s) address`, {
      hint: 'the published dashboard, e.g. https://OWNER.github.io/REPO/ (see examples/workflows/phasegate-dashboard.yml), or leave it empty'
    })
  // Parentheses would end the markdown link early.
  return url.href.replace(/\(/g, '%28').replace(/\)/g, '%29')
}
