// Runs a JavaScript action as a process the way the GitHub Actions runner does, against the
// emulator: a workspace checked out like actions/checkout leaves it, INPUT_* and GITHUB_*
// variables, an event payload file, and the runner's output and job summary files.

import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cloneEmulated, runGit } from './git-client.js'
import type { GitHubEmulator } from './index.js'

/**
 * Clones the repository and leaves credentials in the clone's config as actions/checkout does
 * (persist-credentials), so the action's own `git push` authenticates without further setup.
 */
export async function checkoutWorkspace(gh: GitHubEmulator, login?: string): Promise<string> {
  const workspace = await cloneEmulated(gh, login)
  const origin = new URL(gh.gitUrl).origin
  const header = gh.gitAuthHeader(login).replace(/^Authorization: /, 'AUTHORIZATION: ')
  await runGit(workspace, ['config', '--local', `http.${origin}/.extraheader`, header])
  return workspace
}

export interface ActionRunOptions {
  /** The script the runner would start, e.g. dist/index.js. */
  entry: string
  gh: GitHubEmulator
  workspace: string
  /** Inputs by their action.yml names (`github-token`, `dry-run`, ...). */
  inputs?: Record<string, string>
  /** The triggering event: its name (schedule, workflow_dispatch, ...) and webhook payload. */
  event: { name: string; payload?: Record<string, unknown> }
  /** The login that triggered the run (GITHUB_ACTOR). */
  actor?: string
  /** Extra variables, e.g. a fixed clock for the action under test. */
  env?: Record<string, string>
}

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** Reads the runner's GITHUB_OUTPUT file: `name<<DELIMITER` blocks and `name=value` lines. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name = '', delimiter] = heredoc
      const value: string[] = []
      while (index + 1 < lines.length && lines[index + 1] !== delimiter) value.push(lines[++index]!)
      index++
      outputs[name] = value.join('\n')
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return outputs
}

/** The runner's files for one step (event payload, outputs, job summary ...), under `runnerTemp`. */
export function runnerFiles(runnerTemp: string) {
  return {
    GITHUB_EVENT_PATH: join(runnerTemp, 'event.json'),
    GITHUB_OUTPUT: join(runnerTemp, 'output'),
    GITHUB_STEP_SUMMARY: join(runnerTemp, 'summary.md'),
    GITHUB_ENV: join(runnerTemp, 'env'),
    GITHUB_PATH: join(runnerTemp, 'path'),
    GITHUB_STATE: join(runnerTemp, 'state')
  }
}

/**
 * The environment the runner gives a step: INPUT_* and GITHUB_* variables, with the runner's
 * files (written empty, the event payload filled in) under `runnerTemp`.
 */
export async function runnerEnv(
  options: Omit<ActionRunOptions, 'entry'>,
  runnerTemp: string
): Promise<Record<string, string | undefined>> {
  const { gh, workspace } = options
  const files = runnerFiles(runnerTemp)
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(options.event.payload ?? {}))
  for (const file of Object.values(files).slice(1)) writeFileSync(file, '')
  const sha = (await runGit(workspace, ['rev-parse', 'HEAD'])).stdout
  const inputs = Object.fromEntries(
    Object.entries(options.inputs ?? {}).map(([name, value]) => [
      `INPUT_${name.replace(/ /g, '_').toUpperCase()}`,
      value
    ])
  )
  const server = new URL(gh.apiUrl).origin
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_API_URL: gh.apiUrl,
    GITHUB_SERVER_URL: server,
    GITHUB_GRAPHQL_URL: `${gh.apiUrl}/graphql`,
    GITHUB_REPOSITORY: `${gh.owner}/${gh.repo}`,
    GITHUB_REPOSITORY_OWNER: gh.owner,
    GITHUB_EVENT_NAME: options.event.name,
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: sha,
    GITHUB_REF: `refs/heads/${gh.defaultBranch}`,
    GITHUB_REF_NAME: gh.defaultBranch,
    GITHUB_ACTOR: options.actor ?? gh.owner,
    GITHUB_WORKFLOW: 'phasegate',
    GITHUB_JOB: 'phasegate',
    GITHUB_RUN_ID: String(gh.state.nextId('action run') + 9_000_000),
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: '1',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: runnerTemp,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    ...files,
    ...inputs,
    ...options.env
  }
}

export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const { workspace } = options
  const runnerTemp = mkdtempSync(join(tmpdir(), 'phasegate-runner-'))
  try {
    const files = runnerFiles(runnerTemp)
    const env = await runnerEnv(options, runnerTemp)
    const { exitCode, stdout, stderr } = await new Promise<{
      exitCode: number
      stdout: string
      stderr: string
    }>(resolve => {
      execFile(
        process.execPath,
        [options.entry],
        { cwd: workspace, env, maxBuffer: 64 * 1024 * 1024 },
        (error, out, err) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
          resolve({ exitCode: code, stdout: out, stderr: err })
        }
      )
    })
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseOutputFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8')
    }
  } finally {
    rmSync(runnerTemp, { recursive: true, force: true })
  }
}
