import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { hostname } from 'node:os'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { lockPath } from '../../src/git/lock.js'
import { createProvider } from '../../src/metrics/index.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { runPhasegateFromSource } from '../support/action-from-source.js'
import {
  checkout,
  hoursAfter,
  openPulls,
  searchFiles,
  startRepo,
  writeMetrics as writeActionMetrics
} from '../support/action-harness.js'
import { initialState, renderState } from '../../src/state/file.js'
import { at, HEALTHY, policy as parsePolicy, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics, transitionsIn } from '../support/repo.js'

// Fault injection for issue 11 (a rollback always happens; one blip never causes it): each row
// injects one fault into a real git repository (and a dead metrics port) through the CLI, or, for
// kinds 5 and 7, into the GitHub emulator (a ruleset) and a scripted metrics server on 127.0.0.1,
// and the suite prints a table fault / expected / seen. Each row's assertions are the row's test.

const STATE = '.phasegate/state/production_deployment.yaml'
const rows: Array<{ fault: string; expected: string; seen: string }> = []
const minutes = (n: number) => new Date(at(10).getTime() + n * 60_000).toISOString()

async function rollbacks(dir: string, feature = 'production_deployment'): Promise<number> {
  return (await transitionsIn(dir, feature)).filter(
    h => h.kind === 'rollback' || h.kind === 'emergency'
  ).length
}

function atFullProduction(): string {
  const policy = parsePolicy(SEED_POLICY_TEXT, 'production_deployment.yaml')
  return tempRepo({
    'policies/production_deployment.yaml': SEED_POLICY_TEXT,
    [STATE]: renderState({ ...initialState(policy, at(0)), phase: 'full_production' })
  })
}

afterAll(() => {
  const width = (k: 'fault' | 'expected') => Math.max(k.length, ...rows.map(r => r[k].length))
  const line = (f: string, e: string, s: string) =>
    `${f.padEnd(width('fault'))} | ${e.padEnd(width('expected'))} | ${s}`
  console.log(
    [
      '',
      line('fault', 'expected', 'seen'),
      ...rows.map(r => line(r.fault, r.expected, r.seen))
    ].join('\n')
  )
})

describe('fault injection', () => {
  it('kind 1: the advance being undone also changed app.txt, which changed since', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    writeFileSync(join(dir, 'app.txt'), 'v2\n')
    sh(dir, 'git', 'add', 'app.txt')
    sh(dir, 'git', 'commit', '-q', '--amend', '--no-edit')
    writeFileSync(join(dir, 'app.txt'), 'v3\n')
    sh(dir, 'git', 'commit', '-qam', 'app v3')
    const run = await cli(dir, 'rollback', '--emergency', '--reason', 'r', '--operator', 'o')
    const seen = `exit ${run.code}, ${await rollbacks(dir)} rollback, app.txt ${sh(dir, 'cat', 'app.txt')}`
    rows.push({
      fault: 'revert conflicts (emergency)',
      expected: 'exit 0, 1 rollback, app.txt v3',
      seen
    })
    expect(seen).toBe('exit 0, 1 rollback, app.txt v3')
  })

  it('kind 10: two ticks a minute apart on one bad reading', async () => {
    const dir = atFullProduction()
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    await cli(dir, 'tick', '--now', minutes(0))
    await cli(dir, 'tick', '--now', minutes(1))
    const seen = `${await rollbacks(dir)} rollback`
    rows.push({ fault: 'same bad reading, 2 ticks 1m apart', expected: '1 rollback', seen })
    expect(seen).toBe('1 rollback')
  })

  it('kind 9: the metrics server is down for one tick', async () => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise<void>(resolve => server.close(() => resolve()))
    const text = `feature: search
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
metrics:
  provider: prometheus
  url: http://127.0.0.1:${port}
  timeout_ms: 300
  queries:
    error_rate: sum(rate(errors[{{window}}]))
rollback:
  automatic_triggers: [error_rate > 0.05, system_failure]
`
    const policy = parsePolicy(text, 'search.yaml')
    const dir = tempRepo({
      'policies/search.yaml': text,
      [policy.statePath]: renderState({ ...initialState(policy, at(0)), phase: 'full' })
    })
    await cli(dir, 'tick', '--now', minutes(0))
    const afterOne = await rollbacks(dir, 'search')
    await cli(dir, 'tick', '--now', minutes(5))
    await cli(dir, 'tick', '--now', minutes(10))
    const seen = `after 1 run: ${afterOne}, after 3 runs: ${await rollbacks(dir, 'search')}`
    rows.push({ fault: 'metrics server down', expected: 'after 1 run: 0, after 3 runs: 1', seen })
    expect(seen).toBe('after 1 run: 0, after 3 runs: 1')
  })

  it('kind 3: the state file is deleted after an emergency rollback', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'rollback', '--emergency', '--reason', 'r', '--operator', 'o')
    sh(dir, 'git', 'rm', '-q', STATE)
    sh(dir, 'git', 'commit', '-qm', 'tidy')
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const seen = `exit ${run.code}, ${sh(dir, 'git', 'rev-parse', 'HEAD') === head ? 'no commit' : 'committed'}`
    rows.push({ fault: 'state file deleted', expected: 'exit 1, no commit', seen })
    expect(seen).toBe('exit 1, no commit')
  })

  it('kind 8: a lock left by a run that died', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!
    writeFileSync(
      await lockPath(dir),
      JSON.stringify({ pid: gone, host: hostname(), command: 'tick', since: 'x' })
    )
    const run = await cli(dir, 'rollback', '--emergency', '--reason', 'r', '--operator', 'o')
    const seen = `exit ${run.code}, ${await rollbacks(dir)} rollback`
    rows.push({ fault: 'stale lock (dead pid)', expected: 'exit 0, 1 rollback', seen })
    expect(seen).toBe('exit 0, 1 rollback')
  })

  it('kind 2: a feature name git cannot use in a branch', async () => {
    const dir = tempRepo({
      'policies/p.yaml': SEED_POLICY_TEXT.replace(
        'deployment:\n',
        'feature: pay..v2\ndeployment:\n'
      )
    })
    const run = await cli(dir, 'init')
    const seen = `exit ${run.code}, ${/p\.yaml:\d+:\d+/.test(run.err) ? 'located' : 'unlocated'}`
    rows.push({ fault: 'feature "pay..v2"', expected: 'exit 1, located', seen })
    expect(seen).toBe('exit 1, located')
  })

  it('kind 7: a 40 MiB metrics answer that would read as a passing value', async () => {
    const padding = Buffer.alloc(64 * 1024, ' ')
    const server = createHttpServer((request, response) => {
      request.resume()
      request.on('end', async () => {
        response.writeHead(200, { 'Content-Type': 'application/json' })
        response.write(
          '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"0.001"]}]}}'
        )
        let closed = false
        response.on('close', () => (closed = true))
        for (let sent = 0; sent < 40 << 20 && !closed; sent += padding.length)
          if (!response.write(padding))
            await new Promise(resolve => {
              response.once('drain', resolve)
              response.once('close', resolve)
            })
        if (!closed) response.end()
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const metrics = parsePolicyText(
        `feature: f\ndeployment: {}\nmetrics:\n  provider: prometheus\n  url: http://127.0.0.1:${port}\n  retries: 0\n  queries:\n    error_rate: x\n`,
        'f.yaml'
      ).metrics
      const [reading] = await createProvider(metrics).read([{ metric: 'error_rate' }], {
        feature: 'f',
        phase: 'canary',
        now: at(10),
        baseDir: '.',
        window: '5m',
        env: {}
      })
      const seen = reading!.value === null ? 'no data' : `value ${reading!.value}`
      rows.push({ fault: '40 MiB metrics answer', expected: 'no data', seen })
      expect(seen).toBe('no data')
    } finally {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  })

  it('kind 5: a ruleset refuses the rollback push (restricted updates)', async () => {
    const repo = await startRepo({ files: searchFiles('full'), ruleset: { restrictUpdates: true } })
    try {
      const workspace = await checkout(repo.gh)
      writeActionMetrics(workspace, { error_rate: 0.5 }, 'search')
      const run = await runPhasegateFromSource(repo.gh, workspace, { now: hoursAfter(1) })
      const pr = openPulls(repo.gh).some(p => p.pull!.head === 'phasegate/search/rollback')
      const named = run.summary.includes('updates to the branch are restricted')
      const seen = `exit ${run.exitCode}, ${pr ? 'rollback PR' : 'no PR'}, ${named ? 'rule named' : 'rule not named'}`
      rows.push({
        fault: 'ruleset refuses push',
        expected: 'exit 0, rollback PR, rule named',
        seen
      })
      expect(seen).toBe('exit 0, rollback PR, rule named')
    } finally {
      await repo.cleanup()
    }
  })
})
