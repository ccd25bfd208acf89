import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, it } from 'vitest'
import { evaluateAll } from '../src/commands/tick.js'
import { currentState, loadRollouts, observe } from '../src/commands/workspace.js'
import { decide } from '../src/engine/decide.js'
import { initialState, writeState } from '../src/state/file.js'
import { parsePolicyText } from '../src/policy/load.js'
import { scenarioPolicyText } from '../test/support/policy.js'
import { startPrometheus, type PrometheusServer } from '../test/support/prometheus.js'
import { tempRepo } from '../test/support/repo.js'
import { FEATURE, openMetrics, SPIKE_START } from '../test/support/scenario.js'

// One tick over 50 policies against one over a single policy, on the same local Prometheus
// holding the test scenario. Every policy is the seed policy at canary (about 14 queries per
// tick: gates, alerts, triggers with a 10m range, per-group experiment metrics, and the derived
// performance_degradation's latency now and 2h earlier). Each policy rolls out its own feature, so
// no two policies share a query; the queries name the scenario's series directly.
//
// Two ticks are measured: the core's evaluateAll (what `phasegate tick --dry-run` runs), and the
// observation stage with every policy observed concurrently (Promise.all over observe()), which is
// what the "all queries of a run issued concurrently" asks the tick to do.

const POLICIES = 50
const ROUNDS = 7
const NOW = new Date((SPIKE_START - 60) * 1000)

let prometheus: PrometheusServer
const repos: Record<number, string> = {}

function policyText(url: string, index: number): string {
  const literal = scenarioPolicyText(url).replaceAll('{{feature}}', FEATURE)
  return `feature: rollout_${index}\n${literal}`
}

function repoWith(count: number, url: string): string {
  const files: Record<string, string> = {}
  for (let i = 0; i < count; i++) files[`policies/rollout_${i}.yaml`] = policyText(url, i)
  const root = tempRepo(files)
  for (let i = 0; i < count; i++) {
    const policy = parsePolicyText(files[`policies/rollout_${i}.yaml`]!, `rollout_${i}.yaml`)
    writeState(join(root, policy.statePath), { ...initialState(policy, NOW), phase: 'canary' })
  }
  return root
}

async function concurrentTick(cwd: string) {
  const rollouts = await loadRollouts(cwd, [])
  return Promise.all(
    rollouts.map(async rollout => {
      const state = currentState(rollout, NOW)
      const observations = await observe(rollout, state, { now: NOW, approvals: [], checks: [] })
      return decide(rollout.policy, state, observations, NOW)
    })
  )
}

// The metrics stage alone: every request of every policy read concurrently, policies preloaded.
async function readsOnly(cwd: string) {
  const rollouts = await loadRollouts(cwd, [])
  return async () =>
    Promise.all(
      rollouts.map(rollout =>
        observe(rollout, currentState(rollout, NOW), { now: NOW, approvals: [], checks: [] })
      )
    )
}

async function coreTick(cwd: string) {
  return evaluateAll({ cwd, policies: [], now: NOW, approvedBy: [], checks: [] })
}

async function medianMs(run: () => Promise<unknown[]>, expected: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now()
    const decisions = await run()
    times.push(performance.now() - start)
    if (decisions.length !== expected) throw new Error(`expected ${expected} decisions`)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

beforeAll(async () => {
  prometheus = await startPrometheus(openMetrics())
  repos[1] = repoWith(1, prometheus.url)
  repos[POLICIES] = repoWith(POLICIES, prometheus.url)
})

afterAll(async () => {
  await prometheus?.remove()
  for (const root of Object.values(repos)) rmSync(root, { recursive: true, force: true })
})

it(`prints the wall time of a tick over ${POLICIES} policies against one over a single policy`, async () => {
  const one = repos[1]!
  const many = repos[POLICIES]!
  // Warm up: module loading, connection pools, Prometheus's caches.
  await concurrentTick(one)
  await concurrentTick(many)
  await coreTick(many)
  const readOne = await readsOnly(one)
  const readMany = await readsOnly(many)
  const stages: Array<[string, () => Promise<unknown[]>, () => Promise<unknown[]>]> = [
    ['tick as on main (evaluateAll, --dry-run)', () => coreTick(one), () => coreTick(many)],
    [
      'tick observing all policies concurrently',
      () => concurrentTick(one),
      () => concurrentTick(many)
    ],
    ['metrics reads only (policies preloaded)', readOne, readMany],
    ['loading policies and state only', () => loadRollouts(one, []), () => loadRollouts(many, [])]
  ]
  for (const [name, single, all] of stages) {
    const oneMs = await medianMs(single, 1)
    const manyMs = await medianMs(all, POLICIES)
    console.log(
      `${name}: 1 policy ${oneMs.toFixed(1)} ms, ${POLICIES} policies ${manyMs.toFixed(1)} ms, ` +
        `ratio ${(manyMs / oneMs).toFixed(2)} (goal < 3)`
    )
  }
})
