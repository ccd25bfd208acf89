import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  checkout,
  HEALTHY,
  hoursAfter,
  seedFiles,
  startRepo,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// The git work of a scheduled tick that changes nothing (issue 17 item 5; bench/startup.bench.ts
// times it): each git process costs a fork and exec on the runner, so reads that one process can
// answer are asked together, and facts that cannot change within a run are asked once.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

/**
 * The git commands the action itself started, from GIT_TRACE: git's own children (remote-http,
 * send-pack, pack-objects, rev-list, maintenance) are left out, object ids are replaced by <sha>.
 */
function ownGitCommands(trace: string): string[] {
  const lines = readFileSync(trace, 'utf8').split('\n')
  const children = new Set(
    lines.flatMap(l => /trace: run_command: (?:GIT_DIR=\S+ )?git (.*)$/.exec(l)?.slice(1) ?? [])
  )
  return lines
    .flatMap(l => /trace: built-in: git (.*)$/.exec(l)?.slice(1) ?? [])
    .filter(command => !children.has(command))
    .map(command => command.replace(/\b[0-9a-f]{40}\b/g, '<sha>').replace(/'[^']*'/g, "'…'"))
    .sort()
}

describe('a quiet scheduled tick', () => {
  test('asks git each fact once: the default branch, one sync, the landing commit, the heartbeat record', async () => {
    const repo = await startRepo({ files: seedFiles(undefined, 'canary') })
    repos.push(repo)
    // The first tick records the first heartbeat; the second, in a fresh checkout (as each
    // workflow run has), finds it and replaces it.
    const first = await checkout(repo.gh)
    writeMetrics(first, HEALTHY)
    expect((await runPhasegateFromSource(repo.gh, first, { now: hoursAfter(4) })).exitCode).toBe(0)
    const workspace = await checkout(repo.gh)
    writeMetrics(workspace, HEALTHY)
    const trace = join(tmpdir(), `phasegate-tick-trace-${process.pid}`)
    rmSync(trace, { force: true })
    const quiet = await runPhasegateFromSource(repo.gh, workspace, {
      now: hoursAfter(5),
      env: { GIT_TRACE: trace }
    })
    expect(quiet.exitCode, quiet.summary).toBe(0)
    expect(quiet.summary).toContain('hold')
    const commands = ownGitCommands(trace)
    rmSync(trace, { force: true })
    expect(commands).toEqual(
      [
        'ls-remote --symref origin HEAD',
        // Whether the clone is shallow: read from the file system too (git/discover.ts).
        'fetch -q origin +refs/heads/main:refs/remotes/origin/main',
        'checkout -q -B main refs/remotes/origin/main',
        // No rev-parse for the work tree's root: it is read from the file system (git/discover.ts).
        "log -1 --first-parent '…' -- .phasegate/state/production_deployment.yaml",
        // The record's tip and its file, and when the default branch last changed (the 60-day
        // warning of a scheduled run), in one process; then the new record's objects and push.
        'cat-file --batch',
        'hash-object -w --stdin',
        'mktree',
        "commit-tree <sha> -m '…'",
        'push -q --force-with-lease=refs/heads/phasegate-heartbeat:<sha> origin <sha>:refs/heads/phasegate-heartbeat',
        // No HEAD: no feature failed, so none is reported at it.
        'update-ref refs/remotes/origin/phasegate-heartbeat <sha>'
      ].sort()
    )
  })
})
