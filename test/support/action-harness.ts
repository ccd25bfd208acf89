import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { stringify } from 'yaml'
import { cloneEmulated, runGit } from './github-emulator/git-client.js'
import {
  startGitHubEmulator,
  type GitHubEmulator,
  type GitHubEmulatorOptions
} from './github-emulator/index.js'
import { seedPolicy, SEED_POLICY_TEXT } from './policies.js'
import { initialState, renderState } from '../../src/state/file.js'
import { parsePolicyText } from '../../src/policy/load.js'

// Runs the bundled action the way the GitHub runner does: `node dist/index.js` in a child process
// with INPUT_* (hyphens kept) and GITHUB_* variables, an event payload file, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, and GITHUB_WORKSPACE a real clone of the emulated repository whose
// credentials are kept in its git config, as actions/checkout keeps them.

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
export function seedFiles(policyText = SEED_POLICY_TEXT): Record<string, string> {
  const policy =
    policyText === SEED_POLICY_TEXT ? seedPolicy() : parsePolicyText(policyText, 'p.yaml')
  return {
    'README.md': '# shop\n',
    '.gitignore': '.phasegate/metrics/\n',
    [`policies/${policy.feature}.yaml`]: policyText,
    [policy.statePath]: renderState(initialState(policy, T0))
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
      { login: BOT, type: 'Bot' },
      { login: 'alice' },
      { login: 'bob' },
      { login: 'carol' },
      { login: 'mallory' },
      { login: 'dependabot[bot]', type: 'Bot' }
    ],
    teams: { engineering: ['alice', 'bob'], sre: ['carol'] },
    files: seedFiles(),
    ...options
  })
  const dirs: string[] = []
  return {
    gh,
    cleanup: async () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
      await gh.close()
    }
  }
}

/** A runner's checkout: a clone whose git config carries the token, like actions/checkout. */
export async function checkout(gh: GitHubEmulator, login = BOT): Promise<string> {
  const dir = await cloneEmulated(gh, login)
  await runGit(dir, ['config', 'http.extraHeader', gh.gitAuthHeader(login)])
  return dir
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

export interface ActionRun {
  code: number
  stdout: string
  outputs: Record<string, string>
  summary: string
  /** API requests the run made. */
  requests: number
}

export interface RunOptions {
  inputs?: Record<string, string>
  event?: string
  payload?: unknown
  actor?: string
  now?: Date
  token?: string
}

export async function runAction(
  gh: GitHubEmulator,
  workspace: string,
  options: RunOptions = {}
): Promise<ActionRun> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run bundle`)
  const scratch = mkdtempSync(join(tmpdir(), 'phasegate-runner-'))
  const eventPath = join(scratch, 'event.json')
  const outputPath = join(scratch, 'output')
  const summaryPath = join(scratch, 'summary.md')
  writeFileSync(eventPath, JSON.stringify(options.payload ?? {}))
  writeFileSync(outputPath, '')
  writeFileSync(summaryPath, '')
  const inputs: Record<string, string> = {
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
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.event ?? 'schedule',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${gh.owner}/${gh.repo}`,
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_API_URL: gh.apiUrl,
    GITHUB_SERVER_URL: gh.apiUrl,
    GITHUB_RUN_ID: '1',
    GITHUB_ACTOR: options.actor ?? 'alice',
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]))
  }
  const before = gh.requestCount()
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [DIST], { cwd: workspace, env })
      let out = ''
      child.stdout.on('data', (c: Buffer) => (out += c.toString()))
      child.stderr.on('data', (c: Buffer) => (out += c.toString()))
      child.on('error', reject)
      child.on('close', c => resolve({ code: c ?? 1, stdout: out }))
    }
  )
  const result: ActionRun = {
    code,
    stdout,
    outputs: parseOutputs(readFileSync(outputPath, 'utf8')),
    summary: readFileSync(summaryPath, 'utf8'),
    requests: gh.requestCount() - before
  }
  rmSync(scratch, { recursive: true, force: true })
  return result
}

/** GITHUB_OUTPUT's heredoc format: name<<DELIMITER, value lines, DELIMITER. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!)
    if (!match) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i]!)
    outputs[match[1]!] = value.join('\n')
  }
  return outputs
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
export async function api(
  gh: GitHubEmulator,
  method: string,
  path: string,
  body?: unknown,
  login = 'bob'
): Promise<any> {
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
  return text ? JSON.parse(text) : undefined
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
        sha: gh.git.branchSha(pull.pull!.head),
        ref: pull.pull!.head,
        repo: { full_name: `${gh.owner}/${gh.repo}` }
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
  const combined = await api(gh, 'GET', `/commits/${sha}/status`)
  return combined.statuses
}
