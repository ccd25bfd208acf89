import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { nextState } from '../../../src/engine/next-state.js'
import { commitTransition } from '../../../src/git/transitions.js'
import { parseStateText } from '../../../src/state/file.js'
import { cloneEmulated, runGit } from '../../support/github-emulator/git-client.js'
import { datafilePathOf, featureDatafile, renderDatafile } from '../../../src/export/datafile.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, renderState } from '../../../src/state/file.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  checkout,
  hoursAfter,
  SEARCH_POLICY,
  searchFiles,
  startCheckedOut,
  startRepo,
  stateOnMain,
  T0,
  type Repo
} from '../../support/action-harness.js'

// "No single fault stops a rollback" for the action's workflow_dispatch with no feature named: a
// broken policy elsewhere must not stop a rollback that can be identified (the one rollout that
// loaded: phasegate can act on no other). Ambiguity (two rollouts it could act on) is refused,
// naming the features. A state file that does not read (or is lost) still gets the emergency's
// datafile written off, as the CLI does.

const STATE = '.phasegate/state/search.yaml'
const DATAFILE = '.phasegate/state/search.datafile.json'
const BROKEN = 'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'
const PAY = SEARCH_POLICY.replace('feature: search', 'feature: pay')
const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
})

/** The search rollout at full with its datafile (on, 100%) committed, plus `files`. */
function searchAtFull(files: Record<string, string> = {}): Record<string, string> {
  const policy = parsePolicyText(SEARCH_POLICY, 'search.yaml')
  const state = { ...initialState(policy, T0), phase: 'full' }
  return {
    ...searchFiles('full'),
    [datafilePathOf(policy)]: renderDatafile(featureDatafile(policy, state)),
    ...files
  }
}

async function dispatch(
  files: Record<string, string>,
  command: 'rollback' | 'pause' | 'resume',
  inputs: Record<string, string> = {}
) {
  const { gh, workspace } = await startCheckedOut(repos, files)
  const run = await runPhasegateFromSource(gh, workspace, {
    event: 'workflow_dispatch',
    inputs: { command },
    payload: { inputs: { reason: 'incident', ...inputs }, sender: { login: 'alice' } }
  })
  return { run, gh }
}

describe('a dispatch with no feature named beside a broken policy', () => {
  test('an emergency acts on the one rollout that loaded and reports the broken policy, located', async () => {
    const { run, gh } = await dispatch(searchAtFull({ 'policies/g.yaml': BROKEN }), 'rollback')
    expect(run.exitCode, run.stdout).toBe(0)
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: false$/m)
    expect(run.stdout).toMatch(/policies\/g\.yaml:\d+:\d+/)
    expect(run.summary).toMatch(/policies\/g\.yaml:\d+:\d+/)
  })

  test('a pause goes on the same way; a resume (it raises exposure) refuses, naming the input', async () => {
    const paused = await dispatch(searchAtFull({ 'policies/g.yaml': BROKEN }), 'pause')
    expect(paused.run.exitCode, paused.run.stdout).toBe(0)
    expect(stateOnMain(paused.gh, STATE)).toMatch(/^paused:$/m)
    const resumed = await dispatch(searchAtFull({ 'policies/g.yaml': BROKEN }), 'resume')
    expect(resumed.run.exitCode).not.toBe(0)
    expect(resumed.run.stdout).toMatch(/input "feature"/)
  })

  test('two rollouts it could act on are ambiguous: refused, naming both features and the input', async () => {
    const { run, gh } = await dispatch(searchAtFull({ 'policies/pay.yaml': PAY }), 'rollback')
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/search, pay|pay, search/)
    expect(run.stdout).toMatch(/input "feature"/)
    expect(stateOnMain(gh, STATE)).toMatch(/^enabled: true$/m)
  })

  test('one rollout beside one whose state file does not read: an emergency is ambiguous, a graceful rollback is not', async () => {
    const files = searchAtFull({
      'policies/pay.yaml': PAY,
      '.phasegate/state/pay.yaml': 'phase: [full\n'
    })
    const emergency = await dispatch(files, 'rollback')
    expect(emergency.run.exitCode).not.toBe(0)
    expect(emergency.run.stdout).toMatch(/search, pay|pay, search/)
    const graceful = await dispatch(files, 'rollback', { mode: 'graceful' })
    expect(graceful.run.exitCode, graceful.run.stdout).toBe(0)
    expect(graceful.run.stdout).toMatch(/pay\.yaml:\d+:\d+/)
  })
})

describe('an emergency dispatch whose state file does not read, or is lost', () => {
  for (const [what, state] of [
    ['broken YAML', 'phase: [full\n'],
    ['a schema-invalid value', renderStateAt('nowhere')]
  ] as const) {
    test(`${what}: the datafile is written off and pushed, the located error is reported`, async () => {
      const { run, gh } = await dispatch(searchAtFull({ [STATE]: state }), 'rollback', {
        feature: 'search'
      })
      expect(run.exitCode, run.stdout).toBe(0)
      expect(JSON.parse(stateOnMain(gh, DATAFILE))).toMatchObject({
        enabled: false,
        user_percentage: 0
      })
      expect(run.stdout).toMatch(/\.phasegate\/state\/search\.yaml:\d+:\d+/)
    })
  }

  test('a graceful rollback needs a state: refused with the state file\'s located error, not "no policy"', async () => {
    const { run, gh } = await dispatch(searchAtFull({ [STATE]: 'phase: [full\n' }), 'rollback', {
      feature: 'search',
      mode: 'graceful'
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/\.phasegate\/state\/search\.yaml:\d+:\d+/)
    expect(run.stdout).not.toMatch(/no policy rolls out/)
    expect(JSON.parse(stateOnMain(gh, DATAFILE))).toMatchObject({ enabled: true })
  })

  test('with no feature named and no other policy, the same', async () => {
    const { run, gh } = await dispatch(searchAtFull({ [STATE]: 'phase: [full\n' }), 'rollback')
    expect(run.exitCode, run.stdout).toBe(0)
    expect(JSON.parse(stateOnMain(gh, DATAFILE))).toMatchObject({ enabled: false })
  })
})

test('an emergency dispatch on a lost state file (deleted after a transition) writes the datafile off', async () => {
  const repo = await startRepo({ files: searchAtFull() })
  repos.push(repo)
  const { gh } = repo
  const dir = await cloneEmulated(gh, 'alice')
  const policy = parsePolicyText(SEARCH_POLICY, 'policies/search.yaml')
  const state = parseStateText(readFileSync(join(dir, STATE), 'utf8'), STATE, policy)
  const at = hoursAfter(1)
  const step = {
    kind: 'rollback' as const,
    from: 'full',
    to: 'limited',
    at: at.toISOString(),
    reason: 'by the test',
    approvers: [],
    evidence: []
  }
  await commitTransition({
    root: dir,
    policy,
    next: nextState(state, step),
    transition: step,
    now: at
  })
  await runGit(dir, ['rm', '-q', STATE])
  await runGit(dir, ['commit', '-q', '-m', 'cleanup (deletes the state by mistake)'])
  await runGit(dir, ['push', '-q', 'origin', 'main'], gh.gitAuthHeader('alice'))
  expect(JSON.parse(stateOnMain(gh, DATAFILE))).toMatchObject({ enabled: true })
  const workspace = await checkout(gh)
  const run = await runPhasegateFromSource(gh, workspace, {
    event: 'workflow_dispatch',
    inputs: { command: 'rollback' },
    payload: { inputs: { reason: 'incident' }, sender: { login: 'alice' } }
  })
  expect(run.exitCode, run.stdout).toBe(0)
  expect(JSON.parse(stateOnMain(gh, DATAFILE))).toMatchObject({
    enabled: false,
    user_percentage: 0
  })
  expect(run.stdout).toMatch(/state file of "search" .* is missing/)
})

function renderStateAt(phase: string): string {
  const policy = parsePolicyText(SEARCH_POLICY, 'search.yaml')
  return renderState({ ...initialState(policy, T0), phase: 'full' }).replace(
    /^phase: full$/m,
    `phase: ${phase}`
  )
}
