import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tickOnGitHub } from '../../src/action/tick-on-github.js'
import type { ActionContext } from '../../src/action/context.js'
import { createGitHubClient } from '../../src/github/client.js'
import { commitMessage } from '../../src/state/trailers.js'
import { cloneEmulated, runGit } from '../support/github-emulator/git-client.js'
import {
  BOT,
  checkout,
  FEATURE,
  HEALTHY as ACTION_HEALTHY,
  hoursAfter,
  startRepo,
  STATE_PATH,
  writeMetrics as writeActionMetrics,
  type Repo
} from '../support/action-harness.js'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

// A rollout whose history shows transitions but whose state file is gone has not "not started":
// it is an error for that feature, reported as off (enabled=false, 0%), and nothing is committed
// until a person restores the file or re-initialises the rollout on purpose.

const STATE = '.phasegate/state/production_deployment.yaml'

/** A rollout turned off by an emergency rollback, whose state file was then deleted. */
async function killedThenDeleted(): Promise<string> {
  const dir = tempRepo()
  writeMetrics(dir, HEALTHY)
  await cli(dir, 'init', '--now', at(0).toISOString())
  await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
  const killed = await cli(
    dir,
    'rollback',
    '--emergency',
    '--reason',
    'pager',
    '--operator',
    'olga',
    '--now',
    at(2).toISOString()
  )
  expect(killed.code, killed.err).toBe(0)
  sh(dir, 'git', 'rm', '-q', STATE)
  sh(dir, 'git', 'commit', '-qm', 'tidy up')
  return dir
}

describe('the CLI', () => {
  it('tick refuses to start the rollout again and commits nothing', async () => {
    const dir = await killedThenDeleted()
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(3).toISOString())
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/state file .* is missing, but its history has transitions/)
    expect(run.err).toMatch(/git checkout .* -- \.phasegate\/state\/production_deployment\.yaml/)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })

  it('status reports the feature off, and init re-initialises it on purpose', async () => {
    const dir = await killedThenDeleted()
    const status = await cli(dir, 'status', '--now', at(3).toISOString())
    expect(status.out).toContain('kill switch OFF (feature disabled)')
    const init = await cli(dir, 'init', '--now', at(4).toISOString())
    expect(init.code, init.err).toBe(0)
  })
})

let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

describe('the action', () => {
  it('reports the feature as failed and commits nothing', async () => {
    repo = await startRepo()
    const { gh } = repo
    const human = await cloneEmulated(gh, 'alice')
    // The rollout's history: its init commit (the emulator's seed commit carries no trailers).
    const started = commitMessage({
      feature: FEATURE,
      kind: 'init',
      from: 'development',
      to: 'development',
      reason: 'rollout starts',
      approvers: [],
      evidence: []
    })
    // A transition counts only from a commit that changes the state file (issue 10's rule), and
    // an init creates it: take the seeded file away, then commit it back as the rollout's init.
    const seeded = readFileSync(join(human, STATE_PATH), 'utf8')
    await runGit(human, ['rm', '-q', STATE_PATH])
    await runGit(human, ['commit', '-qm', 'start over'])
    mkdirSync(dirname(join(human, STATE_PATH)), { recursive: true })
    writeFileSync(join(human, STATE_PATH), seeded)
    await runGit(human, ['add', STATE_PATH])
    await runGit(human, ['commit', '-q', '-m', started])
    await runGit(human, ['rm', '-q', STATE_PATH])
    await runGit(human, ['commit', '-qm', 'move things around'])
    await runGit(human, ['push', '-q', 'origin', 'HEAD:main'], gh.gitAuthHeader('alice'))
    const before = (await runGit(human, ['rev-parse', 'HEAD'])).stdout
    const workspace = await checkout(gh)
    writeActionMetrics(workspace, ACTION_HEALTHY)
    const ctx: ActionContext = {
      workspace,
      repo: { owner: gh.owner, repo: gh.repo },
      eventName: 'schedule',
      payload: {},
      actor: 'alice',
      apiUrl: gh.apiUrl,
      token: gh.tokenFor(BOT),
      now: hoursAfter(30),
      dryRun: false,
      policies: [],
      reason: '',
      mode: 'emergency',
      metricsEnv: {}
    }
    const client = createGitHubClient({ token: gh.tokenFor(BOT), baseUrl: gh.apiUrl })
    const { outcomes, failures } = await tickOnGitHub(ctx, { client, repo: ctx.repo })
    expect(outcomes).toHaveLength(0)
    expect(failures.map(f => f.error.message).join('\n')).toMatch(/state file .* is missing/)
    expect(gh.state.pulls()).toHaveLength(0)
    const after = await checkout(gh)
    expect((await runGit(after, ['rev-parse', 'HEAD'])).stdout).toBe(before)
  })
})
