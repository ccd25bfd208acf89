import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import { checkout, startRepo, stateOnMain, type Repo } from '../../support/action-harness.js'
import { startCutoffProxy, type TestServer } from '../../support/http-server.js'
import { startPrometheus, type PrometheusServer } from '../../support/prometheus.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, renderState } from '../../../src/state/file.js'

// The fast path from src/main.ts: a phasegate-alert repository_dispatch naming several features
// is one tick, with every feature's Prometheus queries combined, and a feature no policy rolls
// out is reported without stopping the others.

const START = Date.UTC(2026, 0, 5) / 1000
const NOW = new Date((START + 1800) * 1000)

function openMetrics(features: string[]): string {
  const lines = ['# TYPE app_error_ratio gauge']
  for (const feature of features)
    for (let t = START; t <= START + 3600; t += 15)
      lines.push(`app_error_ratio{feature="${feature}"} 0.5 ${t}`)
  return `${lines.join('\n')}\n# EOF\n`
}

const policyText = (feature: string, url: string) => `feature: ${feature}
deployment:
  order: [canary, limited, full]
  phases:
    canary: { user_percentage: 5 }
    limited: { user_percentage: 25 }
    full: { user_percentage: 100 }
metrics:
  provider: prometheus
  url: ${url}
  queries:
    error_rate: app_error_ratio{feature="{{feature}}"}
rollback:
  automatic_triggers:
    - error_rate > 0.05
`

let prometheus: PrometheusServer
let proxy: TestServer
let repo: Repo | undefined

beforeAll(async () => {
  prometheus = await startPrometheus(openMetrics(['alpha', 'beta']))
  proxy = await startCutoffProxy(prometheus.url, Infinity, async () => {})
})

afterAll(async () => {
  await repo?.cleanup()
  await proxy?.close()
  await prometheus?.remove()
})

describe('a phasegate-alert naming three features, one unknown', () => {
  test('rolls back the two known ones in one run, their queries combined, and reports the unknown one', async () => {
    const files: Record<string, string> = {}
    for (const feature of ['alpha', 'beta']) {
      const text = policyText(feature, proxy.url)
      const policy = parsePolicyText(text, `${feature}.yaml`)
      files[`policies/${feature}.yaml`] = text
      files[policy.statePath] = renderState({
        ...initialState(policy, new Date((START - 7200) * 1000)),
        phase: 'full'
      })
    }
    // The state landed two hours before the metrics began (as its entered_at says): the landing
    // commit's date is what a deployed phase is timed from, and readings must be newer than it.
    const landed = new Date((START - 7200) * 1000).toISOString()
    process.env.GIT_COMMITTER_DATE = process.env.GIT_AUTHOR_DATE = landed
    try {
      repo = await startRepo({ files })
    } finally {
      delete process.env.GIT_COMMITTER_DATE
      delete process.env.GIT_AUTHOR_DATE
    }
    const workspace = await checkout(repo.gh)
    const before = proxy.received.length
    const run = await runPhasegateFromSource(repo.gh, workspace, {
      now: NOW,
      event: 'repository_dispatch',
      payload: {
        action: 'phasegate-alert',
        client_payload: {
          alerts: ['alpha', 'ghost', 'beta'].map(feature => ({ labels: { feature } }))
        }
      }
    })
    for (const feature of ['alpha', 'beta'])
      expect(stateOnMain(repo.gh, `.phasegate/state/${feature}.yaml`)).toContain('phase: limited')
    expect(run.summary).toContain('**Roll back** full → limited')
    expect(run.summary).toContain('no policy rolls out feature "ghost"')
    expect(run.exitCode).not.toBe(0)
    // One tick: one prepare group per known feature, and both features' queries in one request.
    expect(run.stdout.match(/::group::\w+: prepare/g)).toEqual([
      '::group::alpha: prepare',
      '::group::beta: prepare'
    ])
    expect(proxy.received.length - before).toBe(1)
  })
})
