import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BOT, type PhasegateRun, type RunOptions } from './action-harness.js'
import type { GitHubEmulator } from './github-emulator/index.js'
import { parseOutputFile, runnerEnv, runnerFiles } from './github-emulator/run-action.js'

// The action from its TypeScript sources, in this process: the same runner environment as
// runPhasegate gives dist/index.js, with @actions/core observed through what it writes (the job
// log on stdout, the output and job summary files) and process.exitCode (core.setFailed).
// A change in src/action shows here without `npm run bundle`.

// @actions/core remembers the job summary's path from its first write, so every run in this
// process uses one runner directory (runnerEnv empties its files before each run).
const RUNNER_TEMP = mkdtempSync(join(tmpdir(), 'phasegate-runner-src-'))

/** Runs src/main.ts's run() with phasegate's inputs, as runPhasegate runs the bundle. */
export async function runPhasegateFromSource(
  gh: GitHubEmulator,
  workspace: string,
  options: RunOptions = {}
): Promise<PhasegateRun> {
  const env = await runnerEnv(
    {
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
    },
    RUNNER_TEMP
  )
  const saved = { ...process.env }
  const log: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  const before = gh.requestCount()
  for (const key of Object.keys(process.env)) delete process.env[key]
  Object.assign(process.env, env)
  process.stdout.write = ((chunk: string | Uint8Array) => {
    log.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return true
  }) as typeof process.stdout.write
  process.exitCode = undefined
  try {
    const { run } = await import('../../src/main.js')
    await run()
  } finally {
    process.stdout.write = write
    for (const key of Object.keys(process.env)) delete process.env[key]
    Object.assign(process.env, saved)
  }
  const exitCode = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  const files = runnerFiles(RUNNER_TEMP)
  const stdout = log.join('')
  return {
    exitCode,
    stdout,
    stderr: '',
    outputs: parseOutputFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    requests: gh.requestCount() - before
  }
}
