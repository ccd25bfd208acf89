import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { dispatchRollback } from '../../src/action/dispatch-rollback.js'
import type { ActionContext } from '../../src/action/context.js'
import { createGitHubClient } from '../../src/github/client.js'
import { commitMessage } from '../../src/state/trailers.js'
import { initialState, renderState } from '../../src/state/file.js'
import { cloneEmulated, runGit } from '../support/github-emulator/git-client.js'
import {
  BOT,
  checkout,
  FEATURE,
  hoursAfter,
  seedFiles,
  startRepo,
  STATE_PATH,
  writeMetrics as writeActionMetrics,
  type Repo
} from '../support/action-harness.js'
import { at, HEALTHY, seedPolicy } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics, transitionsIn } from '../support/repo.js'

// A rollback restores only phasegate's own files. When the advance it undoes also touched an
// application file that changed since (a person's merge, or history from before phasegate
// committed the state file alone), `git revert` would conflict or change application code: the
// rollback writes the state file back instead, and says in its trailers what it left alone.

const STATE = '.phasegate/state/production_deployment.yaml'
const DATAFILE = '.phasegate/state/production_deployment.datafile.json'

/**
 * A repository at staging whose advance commit also changed app.txt, and app.txt changed again
 * after it: reverting that advance conflicts in app.txt.
 */
async function stagingWithEntangledAdvance(): Promise<{ dir: string; advance: string }> {
  const dir = tempRepo()
  writeFileSync(join(dir, 'app.txt'), 'v1\n')
  sh(dir, 'git', 'add', 'app.txt')
  sh(dir, 'git', 'commit', '-qm', 'app v1')
  writeMetrics(dir, HEALTHY)
  await cli(dir, 'init', '--now', at(0).toISOString())
  const advanced = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
  expect(advanced.out).toContain('ADVANCE development -> staging')
  // A person folds an application change into the advance commit (a squash merge would do this).
  writeFileSync(join(dir, 'app.txt'), 'v2\n')
  sh(dir, 'git', 'commit', '-q', '--amend', '--no-edit', '-a')
  const advance = sh(dir, 'git', 'rev-parse', 'HEAD')
  writeFileSync(join(dir, 'app.txt'), 'v3\n')
  sh(dir, 'git', 'commit', '-qam', 'app v3')
  return { dir, advance }
}

function headTrailers(dir: string): string {
  return sh(dir, 'git', 'log', '-1', '--format=%(trailers)')
}

describe('a rollback whose revert would conflict in an application file', () => {
  it('tick rolls back by writing the state file back, leaving app.txt as it is', async () => {
    const { dir, advance } = await stagingWithEntangledAdvance()
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.2 })
    const run = await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('ROLL BACK staging -> development')
    expect(readFileSync(join(dir, STATE), 'utf8')).toContain('phase: development')
    expect(readFileSync(join(dir, 'app.txt'), 'utf8')).toBe('v3\n')
    expect(sh(dir, 'git', 'show', '--name-only', '--format=', 'HEAD').split('\n')).toEqual([
      DATAFILE,
      STATE
    ])
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
    const trailers = headTrailers(dir)
    expect(trailers).toContain(`Phasegate-Reverts: ${advance}`)
    expect(trailers).toContain('Phasegate-Left-Alone: app.txt')
    const [entry] = await transitionsIn(dir, 'production_deployment')
    expect(entry).toMatchObject({ kind: 'rollback', reverts: advance, leftAlone: ['app.txt'] })
  })

  it('rollback --emergency turns the kill switch off and leaves app.txt as it is', async () => {
    const { dir, advance } = await stagingWithEntangledAdvance()
    const run = await cli(
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
    expect(run.code, run.err).toBe(0)
    const state = readFileSync(join(dir, STATE), 'utf8')
    expect(state).toContain('phase: development')
    expect(state).toContain('enabled: false')
    expect(readFileSync(join(dir, 'app.txt'), 'utf8')).toBe('v3\n')
    expect(sh(dir, 'git', 'show', '--name-only', '--format=', 'HEAD').split('\n')).toEqual([
      DATAFILE,
      STATE
    ])
    expect(headTrailers(dir)).toContain(`Phasegate-Reverts: ${advance}`)
  })

  it('an advance that touched an application file is never reverted, even when it reverts cleanly', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    writeFileSync(join(dir, 'app.txt'), 'shipped with the advance\n')
    sh(dir, 'git', 'add', 'app.txt')
    sh(dir, 'git', 'commit', '-q', '--amend', '--no-edit')
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.2 })
    const run = await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(readFileSync(join(dir, 'app.txt'), 'utf8')).toBe('shipped with the advance\n')
    expect(headTrailers(dir)).toContain('Phasegate-Left-Alone: app.txt')
  })

  it('an advance that touched only the state file is still undone by git revert', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const advance = sh(dir, 'git', 'rev-parse', 'HEAD')
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.2 })
    await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(sh(dir, 'git', 'log', '-1', '--format=%B')).toContain(`This reverts commit ${advance}.`)
    expect(headTrailers(dir)).not.toContain('Phasegate-Left-Alone')
  })
})

let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

describe('the emergency workflow_dispatch', () => {
  it('rolls back and turns the feature off although reverting the advance conflicts', async () => {
    const policy = seedPolicy()
    repo = await startRepo({ files: { ...seedFiles(), 'app.txt': 'v1\n' } })
    const { gh } = repo
    // A person's advance that also changed app.txt, then a later change to app.txt.
    const human = await cloneEmulated(gh, 'alice')
    const auth = gh.gitAuthHeader('alice')
    const transition = {
      kind: 'advance' as const,
      from: 'development',
      to: 'staging',
      at: hoursAfter(1).toISOString(),
      reason: 'gates passed',
      approvers: ['alice'],
      evidence: []
    }
    writeFileSync(
      join(human, STATE_PATH),
      renderState({
        ...initialState(policy, hoursAfter(0)),
        phase: 'staging',
        enteredAt: transition.at,
        lastTransition: transition
      })
    )
    writeFileSync(join(human, 'app.txt'), 'v2\n')
    await runGit(human, ['commit', '-qam', commitMessage({ feature: FEATURE, ...transition })])
    const advance = (await runGit(human, ['rev-parse', 'HEAD'])).stdout
    writeFileSync(join(human, 'app.txt'), 'v3\n')
    await runGit(human, ['commit', '-qam', 'app v3'])
    await runGit(human, ['push', '-q', 'origin', 'HEAD:main'], auth)

    const workspace = await checkout(gh)
    writeActionMetrics(workspace, HEALTHY)
    const ctx: ActionContext = {
      workspace,
      repo: { owner: gh.owner, repo: gh.repo },
      eventName: 'workflow_dispatch',
      payload: {},
      actor: 'alice',
      apiUrl: gh.apiUrl,
      token: gh.tokenFor(BOT),
      now: hoursAfter(2),
      dryRun: false,
      policies: [],
      reason: 'checkout errors',
      mode: 'emergency',
      metricsEnv: {}
    }
    const client = createGitHubClient({ token: gh.tokenFor(BOT), baseUrl: gh.apiUrl })
    const outcome = await dispatchRollback(ctx, { client, repo: ctx.repo })
    expect(outcome.actions.join('\n')).toContain('pushed emergency rollback')
    const state = gh.readFile('main', STATE_PATH) ?? ''
    expect(state).toMatch(/^phase: development$/m)
    expect(state).toMatch(/^enabled: false$/m)
    expect(gh.readFile('main', 'app.txt')).toBe('v3\n')
    const inspect = await checkout(gh)
    const [entry] = await transitionsIn(inspect, FEATURE)
    expect(entry).toMatchObject({ kind: 'emergency', reverts: advance, leftAlone: ['app.txt'] })
  })
})
