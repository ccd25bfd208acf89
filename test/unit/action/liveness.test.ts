import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  checkout,
  HEALTHY,
  hoursAfter,
  startRepo,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import {
  HEARTBEAT_CONTEXT,
  scheduleDisableWarning,
  SCHEDULE_WARN_DAYS
} from '../../../src/action/liveness.js'

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
    const repo = await startRepo()
    repos.push(repo)
    const { gh } = repo
    const workspace = await checkout(gh)
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
