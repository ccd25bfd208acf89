import { afterEach, describe, expect, test } from 'vitest'
import {
  checkout,
  CHECKOUT_POLICY,
  HEALTHY,
  hoursAfter,
  openPulls,
  runPhasegate,
  seedFiles,
  startRepo,
  writeMetrics,
  type Repo
} from '../support/action-harness.js'

let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

describe('faults', () => {
  test('5xx and 429 from the API are retried without duplicate pull requests or issues', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    writeMetrics(workspace, { ...HEALTHY, error_rate: 0.015 })
    gh.inject({ method: 'GET', path: /\/pulls$/, status: 429, retryAfter: 1 })
    gh.inject({ method: 'POST', path: /\/pulls$/, status: 502, afterHandling: true })
    gh.inject({ method: 'POST', path: /\/issues$/, status: 500, afterHandling: true })
    gh.inject({ method: 'PATCH', path: /\/pulls\/\d+$/, status: 503 })
    const first = await runPhasegate(gh, workspace, { now: hoursAfter(1) })
    expect(first.exitCode, first.stdout).toBe(0)
    expect(first.stdout).toMatch(/rate limit on GET .*retrying after 1s/)
    const second = await runPhasegate(gh, workspace, { now: hoursAfter(2) })
    expect(second.exitCode, second.stdout).toBe(0)
    expect(gh.state.pulls()).toHaveLength(1)
    const issues = [...gh.state.issues.values()].filter(i => !i.pull)
    expect(issues).toHaveLength(1)
    expect(issues[0]!.labels).toContain('alert:error_rate')
    const failed = gh.state.requests
      .filter(r => r.status >= 429)
      .map(r => `${r.method} ${r.status}`)
    expect(failed.sort()).toEqual(['GET 429', 'PATCH 503', 'POST 500', 'POST 502'])
  })

  test('a missing metrics file holds with a clear status and opens nothing', async () => {
    repo = await startRepo({ files: seedFiles(CHECKOUT_POLICY) })
    const { gh } = repo
    const workspace = await checkout(gh)
    const run = await runPhasegate(gh, workspace, { now: hoursAfter(30) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs.decision).toBe('hold')
    expect(run.outputs.phase).toBe('canary')
    expect(run.summary).toContain('metrics file .phasegate/metrics/checkout.yaml not found')
    expect(openPulls(gh)).toHaveLength(0)
  })
})
