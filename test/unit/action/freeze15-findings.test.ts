import { afterEach, describe, expect, it } from 'vitest'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState } from '../../../src/state/file.js'
import type { State } from '../../../src/engine/types.js'
import { datafilePathOf, featureDatafile, renderDatafile } from '../../../src/export/datafile.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import type { GitHubEmulator } from '../../support/github-emulator/index.js'
import {
  approve,
  openPulls,
  pullRequestEvent,
  statusesOf,
  hoursAfter,
  SEARCH_POLICY,
  searchRepoFiles,
  startCheckedOut,
  startSearchRepo,
  stateOnMain,
  T0,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// The action's side of "advancing may wait": a dispatched resume inside a freeze window or under
// another operator's pause, a resume PR checked inside a window, and an advance PR whose green
// status would outlive the reason it was given.

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

const day = (offset: number) =>
  new Date(T0.getTime() + offset * 86_400_000).toISOString().slice(0, 10)

/** SEARCH_POLICY with a UTC date window `launch-week` from `from` to `to` days after T0. */
const frozen = (from: number, to: number) =>
  SEARCH_POLICY.replace(
    'deployment:\n',
    `deployment:\n  freeze:\n    time_zone: UTC\n    windows:\n      - name: launch-week\n        dates: { from: ${day(from)}, to: ${day(to)} }\n`
  )

/** A repository with `policyText` and the search rollout's state as `state` sets it over its start. */
async function searchRepo(policyText: string, state: Partial<State>) {
  const started = await startSearchRepo(repos, policyText, state)
  writeMetrics(started.workspace, { error_rate: 0.001 }, 'search')
  return started
}

/** The policy check of pull request `number` (its pull_request event), run at `now`. */
const checkPull = (gh: GitHubEmulator, workspace: string, number: number, now: Date) =>
  runPhasegateFromSource(gh, workspace, {
    now,
    event: 'pull_request',
    inputs: { command: 'check' },
    payload: pullRequestEvent(gh, number)
  })

/** The phasegate/policy statuses on pull request `number`'s head commit. */
async function policyStatusesOf(gh: GitHubEmulator, number: number) {
  const head = pullRequestEvent(gh, number).pull_request.head.sha!
  return (await statusesOf(gh, head)).filter(s => s.context === 'phasegate/policy')
}

const resumeDispatch = (inputs: Record<string, string> = {}, now = hoursAfter(1)) => ({
  event: 'workflow_dispatch',
  inputs: { command: 'resume' },
  payload: { inputs: { reason: 'fixed', ...inputs }, sender: { login: 'alice' } },
  now
})

describe('a dispatched resume never turns the feature on while a raise is held', () => {
  it('a dispatched resume inside a freeze window is refused, naming the window; the kill switch stays off', async () => {
    // The rollout at limited (25%) with its kill switch off after an emergency, inside launch-week.
    const { gh, workspace, statePath } = await searchRepo(frozen(-1, 1), {
      phase: 'limited',
      enabled: false
    })
    const run = await runPhasegateFromSource(gh, workspace, resumeDispatch())
    expect(run.exitCode, run.stdout).not.toBe(0)
    expect(run.stdout + run.summary).toContain('freeze window "launch-week"')
    expect(stateOnMain(gh, statePath), run.summary + run.stdout).toMatch(/^enabled: false$/m)
  }, 60_000)

  it('with a pause and the kill switch both in force, a dispatched resume must say it lifts both', async () => {
    const paused = { at: T0.toISOString(), reason: 'paused by olga: payments incident' }
    const { gh, workspace, statePath } = await searchRepo(SEARCH_POLICY, {
      phase: 'limited',
      enabled: false,
      paused
    })
    const plain = await runPhasegateFromSource(gh, workspace, resumeDispatch())
    expect(plain.exitCode, plain.stdout).not.toBe(0)
    expect(plain.stdout).toContain('payments incident')
    expect(plain.stdout).toContain('lift')
    expect(stateOnMain(gh, statePath)).toMatch(/^enabled: false$/m)
    const killSwitchOnly = await runPhasegateFromSource(
      gh,
      workspace,
      resumeDispatch({ lift: 'kill-switch' })
    )
    expect(killSwitchOnly.exitCode, killSwitchOnly.stdout).not.toBe(0)
    expect(stateOnMain(gh, statePath)).toMatch(/^enabled: false$/m)
    const both = await runPhasegateFromSource(gh, workspace, resumeDispatch({ lift: 'both' }))
    expect(both.exitCode, both.stdout).toBe(0)
    expect(stateOnMain(gh, statePath)).toMatch(/^enabled: true$/m)
    expect(stateOnMain(gh, statePath)).not.toMatch(/^paused:/m)
  }, 60_000)

  it('a lift input that is none of pause, kill-switch, both fails the step before anything moves', async () => {
    const { gh, workspace, statePath } = await searchRepo(SEARCH_POLICY, {
      phase: 'limited',
      enabled: false
    })
    const run = await runPhasegateFromSource(gh, workspace, resumeDispatch({ lift: 'everything' }))
    expect(run.exitCode, run.stdout).not.toBe(0)
    expect(run.stdout).toContain('lift "everything" is none of pause, kill-switch, both')
    expect(stateOnMain(gh, statePath)).toMatch(/^enabled: false$/m)
  }, 60_000)

  it('a resume PR opened before a window fails the policy check inside it', async () => {
    const { gh, workspace } = await searchRepo(frozen(1, 2), { phase: 'limited', enabled: false })
    // Graceful: the resume waits for review as a pull request.
    const proposed = await runPhasegateFromSource(gh, workspace, {
      ...resumeDispatch({ mode: 'graceful' }),
      now: hoursAfter(1)
    })
    expect(proposed.exitCode, proposed.stdout).toBe(0)
    const [pull] = openPulls(gh)
    await approve(gh, pull!.number, 'bob')
    const checked = await checkPull(gh, workspace, pull!.number, new Date(`${day(1)}T06:00:00Z`))
    expect(checked.outputs.decision, checked.stdout + checked.summary).toBe('failure')
    expect(checked.summary).toContain('launch-week')
  }, 60_000)
})

describe('an approved advance PR is not left mergeable when the tick holds it', () => {
  it('a tick inside the window takes back the green phasegate/policy status the check gave before it', async () => {
    // The window opens tomorrow (UTC) and lasts two days.
    const { gh, workspace } = await searchRepo(frozen(1, 2), { phase: 'canary' })
    // Before the window: the advance PR opens, bob approves, the policy check passes it.
    const proposed = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(proposed.exitCode, proposed.stdout).toBe(0)
    const [pull] = openPulls(gh)
    await approve(gh, pull!.number, 'bob')
    const checked = await checkPull(gh, workspace, pull!.number, hoursAfter(1.5))
    expect(checked.outputs.decision, checked.stdout + checked.summary).toBe('success')
    // The scheduled run that would have merged it is late; the next one runs inside the window
    // and holds. The PR must not stay mergeable by hand meanwhile.
    const frozenRun = await runPhasegateFromSource(gh, workspace, {
      now: new Date(`${day(1)}T06:00:00Z`)
    })
    expect(frozenRun.outputs.decision, frozenRun.stdout).toBe('hold')
    const policyStatuses = await policyStatusesOf(gh, pull!.number)
    const last = policyStatuses.at(-1)
    expect(last?.state, JSON.stringify(policyStatuses)).not.toBe('success')
    expect(last?.description).toContain('launch-week')
  }, 60_000)

  it('a tick of a rollout paused after the check takes back the green status too', async () => {
    const { gh, workspace } = await searchRepo(SEARCH_POLICY, { phase: 'canary' })
    expect((await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })).exitCode).toBe(0)
    const [pull] = openPulls(gh)
    await approve(gh, pull!.number, 'bob')
    const checked = await checkPull(gh, workspace, pull!.number, hoursAfter(1.5))
    expect(checked.outputs.decision, checked.stdout + checked.summary).toBe('success')
    const paused = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'pause' },
      payload: { inputs: { reason: 'payments incident' }, sender: { login: 'alice' } },
      now: hoursAfter(1.6)
    })
    expect(paused.exitCode, paused.stdout).toBe(0)
    const held = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1.7) })
    expect(held.outputs.decision, held.stdout).toBe('hold')
    const [last] = await policyStatusesOf(gh, pull!.number)
    expect(last?.state, JSON.stringify(last)).toBe('failure')
    expect(last?.description).toContain('paused')
  }, 60_000)
})

describe('an advance PR says what the feature exposes in force, not what a held policy edit asks', () => {
  it("inside a window, the advance PR opened over a held user_percentage raise shows the datafile's 5%", async () => {
    // canary was at 5% (the committed datafile); a policy edit raised it to 50% inside launch-week,
    // so the raise waits (docs/operate.md#freeze-windows) and the datafile still serves 5%.
    const before = frozen(-1, 1)
    const edited = before.replace(
      'canary: { user_percentage: 5 }',
      'canary: { user_percentage: 50 }'
    )
    expect(edited).not.toBe(before)
    const policy = parsePolicyText(edited, 'search.yaml')
    const state = { ...initialState(policy, T0), phase: 'canary' }
    const { gh, workspace } = await startCheckedOut(repos, {
      ...searchRepoFiles(edited, state),
      [datafilePathOf(policy)]: renderDatafile(
        featureDatafile(parsePolicyText(before, 'search.yaml'), state)
      )
    })
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs['user-percentage'], run.stdout).toBe('5')
    const [pull] = openPulls(gh)
    expect(pull, run.stdout + run.summary).toBeDefined()
    const body = gh.state.issues.get(pull!.number)!.body ?? ''
    const header = body.split('\n').find(l => l.includes('kill switch'))
    expect(header, body).toContain('5% of users')
    expect(header).not.toContain('50% of users')
  }, 60_000)
})

describe('a resume PR checked green before a window is not left mergeable inside it', () => {
  it('a tick inside the window takes back the green status of the standing resume PR', async () => {
    const { gh, workspace } = await searchRepo(frozen(1, 2), { phase: 'limited', enabled: false })
    const proposed = await runPhasegateFromSource(gh, workspace, {
      ...resumeDispatch({ mode: 'graceful' }),
      now: hoursAfter(1)
    })
    expect(proposed.exitCode, proposed.stdout).toBe(0)
    const [pull] = openPulls(gh)
    await approve(gh, pull!.number, 'alice')
    const checked = await checkPull(gh, workspace, pull!.number, hoursAfter(1.5))
    expect(checked.outputs.decision, checked.stdout + checked.summary).toBe('success')
    // Nobody merged it before launch-week; the scheduled tick inside the window runs.
    const tick = await runPhasegateFromSource(gh, workspace, {
      now: new Date(`${day(1)}T06:00:00Z`)
    })
    expect(tick.exitCode, tick.stdout).toBe(0)
    const [last] = await policyStatusesOf(gh, pull!.number)
    expect(last?.state, JSON.stringify(last)).toBe('failure')
    expect(last?.description).toContain('launch-week')
  }, 60_000)
})
