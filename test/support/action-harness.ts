import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { stringify } from 'yaml'
import { checkoutWorkspace, runAction, type ActionRun } from './github-emulator/run-action.js'
import {
  startGitHubEmulator,
  type GitHubEmulator,
  type GitHubEmulatorOptions
} from './github-emulator/index.js'
import { seedPolicy, SEED_POLICY_TEXT } from './policies.js'
import { initialState, renderState } from '../../src/state/file.js'
import { parsePolicyText } from '../../src/policy/load.js'
import type { State } from '../../src/engine/types.js'

// phasegate's end-to-end fixtures: the seed repository on the emulator, a runner's checkout, and
// the bundled action run by the emulator's runner (run-action.ts) with phasegate's inputs.

export const DIST = new URL('../../dist/index.js', import.meta.url).pathname
export const BOT = 'github-actions[bot]'
export const FEATURE = 'production_deployment'
export const STATE_PATH = `.phasegate/state/${FEATURE}.yaml`
export const T0 = new Date(Date.now() - 60_000)
export const hoursAfter = (hours: number) => new Date(T0.getTime() + hours * 3_600_000)

export const HEALTHY = {
  error_rate: 0.0005,
  performance_degradation: 0.01,
  user_satisfaction: 0.995,
  response_time: 800,
  system_failure: 0
}
export const SPIKE = { ...HEALTHY, error_rate: 0.05 }

/** The seed policy's repository with its rollout started at T0 (the `phasegate init` commit). */
export function seedFiles(policyText = SEED_POLICY_TEXT, phase?: string): Record<string, string> {
  const policy =
    policyText === SEED_POLICY_TEXT ? seedPolicy() : parsePolicyText(policyText, 'p.yaml')
  return {
    'README.md': '# shop\n',
    '.gitignore': '.phasegate/metrics/\n',
    [`policies/${policy.feature}.yaml`]: policyText,
    [policy.statePath]: renderState({ ...initialState(policy, T0), ...(phase ? { phase } : {}) })
  }
}

export interface Repo {
  gh: GitHubEmulator
  cleanup: () => Promise<void>
}

export async function startRepo(options: Partial<GitHubEmulatorOptions> = {}): Promise<Repo> {
  const gh = await startGitHubEmulator({
    owner: 'acme',
    repo: 'shop',
    users: [
      { login: BOT, type: 'Bot', permission: 'write' },
      { login: 'alice', permission: 'write' },
      { login: 'bob', permission: 'write' },
      { login: 'carol', permission: 'write' },
      { login: 'mallory', permission: 'read' },
      { login: 'dependabot[bot]', type: 'Bot' }
    ],
    teams: { engineering: ['alice', 'bob'], sre: ['carol'] },
    files: seedFiles(),
    ...options
  })
  return { gh, cleanup: () => gh.close() }
}

/** A runner's checkout: a clone whose git config carries the token, like actions/checkout. */
export function checkout(gh: GitHubEmulator, login = BOT): Promise<string> {
  return checkoutWorkspace(gh, login)
}

export function writeMetrics(
  workspace: string,
  values: Record<string, unknown> | null,
  feature = FEATURE
): void {
  const file = join(workspace, '.phasegate', 'metrics', `${feature}.yaml`)
  if (values === null) {
    rmSync(file, { force: true })
    return
  }
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, stringify(values))
}

export interface PhasegateRun extends ActionRun {
  /** API requests the run made. */
  requests: number
}

export interface RunOptions {
  inputs?: Record<string, string>
  event?: string
  payload?: Record<string, unknown>
  actor?: string
  now?: Date
  token?: string
  /** Extra variables for the action's process (GIT_TRACE, ...). */
  env?: Record<string, string>
}

/** `node dist/index.js` with phasegate's inputs, as a workflow step `uses: phasegate@v1` runs it. */
export async function runPhasegate(
  gh: GitHubEmulator,
  workspace: string,
  options: RunOptions = {}
): Promise<PhasegateRun> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run bundle`)
  const before = gh.requestCount()
  const run = await runAction({
    entry: DIST,
    gh,
    workspace,
    event: {
      name: options.event ?? 'schedule',
      ...(options.payload ? { payload: options.payload } : {})
    },
    actor: options.actor ?? 'alice',
    inputs: {
      command: 'tick',
      policies: '',
      feature: '',
      'github-token': options.token ?? gh.tokenFor(BOT),
      'github-api-url': '',
      'dry-run': 'false',
      reason: '',
      mode: 'emergency',
      now: (options.now ?? new Date()).toISOString(),
      ...options.inputs
    },
    ...(options.env ? { env: options.env } : {})
  })
  return { ...run, stdout: run.stdout + run.stderr, requests: gh.requestCount() - before }
}

/** A review through the API, as the reviewer would submit it in GitHub's UI. */
export async function approve(gh: GitHubEmulator, pull: number, login: string): Promise<void> {
  const response = await fetch(`${gh.apiUrl}/repos/${gh.owner}/${gh.repo}/pulls/${pull}/reviews`, {
    method: 'POST',
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${gh.tokenFor(login)}`,
      'content-type': 'application/json'
    },
    body: JSON.stringify({ event: 'APPROVE' })
  })
  if (response.status !== 200)
    throw new Error(`approve #${pull} as ${login}: ${response.status} ${await response.text()}`)
}

export function openPulls(gh: GitHubEmulator) {
  return gh.state.pulls().filter(p => p.state === 'open')
}

export function stateOnMain(gh: GitHubEmulator, path = STATE_PATH): string {
  return gh.readFile(gh.defaultBranch, path) ?? ''
}

export const CHECKOUT_POLICY = `feature: checkout
deployment:
  order: [canary, full]
  phases:
    canary:
      user_percentage: 5
      approvers: [alice, "@acme/sre"]
      success_criteria:
        error_rate: "< 0.01"
    full:
      user_percentage: 100
rollback:
  operators: [alice]
  automatic_triggers:
    - error_rate > 0.05
`

/** A REST call as `login`, answered exactly as the emulator answers (no client retries). */
export async function api<T = { number: number; state: string }>(
  gh: GitHubEmulator,
  method: string,
  path: string,
  body?: unknown,
  login = 'bob'
): Promise<T> {
  const response = await fetch(`${gh.apiUrl}/repos/${gh.owner}/${gh.repo}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${gh.tokenFor(login)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' })
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return (text ? JSON.parse(text) : undefined) as T
}

/** The pull_request event payload GitHub sends for pull request `number`. */
export function pullRequestEvent(gh: GitHubEmulator, number: number) {
  const pull = gh.state.issues.get(number)!
  return {
    action: 'synchronize',
    pull_request: {
      number,
      html_url: `${gh.apiUrl}/${gh.owner}/${gh.repo}/pull/${number}`,
      user: { login: pull.user },
      head: {
        sha: pull.pull!.headOwner ? pull.pull!.headSha : gh.git.branchSha(pull.pull!.head),
        ref: pull.pull!.head,
        repo: { full_name: `${pull.pull!.headOwner ?? gh.owner}/${gh.repo}` }
      },
      base: { ref: pull.pull!.base }
    },
    sender: { login: pull.user }
  }
}

/** The commit statuses set on `sha`, newest last. */
export async function statusesOf(
  gh: GitHubEmulator,
  sha: string
): Promise<Array<{ state: string; description: string; context: string }>> {
  const combined = await api<{
    statuses: Array<{ state: string; description: string; context: string }>
  }>(gh, 'GET', `/commits/${sha}/status`)
  return combined.statuses
}

export const SEARCH_POLICY = `feature: search
deployment:
  order: [canary, limited, full]
  phases:
    canary: { user_percentage: 5 }
    limited:
      user_percentage: 25
      success_criteria: { error_rate: "< 0.01" }
    full: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - error_rate > 0.05
`

/** The search policy's repository with the rollout already in `phase`. */
export function searchFiles(phase = 'limited'): Record<string, string> {
  return searchRepoFiles(SEARCH_POLICY, { phase })
}

/**
 * A search rollout's repository: `policyText` (a variant of SEARCH_POLICY, feature search) as
 * policies/search.yaml, and its state started at T0 with `state` written over it.
 */
export function searchRepoFiles(policyText: string, state: Partial<State>): Record<string, string> {
  const policy = parsePolicyText(policyText, 'search.yaml')
  return {
    '.gitignore': '.phasegate/metrics/\n',
    'policies/search.yaml': policyText,
    [policy.statePath]: renderState({ ...initialState(policy, T0), ...state })
  }
}

/**
 * Starts a repository with `files` (and any other emulator `options`, as startRepo) on the
 * emulator, adds it to `repos` (the list the test file closes after each test) and checks it out
 * as the bot. Returns the emulator and the workspace.
 */
export async function startCheckedOut(
  repos: Repo[],
  files: Record<string, string>,
  options: Partial<GitHubEmulatorOptions> = {}
): Promise<{ gh: GitHubEmulator; workspace: string }> {
  const repo = await startRepo({ files, ...options })
  repos.push(repo)
  return { gh: repo.gh, workspace: await checkout(repo.gh) }
}

/**
 * A search rollout's repository (searchRepoFiles) started and checked out (startCheckedOut).
 * Returns the emulator, the runner's workspace and the state file's path in the repository.
 */
export async function startSearchRepo(
  repos: Repo[],
  policyText: string,
  state: Partial<State>
): Promise<{ gh: GitHubEmulator; workspace: string; statePath: string }> {
  const { statePath } = parsePolicyText(policyText, 'search.yaml')
  return { ...(await startCheckedOut(repos, searchRepoFiles(policyText, state))), statePath }
}
