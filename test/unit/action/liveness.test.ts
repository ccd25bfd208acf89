import { afterEach, describe, expect, test } from 'vitest'
import { cli, sh } from '../../support/repo.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  checkout,
  HEALTHY,
  FEATURE,
  hoursAfter,
  seedFiles,
  startCheckedOut,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import {
  HEARTBEAT_CONTEXT,
  scheduleDisableWarning,
  SCHEDULE_WARN_DAYS
} from '../../../src/action/liveness.js'
import { HEARTBEAT_BRANCH, HEARTBEAT_FILE } from '../../../src/rollout/heartbeat.js'

// Liveness: every run leaves a heartbeat on the default branch, and a scheduled run warns before
// GitHub disables a quiet public repository's schedules (60 days).

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const DAY = 24 * 3600_000
const LAST = new Date('2026-01-01T00:00:00Z')
const after = (days: number) => new Date(LAST.getTime() + days * DAY)

describe('scheduleDisableWarning', () => {
  test.each([
    [0, undefined],
    [SCHEDULE_WARN_DAYS - 0.01, undefined],
    [SCHEDULE_WARN_DAYS, '10 days left'],
    [59.5, '1 days left'],
    [61, 'possibly already disabled']
  ])('%s days after the last commit: %s', (days, expected) => {
    const warning = scheduleDisableWarning(LAST, after(days))
    if (expected === undefined) expect(warning).toBeUndefined()
    else expect(warning).toContain(expected)
  })
})

describe('the action', () => {
  test('leaves a heartbeat status on the default branch head, and a scheduled run on a quiet branch warns', async () => {
    const { gh, workspace } = await startCheckedOut(repos, seedFiles())
    writeMetrics(workspace, HEALTHY)
    const now = hoursAfter(1)
    const run = await runPhasegateFromSource(gh, workspace, { now, inputs: { heartbeat: 'true' } })
    expect(run.exitCode, run.summary).toBe(0)
    const beats = gh.state.statuses.filter(s => s.context === HEARTBEAT_CONTEXT)
    expect(beats).toHaveLength(1)
    expect(beats[0]!.sha).toBe(gh.git.branchSha('main'))
    expect(beats[0]).toMatchObject({
      state: 'success',
      description: `${now.toISOString()}: 1 evaluated`
    })
    expect(run.stdout).not.toContain('GitHub disables scheduled workflows')

    // Without the heartbeat input the run sets no status, and still warns.
    const quiet = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(55 * 24) })
    expect(gh.state.statuses.filter(s => s.context === HEARTBEAT_CONTEXT)).toHaveLength(1)
    expect(quiet.stdout).toMatch(/::warning::.*no commit for 5[45] days.*[56] days left/)
  })
})

describe('the heartbeat record', () => {
  const recordOn = (gh: Repo['gh']) => {
    const text = gh.readFile(HEARTBEAT_BRANCH, HEARTBEAT_FILE)
    return text === undefined
      ? undefined
      : (JSON.parse(text) as { features: Record<string, unknown> })
  }

  test("each tick records every feature's evaluation on its own branch with one push and no API request, never on the default branch", async () => {
    const { gh, workspace } = await startCheckedOut(repos, seedFiles())
    writeMetrics(workspace, HEALTHY)

    const dry = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: { 'dry-run': 'true' }
    })
    expect(dry.exitCode, dry.summary).toBe(0)
    expect(gh.git.branchSha(HEARTBEAT_BRANCH)).toBeUndefined()

    const first = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(first.exitCode, first.summary).toBe(0)
    expect(recordOn(gh)).toMatchObject({
      heartbeat_version: 1,
      features: {
        [FEATURE]: {
          evaluated_at: hoursAfter(1).toISOString(),
          outcome: 'hold',
          run_url: expect.stringMatching(/\/actions\/runs\/\d+$/)
        }
      }
    })
    const main = gh.git.branchSha('main')
    // A quiet tick: the record moves, the default branch does not, and the API sees no more
    // requests than the tick's own reads.
    const quiet = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1.25) })
    expect(quiet.exitCode, quiet.summary).toBe(0)
    expect(quiet.requests).toBeLessThanOrEqual(3)
    expect(gh.git.branchSha('main')).toBe(main)
    expect(recordOn(gh)!.features[FEATURE]).toMatchObject({
      evaluated_at: hoursAfter(1.25).toISOString()
    })
    // One commit, replaced each run: the record does not grow a history.
    expect(gh.git.resolve(`refs/heads/${HEARTBEAT_BRANCH}~1`)).toBeUndefined()

    // Any clone that fetched it sees the heartbeat: fresh now, stale three intervals later.
    const clone = await checkout(gh)
    writeMetrics(clone, HEALTHY)
    const fresh = await cli(clone, 'status', '--json', '--now', hoursAfter(1.5).toISOString())
    expect(fresh.code, fresh.err).toBe(0)
    expect(JSON.parse(fresh.out)[0].heartbeat).toMatchObject({
      evaluatedAt: hoursAfter(1.25).toISOString(),
      outcome: 'hold',
      stale: false,
      staleAfter: hoursAfter(2).toISOString()
    })
    const late = await cli(clone, 'status', '--now', hoursAfter(2.01).toISOString())
    expect(late.out).toContain(`heartbeat: STALE: last evaluated ${hoursAfter(1.25).toISOString()}`)
    expect(sh(clone, 'git', 'status', '--porcelain')).not.toContain('heartbeat')
  })

  test('a refused record push is a warning: the run still succeeds', async () => {
    const { gh, workspace } = await startCheckedOut(repos, seedFiles())
    writeMetrics(workspace, HEALTHY)
    expect((await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })).exitCode).toBe(0)
    gh.git.setRuleset({ restrictUpdates: true, allBranches: true })
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1.25) })
    expect(run.exitCode, run.summary).toBe(0)
    expect(run.stdout).toMatch(
      /::warning::heartbeat record not pushed to phasegate-heartbeat: the ruleset on phasegate-heartbeat refused the push \(updates to the branch are restricted\)/
    )
    expect(recordOn(gh)!.features[FEATURE]).toMatchObject({
      evaluated_at: hoursAfter(1).toISOString()
    })
  })
})
