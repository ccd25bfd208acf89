import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { afterAll, beforeAll, it } from 'vitest'
import { evaluateAll } from '../src/commands/tick.js'
import { currentState, loadRollouts } from '../src/rollout/load.js'
import { observe } from '../src/rollout/observe.js'
import { parsePolicyText } from '../src/policy/load.js'
import { initialState, writeState } from '../src/state/file.js'
import { startCutoffProxy, type TestServer } from '../test/support/http-server.js'
import { scenarioPolicyText } from '../test/support/policy.js'
import { startPrometheus, type PrometheusServer } from '../test/support/prometheus.js'
import { tempRepo } from '../test/support/repo.js'
import { openMetrics, SPIKE_START } from '../test/support/scenario.js'

// One tick over 50 policies against one over a single policy, on the same local Prometheus.
//
// Every policy is the seed policy at canary, reading the test scenario through the real Prometheus
// (five queries per policy: what its gates, alerts and triggers use, the error-rate trigger's 10m
// range, and the derived performance_degradation's latency now and 2h earlier). Each policy rolls
// out its own feature, and Prometheus holds that feature's own series, so no two policies send the
// same query: what a repository of 50 different rollouts asks for.
//
// The measures, each the median of several rounds, 1 policy against 50:
//   - `phasegate tick --dry-run`, the whole command, as the scheduled job runs it (process start,
//     git, loading, reading, deciding, reporting);
//   - evaluateAll in this process (the same work without process start and reporting), with the
//     queries combined into batches (the default) and with `batch_size: 1` (every query on its
//     own, as before batching);
//   - the stages: metrics reads only, and loading policies and state only;
// and how many HTTP requests one tick sends to Prometheus.

const POLICIES = 50
const ROUNDS = 7
const NOW = new Date((SPIKE_START - 60) * 1000)
const CLI = join(import.meta.dirname, '../bin/phasegate.js')
const run = promisify(execFile)

let prometheus: PrometheusServer
let counter: TestServer
const temp: string[] = []

function repoWith(count: number, url: string, batchSize?: number): string {
  const files: Record<string, string> = {}
  const extra = batchSize ? { batch_size: batchSize } : {}
  for (let i = 0; i < count; i++)
    files[`policies/rollout_${i}.yaml`] = `feature: rollout_${i}\n${scenarioPolicyText(url, extra)}`
  const root = tempRepo(files)
  temp.push(root)
  for (let i = 0; i < count; i++) {
    const policy = parsePolicyText(files[`policies/rollout_${i}.yaml`]!, `rollout_${i}.yaml`)
    writeState(join(root, policy.statePath), { ...initialState(policy, NOW), phase: 'canary' })
  }
  return root
}

const inProcess = (cwd: string) => () =>
  evaluateAll({ cwd, policies: [], now: NOW, approvedBy: [], checks: [] })

const command = (cwd: string) => async () => {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'tick', '--dry-run', '--json', '--now', NOW.toISOString()],
    { cwd }
  )
  return JSON.parse(stdout) as unknown
}

// The metrics stage alone: every request of every policy read concurrently, policies preloaded.
async function readsOnly(cwd: string) {
  const rollouts = await loadRollouts(cwd, [])
  return () =>
    Promise.all(
      rollouts.map(rollout =>
        observe(rollout, currentState(rollout, NOW), { now: NOW, approvals: [], checks: [] })
      )
    )
}

/** Each task's median time over ROUNDS rounds, the tasks taking turns within a round. */
async function medianMs(tasks: Array<() => Promise<unknown>>): Promise<number[]> {
  const times: number[][] = tasks.map(() => [])
  for (let i = 0; i < ROUNDS; i++) {
    for (const [t, task] of tasks.entries()) {
      const start = performance.now()
      await task()
      times[t]!.push(performance.now() - start)
    }
  }
  return times.map(list => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!)
}

beforeAll(async () => {
  const features = Array.from({ length: POLICIES }, (_, i) => `rollout_${i}`)
  prometheus = await startPrometheus(openMetrics({ features, buckets: false }))
  // A transparent proxy, used only to count the requests of a tick.
  counter = await startCutoffProxy(prometheus.url, Infinity, async () => {})
}, 600_000)

afterAll(async () => {
  await counter?.close()
  await prometheus?.remove()
  for (const root of temp) rmSync(root, { recursive: true, force: true })
})

it(`prints the wall time of a tick over ${POLICIES} policies against one over a single policy`, async () => {
  const url = prometheus.url
  const repos = {
    one: repoWith(1, url),
    many: repoWith(POLICIES, url),
    oneSingly: repoWith(1, url, 1),
    manySingly: repoWith(POLICIES, url, 1)
  }
  // Warm up: module loading, connection pools, Prometheus's caches.
  for (const root of Object.values(repos)) await inProcess(root)()
  await command(repos.many)()

  const lines: string[] = []
  // The two sides' rounds alternate, so a change in the machine's load falls on both.
  const compare = async (
    name: string,
    one: () => Promise<unknown>,
    many: () => Promise<unknown>,
    goal = ''
  ) => {
    const [oneMs, manyMs] = await medianMs([one, many])
    lines.push(
      `${name}: 1 policy ${oneMs!.toFixed(1)} ms, ${POLICIES} policies ${manyMs!.toFixed(1)} ms, ` +
        `ratio ${(manyMs! / oneMs!).toFixed(2)}${goal}`
    )
  }
  await compare(
    'phasegate tick --dry-run (the whole command)',
    command(repos.one),
    command(repos.many),
    ' (goal < 3)'
  )
  lines.push('the same work in this process, without process start and reporting:')
  await compare(
    '  evaluateAll, queries combined (default)',
    inProcess(repos.one),
    inProcess(repos.many)
  )
  await compare(
    '  evaluateAll, batch_size: 1 (every query alone)',
    inProcess(repos.oneSingly),
    inProcess(repos.manySingly)
  )
  await compare(
    '    of which metrics reads (policies preloaded)',
    await readsOnly(repos.one),
    await readsOnly(repos.many)
  )
  await compare(
    '    of which loading policies and state',
    () => loadRollouts(repos.one, []),
    () => loadRollouts(repos.many, [])
  )

  // Requests per tick, counted through the proxy.
  const counted = async (count: number, batchSize?: number) => {
    const root = repoWith(count, counter.url, batchSize)
    const before = counter.received.length
    await inProcess(root)()
    return counter.received.length - before
  }
  lines.push(
    `HTTP requests per tick: 1 policy ${await counted(1)}, ${POLICIES} policies ${await counted(POLICIES)}` +
      ` (with batch_size: 1: ${await counted(1, 1)} and ${await counted(POLICIES, 1)})`
  )
  console.log(lines.join('\n'))
})
