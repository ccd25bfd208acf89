import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  approve,
  hoursAfter,
  openPulls,
  SEARCH_POLICY,
  startSearchRepo,
  stateOnMain,
  T0,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// Issue 15's controls in the action, from src/main.ts against the GitHub emulator: dispatched
// pause and resume (operators only), a trigger that pauses, and a freeze window in which the
// advance PR opens and is approved but is not merged.

const STATE = '.phasegate/state/search.yaml'
const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const dispatch = (command: 'pause' | 'resume', login: string, reason = 'investigating') => ({
  event: 'workflow_dispatch' as const,
  inputs: { command },
  payload: { inputs: { reason }, sender: { login } }
})

describe('pause and resume dispatched to the action', () => {
  test('a pause lands at once; ticks then hold, but a trigger still rolls back; resume lifts it', async () => {
    const { gh, workspace } = await startSearchRepo(repos, SEARCH_POLICY, { phase: 'limited' })
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const paused = await runPhasegateFromSource(gh, workspace, {
      ...dispatch('pause', 'alice'),
      now: hoursAfter(1)
    })
    expect(paused.exitCode, paused.stdout).toBe(0)
    expect(paused.outputs).toMatchObject({ decision: 'pause', phase: 'limited', enabled: 'true' })
    expect(paused.summary).toContain('**Paused** at limited: paused by alice: investigating')
    expect(stateOnMain(gh, STATE)).toMatch(/^paused:$/m)

    const held = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(2) })
    expect(held.exitCode, held.stdout).toBe(0)
    expect(held.outputs.decision).toBe('hold')
    expect(held.summary).toContain('⏸️ **Paused**')
    expect(openPulls(gh)).toHaveLength(0)

    // The spike's evidence window (5m) starts before the pause landed but after the phase was
    // entered: the pause does not restart the phase's clock, so the trigger acts at once.
    writeMetrics(workspace, { error_rate: 0.5 }, 'search')
    const rolled = await runPhasegateFromSource(gh, workspace, {
      now: new Date(hoursAfter(1).getTime() + 60_000)
    })
    expect(rolled.exitCode, rolled.stdout).toBe(0)
    expect(rolled.outputs).toMatchObject({ decision: 'rollback', phase: 'canary' })
    expect(stateOnMain(gh, STATE)).toMatch(/^paused:$/m)

    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const resumed = await runPhasegateFromSource(gh, workspace, {
      ...dispatch('resume', 'alice', 'fixed'),
      now: hoursAfter(3)
    })
    expect(resumed.exitCode, resumed.stdout).toBe(0)
    expect(resumed.outputs.decision).toBe('resume')
    expect(stateOnMain(gh, STATE)).not.toContain('paused:')
  })

  test('only operators: a reader is refused and nothing lands', async () => {
    const { gh, workspace } = await startSearchRepo(repos, SEARCH_POLICY, { phase: 'limited' })
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const before = stateOnMain(gh, STATE)
    const run = await runPhasegateFromSource(gh, workspace, {
      ...dispatch('pause', 'mallory'),
      now: hoursAfter(1)
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('@mallory may not pause search')
    expect(stateOnMain(gh, STATE)).toBe(before)
  })
})

describe('on_fire: pause in the action', () => {
  test('a pausing trigger pushes a pause, not a rollback', async () => {
    const policy = SEARCH_POLICY.replace(
      '    - error_rate > 0.05',
      '    - { when: error_rate > 0.05, on_fire: pause }'
    )
    const { gh, workspace } = await startSearchRepo(repos, policy, { phase: 'limited' })
    writeMetrics(workspace, { error_rate: 0.5 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs).toMatchObject({ decision: 'pause', phase: 'limited' })
    expect(run.summary).toContain('**Pause** at limited: automatic pause (on_fire: pause)')
    expect(run.summary).toContain('pauses the rollout instead of rolling back')
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: limited$/m)
    expect(stateOnMain(gh, STATE)).toMatch(/^paused:$/m)
  })
})

describe('on_fire: observe in the action', () => {
  test('an observe-only trigger opens an alert issue and rolls nothing back; the issue closes when it is ok', async () => {
    const policy = SEARCH_POLICY.replace(
      '    - error_rate > 0.05',
      '    - { when: error_rate > 0.05, on_fire: observe }'
    )
    const { gh, workspace } = await startSearchRepo(repos, policy, { phase: 'full' })
    writeMetrics(workspace, { error_rate: 0.5 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs).toMatchObject({ decision: 'hold', phase: 'full' })
    expect(run.summary).toContain('observe-only: reported and alerted, nothing rolled back')
    const issues = () =>
      [...gh.state.issues.values()].filter(
        i => !i.pull && i.labels.includes('alert:observed_error_rate')
      )
    expect(issues()).toHaveLength(1)
    expect(issues()[0]!.state).toBe('open')
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: full$/m)

    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const ok = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(2) })
    expect(ok.exitCode, ok.stdout).toBe(0)
    expect(issues()[0]!.state, ok.summary).toBe('closed')
  })
})

describe('freeze windows in the action', () => {
  test('the advance PR opens and is approved inside the window; it merges only after it', async () => {
    const day = (offset: number) =>
      new Date(T0.getTime() + offset * 86_400_000).toISOString().slice(0, 10)
    const policy = SEARCH_POLICY.replace(
      'deployment:\n',
      `deployment:\n  freeze:\n    time_zone: UTC\n    windows:\n      - name: launch-week\n        dates: { from: ${day(-1)}, to: ${day(1)} }\n`
    )
    const { gh, workspace } = await startSearchRepo(repos, policy, { phase: 'canary' })
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const proposed = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(proposed.exitCode, proposed.stdout).toBe(0)
    const [pull] = openPulls(gh)
    expect(pull?.pull!.head).toBe('phasegate/search/advance')
    await approve(gh, pull!.number, 'bob')

    const frozen = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(2) })
    expect(frozen.exitCode, frozen.stdout).toBe(0)
    expect(frozen.outputs).toMatchObject({ decision: 'hold', phase: 'canary' })
    const ends = `${day(2)}T00:00:00.000Z`
    expect(frozen.summary).toContain(
      `❄️ **Freeze window** "launch-week" is open: no advance lands until ${ends}`
    )
    expect(openPulls(gh)).toHaveLength(1)
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: canary$/m)

    const after = await runPhasegateFromSource(gh, workspace, { now: new Date(Date.parse(ends)) })
    expect(after.exitCode, after.stdout).toBe(0)
    expect(after.outputs).toMatchObject({ decision: 'advance', phase: 'limited' })
  })
})
