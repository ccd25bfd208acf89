import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { HEALTHY, seedFiles } from '../support/action-harness.js'
import { removeTempRepos, tempRepo, writeMetrics } from '../support/repo.js'

// Start-up work a no-op command must not do (issue 17 item 5; bench/startup.bench.ts times it):
// these hold the measured savings in place without timing anything.

const ROOT = new URL('../../', import.meta.url).pathname
const BIN = join(ROOT, 'bin/phasegate.js')
const BUNDLE = join(ROOT, 'lib/bundle')

afterAll(removeTempRepos)

/** The git processes a CLI run started, from GIT_TRACE's "built-in: git ..." lines. */
function gitCommands(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const trace = join(tmpdir(), `phasegate-startup-trace-${process.pid}`)
  rmSync(trace, { force: true })
  execFileSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, ...env, GIT_TRACE: trace }
  })
  // git writes the file; no git process, no file.
  const lines = existsSync(trace) ? readFileSync(trace, 'utf8').split('\n') : []
  rmSync(trace, { force: true })
  return lines.filter(l => /trace: (built-in|exec): git /.test(l)).map(l => l.split('git ')[1]!)
}

/** Every bundle file a module loads before running (static imports, transitively). */
function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  const text = readFileSync(join(BUNDLE, file), 'utf8')
  for (const [, dep] of text.matchAll(/^(?:import|\} from|export \* from) ?.*?"\.\/([^"]+)";?$/gm))
    staticGraph(dep!, seen)
  return seen
}

describe('start-up work', () => {
  it('status and tick --dry-run on the file provider start no git process', () => {
    // The repository's root comes from the file system (git/discover.ts) where git's answer
    // cannot differ; a repository that needs git's judgement still asks git.
    const repo = tempRepo(seedFiles())
    writeMetrics(repo, HEALTHY)
    for (const args of [['status'], ['tick', '--dry-run']])
      expect(gitCommands(repo, args)).toEqual([])
    expect(gitCommands(repo, ['status'], { GIT_CEILING_DIRECTORIES: '/nowhere' })).toEqual([
      'rev-parse --path-format=absolute --show-toplevel --git-common-dir'
    ])
  })

  it('--approved-by still asks git who runs phasegate, so the runner cannot approve', () => {
    const repo = tempRepo(seedFiles())
    writeMetrics(repo, HEALTHY)
    const calls = gitCommands(repo, ['status', '--approved-by', 'alice'])
    expect(calls).toContain('config --get user.name')
    expect(calls).toContain('config --get user.email')
  })

  it("the bundle carries zod's English messages only, not its 60 locales", () => {
    // `import { z } from 'zod'` (zod's namespace re-exported) kept every locale: 550 KB that
    // every command loaded. `import * as z from 'zod'` lets the bundler keep what is used.
    const locales = readdirSync(BUNDLE).flatMap(file => [
      ...readFileSync(join(BUNDLE, file), 'utf8').matchAll(
        /^\/\/ node_modules\/zod\/v4\/locales\/(.*)$/gm
      )
    ])
    expect(locales.map(match => match[1])).toEqual(['en.js'])
  })

  it("the CLI's front door (--help, --version, usage errors) loads neither zod, yaml nor luxon", () => {
    const files = [...staticGraph('cli.js')]
    const text = files.map(f => readFileSync(join(BUNDLE, f), 'utf8')).join('\n')
    expect(text).not.toMatch(/\/\/ node_modules\/(zod|yaml|luxon)\//)
  })
})
