import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { stringify } from 'yaml'
import { main } from '../../src/cli.js'
import { readHistory, transitionsOf, type HistoryEntry } from '../../src/git/transitions.js'
import { SEED_POLICY_PATH } from './policies.js'

export function sh(cwd: string, cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }
  }).trim()
}

const created: string[] = []

/** Removes the repositories tempRepo made (vitest's setup file calls it after each test file). */
export function removeTempRepos(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A real git repository holding the seed policy (or `files`), committed. */
export function tempRepo(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'phasegate-test-'))
  created.push(dir)
  sh(dir, 'git', 'init', '-q', '-b', 'main')
  sh(dir, 'git', 'config', 'user.name', 'Test User')
  sh(dir, 'git', 'config', 'user.email', 'test@example.com')
  if (Object.keys(files).length === 0) {
    mkdirSync(join(dir, 'policies'))
    copyFileSync(SEED_POLICY_PATH, join(dir, 'policies', 'production_deployment.yaml'))
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  writeFileSync(join(dir, '.gitignore'), '.phasegate/metrics/\n')
  sh(dir, 'git', 'add', '-A')
  sh(dir, 'git', 'commit', '-q', '-m', 'baseline')
  return dir
}

export function writeMetrics(
  dir: string,
  values: Record<string, unknown>,
  feature = 'production_deployment'
): void {
  mkdirSync(join(dir, '.phasegate', 'metrics'), { recursive: true })
  writeFileSync(join(dir, '.phasegate', 'metrics', `${feature}.yaml`), stringify(values))
}

export interface CliRun {
  code: number
  out: string
  err: string
}

/** Runs the CLI in-process against `dir`. */
export async function cli(dir: string, ...args: string[]): Promise<CliRun> {
  let out = ''
  let err = ''
  const code = await main([...args, '-C', dir], {
    out: t => (out += t.endsWith('\n') ? t : t + '\n'),
    err: t => (err += t.endsWith('\n') ? t : t + '\n')
  })
  return { code, out, err }
}

/** The real transitions of one feature (default state path), newest first. */
export async function transitionsIn(
  dir: string,
  feature: string,
  statePath = `.phasegate/state/${feature}.yaml`
): Promise<HistoryEntry[]> {
  return transitionsOf(await readHistory(dir, [{ feature, statePath }]))
}
