// A git client for tests, talking to the emulator over smart HTTP like the action's git does.
// Asynchronous on purpose: the emulator serves git from this same process, so a synchronous
// child process would block the server it is waiting for.

import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { GitHubEmulator } from './index.js'

const execFileAsync = promisify(execFile)

export interface GitResult {
  stdout: string
  stderr: string
}

export async function runGit(cwd: string, args: string[], authHeader?: string): Promise<GitResult> {
  const auth = authHeader ? ['-c', `http.extraHeader=${authHeader}`] : []
  const { stdout, stderr } = await execFileAsync('git', [...auth, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test Person',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test Person',
      GIT_COMMITTER_EMAIL: 'test@example.com'
    }
  })
  return { stdout: stdout.trim(), stderr: stderr.trim() }
}

/** Clones the emulated repository into a fresh directory, authenticated as `login`. */
export async function cloneEmulated(gh: GitHubEmulator, login?: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'phasegate-clone-'))
  await runGit(dir, ['clone', '--quiet', gh.gitUrl, '.'], gh.gitAuthHeader(login))
  return dir
}
