import { afterEach, describe, expect, it } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  approve,
  hoursAfter,
  openPulls,
  SEARCH_POLICY,
  startSearchRepo,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// Issue 15 (attack15b A1): one metric written wrong in a snapshot never stops another metric's
// rollback, in the action against the GitHub emulator.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

/** One point a minute over the hour before `end`. */
const lastHour = (end: Date, value: number) => {
  const points: Array<[string, number]> = []
  for (let m = 60; m >= 0; m--)
    points.push([new Date(end.getTime() - m * 60_000).toISOString(), value])
  return points
}

describe('one doubtful metric never stops another metric rolling back (action)', () => {
  it('error_rate 20x its trigger rolls back although latency_ms value and series disagree by 1', async () => {
    // latency_ms is not even read by the search policy: the exporter writes it for a dashboard.
    const { gh, workspace, statePath } = await startSearchRepo(repos, SEARCH_POLICY, {
      phase: 'limited'
    })
    const now = hoursAfter(2)
    writeMetrics(
      workspace,
      { error_rate: 0.9, latency_ms: { value: 120, step: '1m', series: lastHour(now, 121) } },
      'search'
    )
    const run = await runPhasegateFromSource(gh, workspace, { now })
    expect(run.outputs.decision, run.stdout + run.summary).toBe('rollback')
    expect(stateOnMain(gh, statePath)).toMatch(/^phase: canary$/m)
  }, 60_000)
})

describe('the action never lands an advance inside a window open on the clock (A5)', () => {
  it('with `now` yesterday, before the window, the approved advance waits for the window open today', async () => {
    const day = (offset: number) =>
      new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
    const policy = SEARCH_POLICY.replace(
      'deployment:\n',
      `deployment:\n  freeze:\n    time_zone: UTC\n    windows:\n      - name: launch\n        dates: { from: ${day(0)}, to: ${day(1)} }\n`
    )
    const { gh, workspace, statePath } = await startSearchRepo(repos, policy, {
      phase: 'canary',
      enteredAt: new Date(`${day(-3)}T00:00:00Z`).toISOString()
    })
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const proposed = await runPhasegateFromSource(gh, workspace, {
      now: new Date(`${day(-1)}T12:00:00Z`)
    })
    expect(proposed.exitCode, proposed.stdout).toBe(0)
    const [pull] = openPulls(gh)
    expect(pull, proposed.stdout + proposed.summary).toBeDefined()
    await approve(gh, pull!.number, 'bob')
    const replay = await runPhasegateFromSource(gh, workspace, {
      now: new Date(`${day(-1)}T13:00:00Z`)
    })
    expect(replay.outputs.decision, replay.stdout + replay.summary).toBe('hold')
    expect(replay.summary).toContain('launch')
    expect(stateOnMain(gh, statePath)).toMatch(/^phase: canary$/m)
  }, 60_000)
})
